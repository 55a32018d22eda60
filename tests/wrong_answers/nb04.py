"""Wrong answers for notebook 04 (a linear classifier from scratch)."""

from tests.wrong_answers import Right, Wrong

WRONG_ANSWERS = {
    "nb04_ex1_solution": [
        Wrong(
            "copies listing 3-19 without the shape check: (N, 1) vs (N,) broadcasts silently",
            """
def mse_loss(targets, predictions):
    return tf.reduce_mean(tf.square(targets - predictions))
""",
        ),
        Wrong(
            "sums the squared errors instead of averaging them",
            """
def mse_loss(targets, predictions):
    if tuple(targets.shape) != tuple(predictions.shape):
        raise ValueError("shape mismatch")
    return tf.reduce_sum(tf.square(targets - predictions))
""",
        ),
        Wrong(
            "absolute error instead of squared error",
            """
def mse_loss(targets, predictions):
    if tuple(targets.shape) != tuple(predictions.shape):
        raise ValueError("shape mismatch")
    return tf.reduce_mean(tf.abs(targets - predictions))
""",
        ),
        Wrong(
            "computes the loss in NumPy: right value, but a NumPy scalar the tape cannot differentiate",
            """
def mse_loss(targets, predictions):
    if tuple(targets.shape) != tuple(predictions.shape):
        raise ValueError("shape mismatch")
    return np.mean(np.square(np.asarray(targets) - np.asarray(predictions)))
""",
        ),
        Wrong(
            "NumPy value wrapped in tf.constant: passes the type check, but the gradient is None",
            """
def mse_loss(targets, predictions):
    if tuple(targets.shape) != tuple(predictions.shape):
        raise ValueError("shape mismatch")
    diff = np.asarray(targets, dtype="float32") - np.asarray(predictions, dtype="float32")
    return tf.constant(np.mean(diff ** 2), dtype=tf.float32)
""",
        ),
        Wrong(
            "hard-coded to the visible 4-point example",
            """
def mse_loss(targets, predictions):
    if tuple(targets.shape) != tuple(predictions.shape):
        raise ValueError("shape mismatch")
    return tf.constant(0.075, dtype=tf.float32)
""",
            hardcoded=True,
        ),
    ],
    "nb04_ex2_solution": [
        Wrong(
            "gradient ascent: assign_add instead of assign_sub",
            """
def train_step(inputs, targets, W, b, learning_rate):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
    grad_W, grad_b = tape.gradient(loss, [W, b])
    W.assign_add(learning_rate * grad_W)
    b.assign_add(learning_rate * grad_b)
    return loss
""",
        ),
        Wrong(
            "rebinds the local names instead of updating the variables in place",
            """
def train_step(inputs, targets, W, b, learning_rate):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
    grad_W, grad_b = tape.gradient(loss, [W, b])
    W = W - learning_rate * grad_W
    b = b - learning_rate * grad_b
    return loss
""",
        ),
        Wrong(
            "ignores the learning_rate argument (the book's 0.1 is hard-wired)",
            """
def train_step(inputs, targets, W, b, learning_rate):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
    grad_W, grad_b = tape.gradient(loss, [W, b])
    W.assign_sub(0.1 * grad_W)
    b.assign_sub(0.1 * grad_b)
    return loss
""",
        ),
        Wrong(
            "returns the loss after the update instead of the loss the gradient was computed from",
            """
def train_step(inputs, targets, W, b, learning_rate):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
    grad_W, grad_b = tape.gradient(loss, [W, b])
    W.assign_sub(learning_rate * grad_W)
    b.assign_sub(learning_rate * grad_b)
    return tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
""",
        ),
        Wrong(
            "updates only W and forgets the bias",
            """
def train_step(inputs, targets, W, b, learning_rate):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(targets - (tf.matmul(inputs, W) + b)))
    grad_W = tape.gradient(loss, W)
    W.assign_sub(learning_rate * grad_W)
    return loss
""",
        ),
        Wrong(
            "hard-coded to the visible 4-point example",
            """
def train_step(inputs, targets, W, b, learning_rate):
    W.assign([[0.575], [-0.325]])
    b.assign([0.1])
    return tf.constant(0.625)
""",
            hardcoded=True,
        ),
    ],
    "nb04_ex3_solution": [
        Wrong(
            "thresholds at 0 instead of 0.5",
            """
def accuracy(W, b, inputs, targets):
    predictions = (tf.matmul(inputs, W) + b).numpy()
    return float(np.mean((predictions > 0) == (np.asarray(targets) > 0.5)))
""",
        ),
        Wrong(
            ">= 0.5 instead of > 0.5: an output of exactly 0.5 counts as class 1",
            """
def accuracy(W, b, inputs, targets):
    predictions = (tf.matmul(inputs, W) + b).numpy()
    return float(np.mean((predictions >= 0.5) == (np.asarray(targets) > 0.5)))
""",
        ),
        Wrong(
            "compares (N,) predictions with (N, 1) targets: broadcasting averages an N x N matrix",
            """
def accuracy(W, b, inputs, targets):
    predicted_class = (tf.matmul(inputs, W) + b).numpy()[:, 0] > 0.5
    return float(np.mean(predicted_class == (np.asarray(targets) > 0.5)))
""",
        ),
        Wrong(
            "compares the raw outputs with the targets (no threshold)",
            """
def accuracy(W, b, inputs, targets):
    predictions = (tf.matmul(inputs, W) + b).numpy()
    return float(np.mean(predictions == np.asarray(targets)))
""",
        ),
        Wrong(
            "returns the number of correct samples instead of the fraction",
            """
def accuracy(W, b, inputs, targets):
    predictions = (tf.matmul(inputs, W) + b).numpy()
    return float(np.sum((predictions > 0.5) == (np.asarray(targets) > 0.5)))
""",
        ),
        Wrong(
            "hard-coded: 0.75 for the 4-point example, 0.99 otherwise",
            """
def accuracy(W, b, inputs, targets):
    return 0.75 if len(inputs) == 4 else 0.99
""",
            hardcoded=True,
        ),
    ],
    "nb04_ex4_solution": [
        Wrong(
            "forgets the 0.5 threshold: solves w1*x + w2*y + b = 0",
            """
def decision_line(W, b):
    w1, w2 = (float(v) for v in np.asarray(W)[:, 0])
    if w2 == 0.0:
        raise ValueError("vertical line")
    return -w1 / w2, -float(np.asarray(b)[0]) / w2
""",
        ),
        Wrong(
            "sign error in the slope",
            """
def decision_line(W, b):
    w1, w2 = (float(v) for v in np.asarray(W)[:, 0])
    if w2 == 0.0:
        raise ValueError("vertical line")
    return w1 / w2, (0.5 - float(np.asarray(b)[0])) / w2
""",
        ),
        Wrong(
            "swaps w1 and w2",
            """
def decision_line(W, b):
    w2, w1 = (float(v) for v in np.asarray(W)[:, 0])
    if w2 == 0.0:
        raise ValueError("vertical line")
    return -w1 / w2, (0.5 - float(np.asarray(b)[0])) / w2
""",
        ),
        Wrong(
            "no check for w2 == 0: Python raises ZeroDivisionError, not ValueError",
            """
def decision_line(W, b):
    w1, w2 = (float(v) for v in np.asarray(W)[:, 0])
    return -w1 / w2, (0.5 - float(np.asarray(b)[0])) / w2
""",
        ),
        Wrong(
            "hard-coded to W = [[1], [2]], b = [0.1]",
            """
def decision_line(W, b):
    if float(np.asarray(W)[1, 0]) == 0.0:
        raise ValueError("vertical line")
    return -0.5, 0.2
""",
            hardcoded=True,
        ),
    ],
    "nb04_ex5_solution": [
        Wrong(
            "never shuffles: batches in file order (all class 0 first)",
            """
def train_minibatch(inputs, targets, epochs, batch_size, learning_rate, seed):
    n, d = inputs.shape
    k = targets.shape[1]
    W = tf.Variable(tf.zeros((d, k)))
    b = tf.Variable(tf.zeros((k,)))
    epoch_losses = []
    for _ in range(epochs):
        batch_losses = []
        for start in range(0, n, batch_size):
            x_batch, y_batch = inputs[start:start + batch_size], targets[start:start + batch_size]
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(y_batch - (tf.matmul(x_batch, W) + b)))
            grad_W, grad_b = tape.gradient(loss, [W, b])
            W.assign_sub(learning_rate * grad_W)
            b.assign_sub(learning_rate * grad_b)
            batch_losses.append(float(loss))
        epoch_losses.append(float(np.mean(batch_losses)))
    return W, b, epoch_losses
""",
        ),
        Wrong(
            "re-creates the generator inside the epoch loop: the same order every epoch",
            """
def train_minibatch(inputs, targets, epochs, batch_size, learning_rate, seed):
    n, d = inputs.shape
    k = targets.shape[1]
    W = tf.Variable(tf.zeros((d, k)))
    b = tf.Variable(tf.zeros((k,)))
    epoch_losses = []
    for _ in range(epochs):
        perm = np.random.default_rng(seed).permutation(n)
        batch_losses = []
        for start in range(0, n, batch_size):
            index = perm[start:start + batch_size]
            x_batch, y_batch = inputs[index], targets[index]
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(y_batch - (tf.matmul(x_batch, W) + b)))
            grad_W, grad_b = tape.gradient(loss, [W, b])
            W.assign_sub(learning_rate * grad_W)
            b.assign_sub(learning_rate * grad_b)
            batch_losses.append(float(loss))
        epoch_losses.append(float(np.mean(batch_losses)))
    return W, b, epoch_losses
""",
        ),
        Wrong(
            "drops the last, smaller batch",
            """
def train_minibatch(inputs, targets, epochs, batch_size, learning_rate, seed):
    n, d = inputs.shape
    k = targets.shape[1]
    W = tf.Variable(tf.zeros((d, k)))
    b = tf.Variable(tf.zeros((k,)))
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        batch_losses = []
        for start in range(0, n - batch_size + 1, batch_size):
            index = perm[start:start + batch_size]
            x_batch, y_batch = inputs[index], targets[index]
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(y_batch - (tf.matmul(x_batch, W) + b)))
            grad_W, grad_b = tape.gradient(loss, [W, b])
            W.assign_sub(learning_rate * grad_W)
            b.assign_sub(learning_rate * grad_b)
            batch_losses.append(float(loss))
        epoch_losses.append(float(np.mean(batch_losses)))
    return W, b, epoch_losses
""",
        ),
        Wrong(
            "reports the last batch's loss as the epoch loss",
            """
def train_minibatch(inputs, targets, epochs, batch_size, learning_rate, seed):
    n, d = inputs.shape
    k = targets.shape[1]
    W = tf.Variable(tf.zeros((d, k)))
    b = tf.Variable(tf.zeros((k,)))
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        for start in range(0, n, batch_size):
            index = perm[start:start + batch_size]
            x_batch, y_batch = inputs[index], targets[index]
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(y_batch - (tf.matmul(x_batch, W) + b)))
            grad_W, grad_b = tape.gradient(loss, [W, b])
            W.assign_sub(learning_rate * grad_W)
            b.assign_sub(learning_rate * grad_b)
        epoch_losses.append(float(loss))
    return W, b, epoch_losses
""",
        ),
        Wrong(
            "starts from random weights like listing 3-17 instead of zeros",
            """
def train_minibatch(inputs, targets, epochs, batch_size, learning_rate, seed):
    n, d = inputs.shape
    k = targets.shape[1]
    W = tf.Variable(tf.random.uniform((d, k), seed=seed))
    b = tf.Variable(tf.zeros((k,)))
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        batch_losses = []
        for start in range(0, n, batch_size):
            index = perm[start:start + batch_size]
            x_batch, y_batch = inputs[index], targets[index]
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(y_batch - (tf.matmul(x_batch, W) + b)))
            grad_W, grad_b = tape.gradient(loss, [W, b])
            W.assign_sub(learning_rate * grad_W)
            b.assign_sub(learning_rate * grad_b)
            batch_losses.append(float(loss))
        epoch_losses.append(float(np.mean(batch_losses)))
    return W, b, epoch_losses
""",
        ),
        Wrong(
            "hard-coded: the same weights and losses whatever the data",
            """
def train_minibatch(inputs, targets, epochs, batch_size, learning_rate, seed):
    W = tf.Variable([[0.18], [-0.12]])
    b = tf.Variable([0.37])
    return W, b, [0.0846, 0.0394, 0.0315, 0.028, 0.0267]
""",
            hardcoded=True,
        ),
    ],
}

