"""Wrong answers for notebook 08 (a training loop of your own, and what fit() does)."""

from tests.wrong_answers import Wrong

_STEP_TAIL = '''
    gradients = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(gradients, model.trainable_weights))
    metric.update_state(y, predictions)
    return loss
'''

_REGRESSOR_HEAD = '''
class TrackedRegressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="tanh")
        self.out = keras.layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def call(self, inputs, training=False):
        return self.out(self.hidden(inputs))
'''

_RECALL_HEAD = '''
class BinaryRecall(keras.metrics.Metric):
    def __init__(self, name="binary_recall", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="true_positives", shape=(), initializer="zeros")
        self.false_negatives = self.add_weight(name="false_negatives", shape=(), initializer="zeros")
'''

WRONG_ANSWERS = {
    "nb08_ex1_solution": [
        Wrong(
            "forgets the losses registered with add_loss (model.losses)",
            '''
def train_step(model, optimizer, loss_fn, metric, x, y):
    with tf.GradientTape() as tape:
        predictions = model(x, training=True)
        loss = loss_fn(y, predictions)
''' + _STEP_TAIL,
        ),
        Wrong(
            "calls the model without training=True (inference mode while training)",
            '''
def train_step(model, optimizer, loss_fn, metric, x, y):
    with tf.GradientTape() as tape:
        predictions = model(x)
        loss = loss_fn(y, predictions) + sum(model.losses)
''' + _STEP_TAIL,
        ),
        Wrong(
            "updates the metric with predictions made after the weight update",
            '''
def train_step(model, optimizer, loss_fn, metric, x, y):
    with tf.GradientTape() as tape:
        predictions = model(x, training=True)
        loss = loss_fn(y, predictions) + sum(model.losses)
    gradients = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(gradients, model.trainable_weights))
    metric.update_state(y, model(x, training=True))
    return loss
''',
        ),
        Wrong(
            "computes the loss outside the tape, so there are no gradients",
            '''
def train_step(model, optimizer, loss_fn, metric, x, y):
    with tf.GradientTape() as tape:
        predictions = model(x, training=True)
    loss = loss_fn(y, predictions) + sum(model.losses)
''' + _STEP_TAIL,
        ),
        Wrong(
            "resets the metric at every step, so it never accumulates",
            '''
def train_step(model, optimizer, loss_fn, metric, x, y):
    with tf.GradientTape() as tape:
        predictions = model(x, training=True)
        loss = loss_fn(y, predictions) + sum(model.losses)
    gradients = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(gradients, model.trainable_weights))
    metric.reset_state()
    metric.update_state(y, predictions)
    return loss
''',
        ),
        Wrong(
            "hard-coded to the visible check: plain SGD with learning rate 0.1 instead of the given optimizer",
            '''
def train_step(model, optimizer, loss_fn, metric, x, y):
    with tf.GradientTape() as tape:
        predictions = model(x, training=True)
        loss = loss_fn(y, predictions) + sum(model.losses)
    gradients = tape.gradient(loss, model.trainable_weights)
    for weight, gradient in zip(model.trainable_weights, gradients):
        weight.assign_sub(0.1 * gradient)
    metric.update_state(y, predictions)
    return loss
''',
            hardcoded=True,
        ),
    ],
    "nb08_ex2_solution": [
        Wrong(
            "never resets the metric: values from earlier use leak in",
            '''
def evaluate(model, dataset, metric):
    for x, y in dataset:
        metric.update_state(y, model(x, training=False))
    return float(metric.result())
''',
        ),
        Wrong(
            "resets inside the loop: only the last batch counts",
            '''
def evaluate(model, dataset, metric):
    for x, y in dataset:
        metric.reset_state()
        metric.update_state(y, model(x, training=False))
    return float(metric.result())
''',
        ),
        Wrong(
            "averages the per-batch results (wrong when the last batch is smaller)",
            '''
def evaluate(model, dataset, metric):
    values = []
    for x, y in dataset:
        metric.reset_state()
        metric.update_state(y, model(x, training=False))
        values.append(float(metric.result()))
    return float(np.mean(values))
''',
        ),
        Wrong(
            "runs the model in training mode",
            '''
def evaluate(model, dataset, metric):
    metric.reset_state()
    for x, y in dataset:
        metric.update_state(y, model(x, training=True))
    return float(metric.result())
''',
        ),
        Wrong(
            "hard-coded to the visible check: a fresh BinaryAccuracy instead of the given metric",
            '''
def evaluate(model, dataset, metric):
    accuracy = keras.metrics.BinaryAccuracy()
    for x, y in dataset:
        accuracy.update_state(y, model(x, training=False))
    return float(accuracy.result())
''',
            hardcoded=True,
        ),
    ],
    "nb08_ex3_solution": [
        Wrong(
            "returns the batch loss and error instead of the trackers' results",
            _REGRESSOR_HEAD + '''
    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(tf.square(y - y_pred))
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": loss, "mae": tf.reduce_mean(tf.abs(y - y_pred))}
''',
        ),
        Wrong(
            "lists only the loss tracker in metrics, so fit() never resets the mean absolute error",
            _REGRESSOR_HEAD + '''
    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(tf.square(y - y_pred))
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}
''',
        ),
        Wrong(
            "applies the gradients with a new SGD instead of self.optimizer",
            _REGRESSOR_HEAD + '''
    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(tf.square(y - y_pred))
        gradients = tape.gradient(loss, self.trainable_weights)
        for weight, gradient in zip(self.trainable_weights, gradients):
            weight.assign_sub(0.01 * gradient)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}
''',
        ),
        Wrong(
            "writes only the metrics property: without a train_step, fit() runs Keras's default step (no loss)",
            _REGRESSOR_HEAD + '''
    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]
''',
        ),
        Wrong(
            "hard-coded to the visible check: the mean squared error divided by the visible batch size 16",
            _REGRESSOR_HEAD + '''
    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_sum(tf.square(y - y_pred)) / 16.0
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}
''',
            hardcoded=True,
        ),
    ],
    "nb08_ex4_solution": [
        Wrong(
            "assign instead of assign_add: only the last batch counts",
            _RECALL_HEAD + '''
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = tf.reshape(tf.cast(y_true, self.dtype), [-1]) > 0.5
        predicted = tf.reshape(tf.cast(y_pred, self.dtype), [-1]) > 0.5
        self.true_positives.assign(tf.reduce_sum(tf.cast(actual & predicted, self.dtype)))
        self.false_negatives.assign(tf.reduce_sum(tf.cast(actual & ~predicted, self.dtype)))

    def result(self):
        return tf.math.divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
''',
        ),
        Wrong(
            "raw tf.Variable attributes: Keras 3 does not track them, so reset_state() leaves them alone",
            '''
class BinaryRecall(keras.metrics.Metric):
    def __init__(self, name="binary_recall", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = tf.Variable(0.0, trainable=False)
        self.false_negatives = tf.Variable(0.0, trainable=False)

    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = tf.reshape(tf.cast(y_true, "float32"), [-1]) > 0.5
        predicted = tf.reshape(tf.cast(y_pred, "float32"), [-1]) > 0.5
        self.true_positives.assign_add(tf.reduce_sum(tf.cast(actual & predicted, "float32")))
        self.false_negatives.assign_add(tf.reduce_sum(tf.cast(actual & ~predicted, "float32")))

    def result(self):
        return tf.math.divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
''',
        ),
        Wrong(
            "counts a prediction of exactly 0.5 as positive (>= instead of >)",
            _RECALL_HEAD + '''
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = tf.reshape(tf.cast(y_true, self.dtype), [-1]) > 0.5
        predicted = tf.reshape(tf.cast(y_pred, self.dtype), [-1]) >= 0.5
        self.true_positives.assign_add(tf.reduce_sum(tf.cast(actual & predicted, self.dtype)))
        self.false_negatives.assign_add(tf.reduce_sum(tf.cast(actual & ~predicted, self.dtype)))

    def result(self):
        return tf.math.divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
''',
        ),
        Wrong(
            "plain division: nan when no positive label has been seen",
            _RECALL_HEAD + '''
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = tf.reshape(tf.cast(y_true, self.dtype), [-1]) > 0.5
        predicted = tf.reshape(tf.cast(y_pred, self.dtype), [-1]) > 0.5
        self.true_positives.assign_add(tf.reduce_sum(tf.cast(actual & predicted, self.dtype)))
        self.false_negatives.assign_add(tf.reduce_sum(tf.cast(actual & ~predicted, self.dtype)))

    def result(self):
        return self.true_positives / (self.true_positives + self.false_negatives)
''',
        ),
        Wrong(
            "counts false positives: precision instead of recall",
            _RECALL_HEAD + '''
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = tf.reshape(tf.cast(y_true, self.dtype), [-1]) > 0.5
        predicted = tf.reshape(tf.cast(y_pred, self.dtype), [-1]) > 0.5
        self.true_positives.assign_add(tf.reduce_sum(tf.cast(actual & predicted, self.dtype)))
        self.false_negatives.assign_add(tf.reduce_sum(tf.cast(~actual & predicted, self.dtype)))

    def result(self):
        return tf.math.divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
''',
        ),
        Wrong(
            "hard-coded to the visible check: divides by true positives + 1 (its single false negative)",
            _RECALL_HEAD + '''
    def update_state(self, y_true, y_pred, sample_weight=None):
        actual = tf.reshape(tf.cast(y_true, self.dtype), [-1]) > 0.5
        predicted = tf.reshape(tf.cast(y_pred, self.dtype), [-1]) > 0.5
        self.true_positives.assign_add(tf.reduce_sum(tf.cast(actual & predicted, self.dtype)))
        self.false_negatives.assign_add(tf.reduce_sum(tf.cast(actual & ~predicted, self.dtype)))

    def result(self):
        return self.true_positives / (self.true_positives + 1.0)
''',
            hardcoded=True,
        ),
    ],
    "nb08_ex5_solution": [
        Wrong(
            "records the optimizer's learning-rate variable itself: every entry shows the last value",
            '''
class StopAndRecordLR(keras.callbacks.Callback):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def on_train_begin(self, logs=None):
        self.learning_rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.learning_rates.append(self.model.optimizer.learning_rate)
        if logs["loss"] < self.threshold:
            self.model.stop_training = True
''',
        ),
        Wrong(
            "creates the list in __init__ only: a second fit() appends to the first one's record",
            '''
class StopAndRecordLR(keras.callbacks.Callback):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold
        self.learning_rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate))
        if logs["loss"] < self.threshold:
            self.model.stop_training = True
''',
        ),
        Wrong(
            "decides after every batch, so training stops in the middle of an epoch",
            '''
class StopAndRecordLR(keras.callbacks.Callback):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def on_train_begin(self, logs=None):
        self.learning_rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate))

    def on_train_batch_end(self, batch, logs=None):
        if logs["loss"] < self.threshold:
            self.model.stop_training = True
''',
        ),
        Wrong(
            "stops when the loss is above the threshold (the comparison turned around)",
            '''
class StopAndRecordLR(keras.callbacks.Callback):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def on_train_begin(self, logs=None):
        self.learning_rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate))
        if logs["loss"] > self.threshold:
            self.model.stop_training = True
''',
        ),
        Wrong(
            "hard-coded to the visible check: stops after the third epoch whatever the loss",
            '''
class StopAndRecordLR(keras.callbacks.Callback):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def on_train_begin(self, logs=None):
        self.learning_rates = []

    def on_epoch_end(self, epoch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate))
        if epoch == 2:
            self.model.stop_training = True
''',
            hardcoded=True,
        ),
    ],
}
