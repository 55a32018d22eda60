"""Wrong answers for notebook 07 (tf.function and tf.data)."""

from tests.wrong_answers import Wrong

WRONG_ANSWERS = {
    "nb07_ex1_solution": [
        Wrong(
            "no tf.function: a plain Python step runs eagerly and appends to traces on every call",
            '''
def make_train_step(W, b, learning_rate, traces):
    def step(inputs, targets):
        traces.append(inputs.shape)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(learning_rate * grad_W)
        b.assign_sub(learning_rate * grad_b)
        return loss
    return step
''',
        ),
        Wrong(
            "logs the loss with .numpy() inside the graph (no value while tracing)",
            '''
def make_train_step(W, b, learning_rate, traces):
    @tf.function
    def step(inputs, targets):
        traces.append(inputs.shape)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
        print("loss:", loss.numpy())
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(learning_rate * grad_W)
        b.assign_sub(learning_rate * grad_b)
        return loss
    return step
''',
        ),
        Wrong(
            "counts calls with a tf.py_function, so traces grows on every call instead of every trace",
            '''
def make_train_step(W, b, learning_rate, traces):
    def record():
        traces.append("call")
        return 0

    @tf.function
    def step(inputs, targets):
        tf.py_function(record, [], tf.int32)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(learning_rate * grad_W)
        b.assign_sub(learning_rate * grad_b)
        return loss
    return step
''',
        ),
        Wrong(
            "returns the loss measured after the update",
            '''
def make_train_step(W, b, learning_rate, traces):
    @tf.function
    def step(inputs, targets):
        traces.append(inputs.shape)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(learning_rate * grad_W)
        b.assign_sub(learning_rate * grad_b)
        return tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
    return step
''',
        ),
        Wrong(
            "hard-coded to the visible check: appends to traces once, when the step is made, not when it traces",
            '''
def make_train_step(W, b, learning_rate, traces):
    traces.append("made")

    @tf.function
    def step(inputs, targets):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(learning_rate * grad_W)
        b.assign_sub(learning_rate * grad_b)
        return loss
    return step
''',
            hardcoded=True,
        ),
    ],
    "nb07_ex2_solution": [
        Wrong(
            "plain @tf.function without an input signature: new batch sizes and new lists trace again",
            '''
def make_standardize(n_features):
    @tf.function
    def standardize(x, mean, std):
        return (x - mean) / std
    return standardize
''',
        ),
        Wrong(
            "converts mean and std to tensors in a Python wrapper: fixes the lists, not the batch sizes",
            '''
def make_standardize(n_features):
    @tf.function
    def inner(x, mean, std):
        return (x - mean) / std

    def standardize(x, mean, std):
        return inner(tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(mean, tf.float32),
                     tf.convert_to_tensor(std, tf.float32))
    standardize.experimental_get_tracing_count = inner.experimental_get_tracing_count
    return standardize
''',
        ),
        Wrong(
            "reduce_retracing=True instead of an input signature: the second batch size still traces again",
            '''
def make_standardize(n_features):
    @tf.function(reduce_retracing=True)
    def standardize(x, mean, std):
        x = tf.convert_to_tensor(x, tf.float32)
        return (x - tf.convert_to_tensor(mean, tf.float32)) / tf.convert_to_tensor(std, tf.float32)
    return standardize
''',
        ),
        Wrong(
            "fixes the batch size in the signature (shape=(8, n_features))",
            '''
def make_standardize(n_features):
    @tf.function(input_signature=[tf.TensorSpec(shape=(8, n_features), dtype=tf.float32),
                                  tf.TensorSpec(shape=(n_features,), dtype=tf.float32),
                                  tf.TensorSpec(shape=(n_features,), dtype=tf.float32)])
    def standardize(x, mean, std):
        return (x - mean) / std
    return standardize
''',
        ),
        Wrong(
            "hard-coded to the visible check: a signature for exactly 3 features",
            '''
def make_standardize(n_features):
    @tf.function(input_signature=[tf.TensorSpec(shape=(None, 3), dtype=tf.float32),
                                  tf.TensorSpec(shape=(3,), dtype=tf.float32),
                                  tf.TensorSpec(shape=(3,), dtype=tf.float32)])
    def standardize(x, mean, std):
        return (x - mean) / std
    return standardize
''',
            hardcoded=True,
        ),
    ],
    "nb07_ex3_solution": [
        Wrong(
            "drop_remainder=True loses the last partial batch",
            '''
def make_eval_dataset(x, y, batch_size, mean, std):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.map(lambda a, b: ((tf.cast(a, tf.float32) - mean) / std, b))
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "shuffles the evaluation data",
            '''
def make_eval_dataset(x, y, batch_size, mean, std):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0)
    ds = ds.map(lambda a, b: ((tf.cast(a, tf.float32) - mean) / std, b))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "standardizes with the data's own mean and std instead of the given ones",
            '''
def make_eval_dataset(x, y, batch_size, mean, std):
    own_mean, own_std = x.mean(axis=0), x.std(axis=0)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.map(lambda a, b: ((tf.cast(a, tf.float32) - own_mean) / own_std, b))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "forgets prefetch at the end",
            '''
def make_eval_dataset(x, y, batch_size, mean, std):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.map(lambda a, b: ((tf.cast(a, tf.float32) - mean) / std, b))
    return ds.batch(batch_size)
''',
        ),
        Wrong(
            "prefetches first, then maps and batches (prefetch is not the last step)",
            '''
def make_eval_dataset(x, y, batch_size, mean, std):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).prefetch(tf.data.AUTOTUNE)
    ds = ds.map(lambda a, b: ((tf.cast(a, tf.float32) - mean) / std, b))
    return ds.batch(batch_size)
''',
        ),
        Wrong(
            "hard-coded to the visible check: batches of 4 whatever batch_size says",
            '''
def make_eval_dataset(x, y, batch_size, mean, std):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.map(lambda a, b: ((tf.cast(a, tf.float32) - mean) / std, b))
    return ds.batch(4).prefetch(tf.data.AUTOTUNE)
''',
            hardcoded=True,
        ),
    ],
    "nb07_ex4_solution": [
        Wrong(
            "reshuffle_each_iteration=False: every epoch has the same order",
            '''
def make_train_dataset(x, y, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=False)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "shuffles after batching: only the order of the batches changes",
            '''
def make_train_dataset(x, y, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
    return ds.shuffle(len(x), seed=seed).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "a buffer of one batch: samples only move a few places",
            '''
def make_train_dataset(x, y, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(batch_size, seed=seed)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "no seed: a rebuilt dataset gives another order",
            '''
def make_train_dataset(x, y, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "cache() after shuffle() replays the first epoch's order forever",
            '''
def make_train_dataset(x, y, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).cache()
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "shuffles once with NumPy before building the dataset: the same order every epoch",
            '''
def make_train_dataset(x, y, batch_size, seed):
    order = np.random.default_rng(seed).permutation(len(x))
    ds = tf.data.Dataset.from_tensor_slices((x[order], y[order]))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
        ),
        Wrong(
            "hard-coded to the visible check: seed 0 whatever seed says",
            '''
def make_train_dataset(x, y, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=0)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
''',
            hardcoded=True,
        ),
    ],
}
