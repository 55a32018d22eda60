"""Wrong answers for notebook 06 (compile, fit, validation and predict)."""

from tests.wrong_answers import Right, Wrong

WRONG_ANSWERS = {
    "nb06_ex1_solution": [
        Wrong(
            "compiles with the string 'rmsprop', so the learning rate argument is ignored (stays 0.001)",
            '''
def build_linear_classifier(input_dim, learning_rate):
    model = keras.Sequential([keras.Input(shape=(input_dim,)), keras.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mean_squared_error", metrics=["accuracy"])
    return model
''',
        ),
        Wrong(
            "uses the Keras 2 spelling RMSprop(lr=...), which Keras 3 rejects",
            '''
def build_linear_classifier(input_dim, learning_rate):
    model = keras.Sequential([keras.Input(shape=(input_dim,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.RMSprop(lr=learning_rate),
                  loss="mean_squared_error", metrics=["accuracy"])
    return model
''',
        ),
        Wrong(
            "binary crossentropy on the raw linear output instead of mean squared error",
            '''
def build_linear_classifier(input_dim, learning_rate):
    model = keras.Sequential([keras.Input(shape=(input_dim,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  loss="binary_crossentropy", metrics=["binary_accuracy"])
    return model
''',
        ),
        Wrong(
            "one output unit per input feature instead of Dense(1)",
            '''
def build_linear_classifier(input_dim, learning_rate):
    model = keras.Sequential([keras.Input(shape=(input_dim,)), keras.layers.Dense(input_dim)])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  loss="mean_squared_error", metrics=["binary_accuracy"])
    return model
''',
        ),
        Wrong(
            "hard-coded to the visible check: always 2 inputs and learning rate 0.1",
            '''
def build_linear_classifier(input_dim, learning_rate):
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1),
                  loss=keras.losses.MeanSquaredError(),
                  metrics=[keras.metrics.BinaryAccuracy()])
    return model
''',
            hardcoded=True,
        ),
    ],
    "nb06_ex2_solution": [
        Wrong(
            "swaps categorical and sparse categorical crossentropy",
            '''
def choose_loss_and_metric(task, n_classes, labels_are_integers):
    task = task.strip().lower()
    if task == "regression":
        return "mean_squared_error", "mean_absolute_error"
    if task != "classification":
        raise ValueError(task)
    if n_classes == 2 and labels_are_integers:
        return "binary_crossentropy", "binary_accuracy"
    if labels_are_integers:
        return "categorical_crossentropy", "categorical_accuracy"
    return "sparse_categorical_crossentropy", "sparse_categorical_accuracy"
''',
        ),
        Wrong(
            "binary crossentropy for every two-class problem, even with one-hot labels",
            '''
def choose_loss_and_metric(task, n_classes, labels_are_integers):
    task = task.strip().lower()
    if task == "regression":
        return "mean_squared_error", "mean_absolute_error"
    if task != "classification":
        raise ValueError(task)
    if n_classes == 2:
        return "binary_crossentropy", "binary_accuracy"
    if labels_are_integers:
        return "sparse_categorical_crossentropy", "sparse_categorical_accuracy"
    return "categorical_crossentropy", "categorical_accuracy"
''',
        ),
        Wrong(
            "compares the task case-sensitively and treats any other task as classification",
            '''
def choose_loss_and_metric(task, n_classes, labels_are_integers):
    if task == "regression":
        return "mean_squared_error", "mean_absolute_error"
    if not labels_are_integers:
        return "categorical_crossentropy", "categorical_accuracy"
    if n_classes == 2:
        return "binary_crossentropy", "binary_accuracy"
    return "sparse_categorical_crossentropy", "sparse_categorical_accuracy"
''',
        ),
        Wrong(
            "hard-coded to the three visible cases",
            '''
def choose_loss_and_metric(task, n_classes, labels_are_integers):
    if task == "regression":
        return "mean_squared_error", "mean_absolute_error"
    if n_classes == 10:
        return "sparse_categorical_crossentropy", "sparse_categorical_accuracy"
    return "binary_crossentropy", "binary_accuracy"
''',
            hardcoded=True,
        ),
    ],
    "nb06_ex3_solution": [
        Wrong(
            "no shuffling: the validation set is the first part of the data as it comes",
            '''
def split(x, y, val_fraction, seed):
    num_val = int(val_fraction * len(x))
    return x[num_val:], y[num_val:], x[:num_val], y[:num_val]
''',
        ),
        Wrong(
            "shuffles x and y with two different permutations, so inputs lose their targets",
            '''
def split(x, y, val_fraction, seed):
    rng = np.random.default_rng(seed)
    x, y = x[rng.permutation(len(x))], y[rng.permutation(len(y))]
    num_val = int(val_fraction * len(x))
    return x[num_val:], y[num_val:], x[:num_val], y[:num_val]
''',
        ),
        Wrong(
            "np.random.permutation without using the seed: not reproducible",
            '''
def split(x, y, val_fraction, seed):
    permutation = np.random.permutation(len(x))
    num_val = int(val_fraction * len(x))
    return (x[permutation[num_val:]], y[permutation[num_val:]],
            x[permutation[:num_val]], y[permutation[:num_val]])
''',
        ),
        Wrong(
            "rounds the validation size instead of int() (floor)",
            '''
def split(x, y, val_fraction, seed):
    permutation = np.random.default_rng(seed).permutation(len(x))
    num_val = round(val_fraction * len(x) + 1e-9)
    return (x[permutation[num_val:]], y[permutation[num_val:]],
            x[permutation[:num_val]], y[permutation[:num_val]])
''',
        ),
        Wrong(
            "shuffles the caller's arrays in place",
            '''
def split(x, y, val_fraction, seed):
    permutation = np.random.default_rng(seed).permutation(len(x))
    x[:] = x[permutation]
    y[:] = y[permutation]
    num_val = int(val_fraction * len(x))
    return x[num_val:].copy(), y[num_val:].copy(), x[:num_val].copy(), y[:num_val].copy()
''',
        ),
        Wrong(
            "hard-coded to the visible check: ignores seed and val_fraction (fixed seed 0, 30 %)",
            '''
def split(x, y, val_fraction, seed):
    permutation = np.random.default_rng(0).permutation(len(x))
    num_val = int(0.3 * len(x))
    return (x[permutation[num_val:]], y[permutation[num_val:]],
            x[permutation[:num_val]], y[permutation[:num_val]])
''',
            hardcoded=True,
        ),
    ],
    "nb06_ex4_solution": [
        Wrong(
            "forgets validation_data, so nothing is validated",
            '''
def train_model(model, x_train, y_train, x_val, y_val):
    return model.fit(x_train, y_train, epochs=10, batch_size=8, verbose=0)
''',
        ),
        Wrong(
            "validation_split carves a validation set out of the training data instead of using the given one",
            '''
def train_model(model, x_train, y_train, x_val, y_val):
    return model.fit(x_train, y_train, epochs=10, batch_size=8, validation_split=0.3, verbose=0)
''',
        ),
        Wrong(
            "trains on training and validation data together (leakage)",
            '''
def train_model(model, x_train, y_train, x_val, y_val):
    x_all = np.concatenate([x_train, x_val])
    y_all = np.concatenate([y_train, y_val])
    return model.fit(x_all, y_all, epochs=10, batch_size=8,
                     validation_data=(x_val, y_val), verbose=0)
''',
        ),
        Wrong(
            "swaps the roles: trains on the validation set and validates on the training set",
            '''
def train_model(model, x_train, y_train, x_val, y_val):
    return model.fit(x_val, y_val, epochs=10, batch_size=8,
                     validation_data=(x_train, y_train), verbose=0)
''',
        ),
        Wrong(
            "returns the model instead of the History object",
            '''
def train_model(model, x_train, y_train, x_val, y_val):
    model.fit(x_train, y_train, epochs=10, batch_size=8, validation_data=(x_val, y_val), verbose=0)
    return model
''',
        ),
        Wrong(
            "hard-coded to the visible check: trains on the visible check's global arrays",
            '''
def train_model(model, x_train, y_train, x_val, y_val):
    return model.fit(x_tr_chk, y_tr_chk, epochs=10, batch_size=8,
                     validation_data=(x_va_chk, y_va_chk), verbose=0)
''',
            hardcoded=True,
        ),
    ],
    "nb06_ex5_solution": [
        Wrong(
            "uses model(x) and returns a tf.Tensor of shape (N, 1)",
            '''
def predict_classes(model, x, batch_size):
    return tf.cast(model(x) > 0.5, tf.int32)
''',
        ),
        Wrong(
            "keeps the (N, 1) shape of predict()",
            '''
def predict_classes(model, x, batch_size):
    return (model.predict(x, batch_size=batch_size, verbose=0) > 0.5).astype("int64")
''',
        ),
        Wrong(
            "rounds the scores, which gives -1 or 2 for scores outside [0, 1]",
            '''
def predict_classes(model, x, batch_size):
    return np.round(model.predict(x, batch_size=batch_size, verbose=0)[:, 0]).astype("int64")
''',
        ),
        Wrong(
            "ignores batch_size (predict's default of 32)",
            '''
def predict_classes(model, x, batch_size):
    return (model.predict(x, verbose=0)[:, 0] > 0.5).astype("int64")
''',
        ),
        Wrong(
            "thresholds at 0 as if the output were a logit",
            '''
def predict_classes(model, x, batch_size):
    return (model.predict(x, batch_size=batch_size, verbose=0)[:, 0] > 0).astype("int64")
''',
        ),
        Wrong(
            "hard-coded to the visible check: the visible model's rule x - y + 0.5 > 0.5, model ignored",
            '''
def predict_classes(model, x, batch_size):
    return (x[:, 0] - x[:, 1] + 0.5 > 0.5).astype("int64")
''',
            hardcoded=True,
        ),
    ],
}

