"""Wrong answers for notebook 01 (Tensors): typical mistakes and answers hard-coded to the visible checks."""

from tests.wrong_answers import Right, Wrong

WRONG_ANSWERS = {
    "nb01_ex1_solution": [
        Wrong(
            "tf.fill without the dtype: the element type follows the value, not the dtype argument",
            '''
def make_filled(shape, value, dtype=tf.float32):
    return tf.fill(shape, value)
''',
        ),
        Wrong(
            "multiplies a float32 tf.ones by the value and ignores dtype",
            '''
def make_filled(shape, value, dtype=tf.float32):
    return tf.ones(shape) * value
''',
        ),
        Wrong(
            "returns a NumPy array instead of a tensor",
            '''
def make_filled(shape, value, dtype=tf.float32):
    return np.full(shape, value, dtype=dtype.as_numpy_dtype)
''',
        ),
        Wrong(
            "hard-coded to the two visible calls",
            '''
def make_filled(shape, value, dtype=tf.float32):
    if dtype == tf.int32:
        return tf.constant([5, 5, 5], dtype=tf.int32)
    return tf.constant([[7.0, 7.0, 7.0], [7.0, 7.0, 7.0]])
''',
            hardcoded=True,
        ),
    ],
    "nb01_ex2_solution": [
        Wrong(
            "item assignment as in NumPy (the TypeError of listing 3-4)",
            '''
def with_value_at(x, index, value):
    x[index] = value
    return x
''',
        ),
        Wrong(
            "replaces every element equal to the one at index, not just that position",
            '''
def with_value_at(x, index, value):
    return tf.where(x == x[index], tf.cast(value, x.dtype), x)
''',
        ),
        Wrong(
            "a one-hot mask that only works for rank-2 tensors",
            '''
def with_value_at(x, index, value):
    rows = tf.one_hot(index[0], x.shape[0], dtype=x.dtype)[:, tf.newaxis]
    cols = tf.one_hot(index[1], x.shape[1], dtype=x.dtype)[tf.newaxis, :]
    mask = rows * cols
    return x * (1 - mask) + tf.cast(value, x.dtype) * mask
''',
        ),
        Wrong(
            "the value is not cast to x's dtype (float into int, float32 update into float64)",
            '''
def with_value_at(x, index, value):
    return tf.tensor_scatter_nd_update(x, [index], tf.constant([value], dtype=tf.float32))
''',
        ),
        Wrong(
            "hard-coded to the visible 2x2 example",
            '''
def with_value_at(x, index, value):
    return tf.constant([[0.0, 1.0], [1.0, 1.0]])
''',
            hardcoded=True,
        ),
    ],
    "nb01_ex3_solution": [
        Wrong(
            "one mean and one std over all elements instead of per column",
            '''
def standardize(x):
    return (x - tf.reduce_mean(x)) / tf.math.reduce_std(x)
''',
        ),
        Wrong(
            "sample standard deviation (divides by n - 1)",
            '''
def standardize(x):
    n = tf.cast(tf.shape(x)[0], x.dtype)
    mean = tf.reduce_mean(x, axis=0)
    var = tf.reduce_sum(tf.square(x - mean), axis=0) / (n - 1)
    return (x - mean) / tf.sqrt(var)
''',
        ),
        Wrong(
            "always casts to float32, so float64 input loses its dtype",
            '''
def standardize(x):
    x = tf.cast(x, tf.float32)
    return (x - tf.reduce_mean(x, axis=0)) / tf.math.reduce_std(x, axis=0)
''',
        ),
        Wrong(
            "standardizes each row (axis=1) instead of each column",
            '''
def standardize(x):
    mean = tf.reduce_mean(x, axis=1, keepdims=True)
    return (x - mean) / tf.math.reduce_std(x, axis=1, keepdims=True)
''',
        ),
        Wrong(
            "hard-coded to the visible 3x2 example",
            '''
def standardize(x):
    return tf.constant([[-1.2247449, -1.2247449], [0.0, 0.0], [1.2247449, 1.2247449]])
''',
            hardcoded=True,
        ),
    ],
    "nb01_ex4_solution": [
        Wrong(
            "forgets the ReLU",
            '''
def dense_relu(x, W, b):
    return tf.matmul(x, W) + b
''',
        ),
        Wrong(
            "applies the ReLU before adding the bias",
            '''
def dense_relu(x, W, b):
    return tf.nn.relu(tf.matmul(x, W)) + b
''',
        ),
        Wrong(
            "casts everything to float32",
            '''
def dense_relu(x, W, b):
    z = tf.matmul(tf.cast(x, tf.float32), tf.cast(W, tf.float32)) + tf.cast(b, tf.float32)
    return tf.maximum(z, 0.0)
''',
        ),
        Wrong(
            "hard-coded to the visible example",
            '''
def dense_relu(x, W, b):
    return tf.constant([[3.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
''',
            hardcoded=True,
        ),
    ],
    "nb01_ex5_solution": [
        Wrong(
            "returns squared distances (no square root)",
            '''
def pairwise_distances(a, b):
    diff = a[:, tf.newaxis, :] - b[tf.newaxis, :, :]
    return tf.reduce_sum(tf.square(diff), axis=-1)
''',
        ),
        Wrong(
            "matrix-product identity without clipping: tiny negative squares give NaN",
            '''
def pairwise_distances(a, b):
    sq_a = tf.reduce_sum(tf.square(a), axis=1, keepdims=True)
    sq_b = tf.reduce_sum(tf.square(b), axis=1)
    return tf.sqrt(sq_a + sq_b - 2.0 * tf.matmul(a, b, transpose_b=True))
''',
        ),
        Wrong(
            "sums over the wrong axis of the (n, m, d) differences",
            '''
def pairwise_distances(a, b):
    diff = a[:, tf.newaxis, :] - b[tf.newaxis, :, :]
    return tf.sqrt(tf.reduce_sum(tf.square(diff), axis=1))
''',
        ),
        Wrong(
            "casts to float32, so float64 input loses its dtype",
            '''
def pairwise_distances(a, b):
    a, b = tf.cast(a, tf.float32), tf.cast(b, tf.float32)
    diff = a[:, tf.newaxis, :] - b[tf.newaxis, :, :]
    return tf.sqrt(tf.reduce_sum(tf.square(diff), axis=-1))
''',
        ),
        Wrong(
            "hard-coded to the visible example",
            '''
def pairwise_distances(a, b):
    return tf.constant([[0.0, 1.0, 3.0], [5.0, 20.0 ** 0.5, 4.0]])
''',
            hardcoded=True,
        ),
    ],
}