# Right values without GradientTape: the analytic gradient that section 6 derives.
WRONG_ANSWERS["nb04_ex2_solution"] += [
    Wrong(
        "updates with the analytic gradient 2/(N k) X^T R instead of the tape's",
        '''
def train_step(inputs, targets, W, b, learning_rate):
    residual = tf.matmul(inputs, W) + b - targets
    loss = tf.reduce_mean(tf.square(residual))
    scale = 2.0 / tf.cast(tf.size(residual), tf.float32)
    W.assign_sub(learning_rate * scale * tf.matmul(inputs, residual, transpose_a=True))
    b.assign_sub(learning_rate * scale * tf.reduce_sum(residual, axis=0))
    return loss
''',
    ),
]
WRONG_ANSWERS["nb04_ex5_solution"] += [
    Wrong(
        "the right procedure with the analytic gradient instead of a tape",
        '''
def train_minibatch(inputs, targets, epochs, batch_size, learning_rate, seed):
    n, d = inputs.shape
    k = targets.shape[1]
    W = tf.Variable(tf.zeros((d, k)))
    b = tf.Variable(tf.zeros((k,)))
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for _ in range(epochs):
        perm = rng.permutation(n)
        batch_losses = []
        for start in range(0, n, batch_size):
            index = perm[start:start + batch_size]
            x_batch, y_batch = inputs[index], targets[index]
            residual = tf.matmul(x_batch, W) + b - y_batch
            loss = tf.reduce_mean(tf.square(residual))
            scale = 2.0 / tf.cast(tf.size(residual), tf.float32)
            W.assign_sub(learning_rate * scale * tf.matmul(x_batch, residual, transpose_a=True))
            b.assign_sub(learning_rate * scale * tf.reduce_sum(residual, axis=0))
            batch_losses.append(float(loss))
        epoch_losses.append(float(np.mean(batch_losses)))
    return W, b, epoch_losses
''',
    ),
]

OTHER_RIGHT_ANSWERS = {
    "nb04_ex2_solution": [
        Right(
            "keras.ops for the loss and one tape.gradient() call per variable (persistent tape)",
            '''
def train_step(inputs, targets, W, b, learning_rate):
    with tf.GradientTape(persistent=True) as tape:
        loss = keras.ops.mean(keras.ops.square(targets - (keras.ops.matmul(inputs, W) + b)))
    grad_W = tape.gradient(loss, W)
    grad_b = tape.gradient(loss, b)
    del tape
    W.assign_sub(learning_rate * grad_W)
    b.assign_sub(learning_rate * grad_b)
    return loss
''',
        ),
    ],
}