# Bypasses of the spy (training on validation data before the last fit) and of the threshold rule (a tie).
WRONG_ANSWERS["nb06_ex4_solution"] += [
    Wrong(
        "trains on the validation data first, then makes a clean-looking last fit() call",
        '''
def train_model(model, x_train, y_train, x_val, y_val):
    model.fit(x_val, y_val, epochs=10, batch_size=8, verbose=0)
    return model.fit(x_train, y_train, epochs=10, batch_size=8, validation_data=(x_val, y_val), verbose=0)
''',
    ),
    Wrong(
        "trains on the validation data with train_on_batch before fit()",
        '''
def train_model(model, x_train, y_train, x_val, y_val):
    for _ in range(30):
        model.train_on_batch(x_val, y_val)
    return model.fit(x_train, y_train, epochs=10, batch_size=8, validation_data=(x_val, y_val), verbose=0)
''',
    ),
]
WRONG_ANSWERS["nb06_ex5_solution"] += [
    Wrong(
        "a score of exactly 0.5 counted as class 1 (>= instead of >)",
        '''
def predict_classes(model, x, batch_size):
    return (model.predict(x, batch_size=batch_size, verbose=0)[:, 0] >= 0.5).astype("int64")
''',
    ),
]
WRONG_ANSWERS["nb06_ex2_solution"] += [
    Wrong(
        "\"accuracy\" for every classification: compile() would pick one later, the answer names none",
        '''
def choose_loss_and_metric(task, n_classes, labels_are_integers):
    task = task.strip().lower()
    if task == "regression":
        return "mse", "mae"
    if task != "classification":
        raise ValueError(task)
    if not labels_are_integers:
        return "categorical_crossentropy", "accuracy"
    if n_classes == 2:
        return "binary_crossentropy", "accuracy"
    return "sparse_categorical_crossentropy", "accuracy"
''',
    ),
]

OTHER_RIGHT_ANSWERS = {
    "nb06_ex2_solution": [
        Right(
            "short names that Keras reads as the same functions (\"mse\", \"mae\", \"bce\")",
            '''
def choose_loss_and_metric(task, n_classes, labels_are_integers):
    task = task.strip().lower()
    if task == "regression":
        return "mse", "mae"
    if task != "classification":
        raise ValueError(task)
    if not labels_are_integers:
        return "categorical_crossentropy", "categorical_accuracy"
    if n_classes == 2:
        return "bce", "binary_accuracy"
    return "sparse_categorical_crossentropy", "sparse_categorical_accuracy"
''',
        ),
    ],
    "nb06_ex4_solution": [
        Right(
            "two fit() calls on the training set, the data given as a shuffled tf.data.Dataset",
            '''
def train_model(model, x_train, y_train, x_val, y_val):
    data = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=0).batch(8)
    model.fit(data, epochs=3, verbose=0)
    return model.fit(data, epochs=7, validation_data=(x_val, y_val), verbose=0)
''',
        ),
    ],
}