# Right values by a method the exercises do not teach: a detour through NumPy.
WRONG_ANSWERS["nb01_ex2_solution"] += [
    Wrong(
        "a NumPy detour: .numpy(), item assignment, back to a tensor (no gradient, no graph mode)",
        '''
def with_value_at(x, index, value):
    array = x.numpy().copy()
    array[index] = value
    return tf.constant(array, dtype=x.dtype)
''',
    ),
]
WRONG_ANSWERS["nb01_ex3_solution"] += [
    Wrong(
        "a NumPy detour: standardizes x.numpy() and converts the result back (no gradient, no graph mode)",
        '''
def standardize(x):
    array = x.numpy()
    return tf.constant((array - array.mean(axis=0)) / array.std(axis=0), dtype=x.dtype)
''',
    ),
    Wrong(
        "a NumPy detour with 0 * x added, so a gradient exists but it is zero",
        '''
def standardize(x):
    array = x.numpy()
    return tf.constant((array - array.mean(axis=0)) / array.std(axis=0), dtype=x.dtype) + 0 * x
''',
    ),
]

OTHER_RIGHT_ANSWERS = {
    "nb01_ex2_solution": [
        Right(
            "a one-hot mask built with tf.scatter_nd and tf.where, any rank",
            '''
def with_value_at(x, index, value):
    mask = tf.scatter_nd([index], [True], tf.shape(x))
    return tf.where(mask, tf.cast(value, x.dtype), x)
''',
        ),
    ],
    "nb01_ex3_solution": [
        Right(
            "tf.math.reduce_std and tf.reduce_mean without keepdims (broadcasting does the rest)",
            '''
def standardize(x):
    return (x - tf.reduce_mean(x, axis=0)) / tf.math.reduce_std(x, axis=0)
''',
        ),
    ],
}
