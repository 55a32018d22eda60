"""Wrong answers for notebook 05 (layers and models): typical mistakes and answers hard-coded to the visible checks."""

from tests.wrong_answers import Wrong

WRONG_ANSWERS = {
    "nb05_ex1_solution": [
        Wrong(
            "the book's note: raw tf.Variable attributes, which Keras 3 does not track (0 trainable weights)",
            '''
class MyDense(keras.layers.Layer):

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = tf.Variable(tf.random.normal((input_shape[-1], self.units), stddev=0.05), name="kernel")
        self.bias = tf.Variable(tf.zeros((self.units,)), name="bias") if self.use_bias else None

    def call(self, inputs):
        y = tf.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)
''',
        ),
        Wrong(
            "calls a string activation directly instead of keras.activations.get (\"relu\" is not callable)",
            '''
class MyDense(keras.layers.Layer):

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="random_normal")
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        y = tf.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        if self.activation is not None:
            y = self.activation(y)
        return y
''',
        ),
        Wrong(
            "stores the activation but never applies it",
            '''
class MyDense(keras.layers.Layer):

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="random_normal")
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        y = tf.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return y
''',
        ),
        Wrong(
            "ignores use_bias: always creates and adds a bias",
            '''
class MyDense(keras.layers.Layer):

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="random_normal")
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def call(self, inputs):
        return self.activation(tf.matmul(inputs, self.kernel) + self.bias)
''',
        ),
        Wrong(
            "initializes the kernel with zeros (every unit computes the same thing)",
            '''
class MyDense(keras.layers.Layer):

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer="zeros")
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        y = tf.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)
''',
        ),
        Wrong(
            "hard-coded to the visible check: kernel shape (4, 3) and bias shape (3,)",
            '''
class MyDense(keras.layers.Layer):

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(4, 3), initializer="random_normal")
        self.bias = self.add_weight(name="bias", shape=(3,), initializer="zeros")

    def call(self, inputs):
        return self.activation(tf.matmul(inputs, self.kernel) + self.bias)
''',
            hardcoded=True,
        ),
    ],
    "nb05_ex2_solution": [
        Wrong(
            "no softmax on the output layer (rows do not sum to 1)",
            '''
class MLP(keras.Model):

    def __init__(self, hidden_units, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden_layers = [keras.layers.Dense(u, activation="relu") for u in hidden_units]
        self.classifier = keras.layers.Dense(num_classes)

    def call(self, inputs):
        x = inputs
        for layer in self.hidden_layers:
            x = layer(x)
        return self.classifier(x)
''',
        ),
        Wrong(
            "uses only the first entry of hidden_units",
            '''
class MLP(keras.Model):

    def __init__(self, hidden_units, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(hidden_units[0] if hidden_units else 8, activation="relu")
        self.classifier = keras.layers.Dense(num_classes, activation="softmax")

    def call(self, inputs):
        return self.classifier(self.hidden(inputs))
''',
        ),
        Wrong(
            "forgets relu on the hidden layers (the whole model stays linear before softmax)",
            '''
class MLP(keras.Model):

    def __init__(self, hidden_units, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden_layers = [keras.layers.Dense(u) for u in hidden_units]
        self.classifier = keras.layers.Dense(num_classes, activation="softmax")

    def call(self, inputs):
        x = inputs
        for layer in self.hidden_layers:
            x = layer(x)
        return self.classifier(x)
''',
        ),
        Wrong(
            "creates the layers inside call(): new untracked layers on every call, no trainable weights",
            '''
class MLP(keras.Model):

    def __init__(self, hidden_units, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = list(hidden_units)
        self.num_classes = num_classes

    def call(self, inputs):
        x = inputs
        for units in self.hidden_units:
            x = keras.layers.Dense(units, activation="relu")(x)
        return keras.layers.Dense(self.num_classes, activation="softmax")(x)
''',
        ),
        Wrong(
            "hard-coded to the visible check: always Dense(32, relu) then Dense(10, softmax)",
            '''
class MLP(keras.Model):

    def __init__(self, hidden_units, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(32, activation="relu")
        self.classifier = keras.layers.Dense(10, activation="softmax")

    def call(self, inputs):
        return self.classifier(self.hidden(inputs))
''',
            hardcoded=True,
        ),
    ],
    "nb05_ex3_solution": [
        Wrong(
            "forgets the biases",
            '''
def n_params(layer_sizes, use_bias=True):
    sizes = list(layer_sizes)
    return int(sum(a * b for a, b in zip(sizes[:-1], sizes[1:])))
''',
        ),
        Wrong(
            "ignores use_bias: always counts the biases",
            '''
def n_params(layer_sizes, use_bias=True):
    sizes = list(layer_sizes)
    return int(sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:])))
''',
        ),
        Wrong(
            "adds a bias for every size, the input included",
            '''
def n_params(layer_sizes, use_bias=True):
    sizes = list(layer_sizes)
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return int(weights + (sum(sizes) if use_bias else 0))
''',
        ),
        Wrong(
            "counts the biases of the input size instead of the output size: (n_in) * (n_out + 1)",
            '''
def n_params(layer_sizes, use_bias=True):
    sizes = list(layer_sizes)
    extra = 1 if use_bias else 0
    return int(sum(a * (b + extra) for a, b in zip(sizes[:-1], sizes[1:])))
''',
        ),
        Wrong(
            "hard-coded to the three visible calls",
            '''
def n_params(layer_sizes, use_bias=True):
    known = {(784, 512, 10, True): 407050, (4, 1, True): 5, (784, 512, 10, False): 406528}
    return known.get((*layer_sizes, use_bias), 0)
''',
            hardcoded=True,
        ),
    ],
    "nb05_ex4_solution": [
        Wrong(
            "every block adds the stem output instead of the running sum (blocks not chained through the skips)",
            '''
def make_residual_model(input_dim, width, num_blocks, num_classes):
    inputs = keras.Input(shape=(input_dim,), name="inputs")
    stem = keras.layers.Dense(width, activation="relu", name="stem")(inputs)
    x = stem
    for i in range(1, num_blocks + 1):
        y = keras.layers.Dense(width, activation="relu", name=f"block{i}_dense")(x)
        x = keras.layers.Add(name=f"block{i}_add")([stem, y])
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="residual_mlp")
''',
        ),
        Wrong(
            "block Dense layers without relu",
            '''
def make_residual_model(input_dim, width, num_blocks, num_classes):
    inputs = keras.Input(shape=(input_dim,), name="inputs")
    x = keras.layers.Dense(width, activation="relu", name="stem")(inputs)
    for i in range(1, num_blocks + 1):
        y = keras.layers.Dense(width, name=f"block{i}_dense")(x)
        x = keras.layers.Add(name=f"block{i}_add")([x, y])
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="residual_mlp")
''',
        ),
        Wrong(
            "adds the model input to each block (shapes differ when input_dim != width)",
            '''
def make_residual_model(input_dim, width, num_blocks, num_classes):
    inputs = keras.Input(shape=(input_dim,), name="inputs")
    x = keras.layers.Dense(width, activation="relu", name="stem")(inputs)
    for i in range(1, num_blocks + 1):
        y = keras.layers.Dense(width, activation="relu", name=f"block{i}_dense")(x)
        x = keras.layers.Add(name=f"block{i}_add")([inputs, y])
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="residual_mlp")
''',
        ),
        Wrong(
            "hard-coded to the visible check: always two blocks of width 16",
            '''
def make_residual_model(input_dim, width, num_blocks, num_classes):
    inputs = keras.Input(shape=(input_dim,), name="inputs")
    x = keras.layers.Dense(16, activation="relu", name="stem")(inputs)
    for i in (1, 2):
        y = keras.layers.Dense(16, activation="relu", name=f"block{i}_dense")(x)
        x = keras.layers.Add(name=f"block{i}_add")([x, y])
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="residual_mlp")
''',
            hardcoded=True,
        ),
    ],
}

# Passes the value checks, but every unit starts identical and stays identical.
WRONG_ANSWERS["nb05_ex1_solution"] += [
    Wrong(
        "a constant kernel initializer (\"ones\"): every unit computes the same thing",
        '''
class MyDense(keras.layers.Layer):

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units), initializer="ones")
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        y = tf.matmul(inputs, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        return self.activation(y)
''',
    ),
]
