"""Wrong answers for notebook 02 (variables): each must be rejected by its test cell."""

from tests.wrong_answers import Wrong

WRONG_ANSWERS = {
    "nb02_ex1_solution": [
        Wrong(
            "uses height and width as slice ends instead of top + height and left + width",
            """
def fill_window(v, top, left, height, width, value):
    v[top:height, left:width].assign(value)
""",
        ),
        Wrong(
            "swaps rows and columns",
            """
def fill_window(v, top, left, height, width, value):
    v[left:left + width, top:top + height].assign(value)
""",
        ),
        Wrong(
            "builds a new variable and rebinds the local name: the caller's variable is unchanged",
            """
def fill_window(v, top, left, height, width, value):
    new = v.numpy().copy()
    new[top:top + height, left:left + width] = value
    v = tf.Variable(new)
    return v
""",
        ),
        Wrong(
            "forces float32 values, which breaks float64 and int32 variables",
            """
def fill_window(v, top, left, height, width, value):
    v[top:top + height, left:left + width].assign(tf.fill((height, width), tf.constant(value, tf.float32)))
""",
        ),
        Wrong(
            "hard-coded to the visible 2x3 block at (1, 2)",
            """
def fill_window(v, top, left, height, width, value):
    v[1:3, 2:5].assign(value)
""",
            hardcoded=True,
        ),
    ],
    "nb02_ex2_solution": [
        Wrong(
            "rebinds the name with an operator: a new tensor, the caller's variable is unchanged",
            """
def sgd_step(var, grad, learning_rate):
    var = var - learning_rate * grad
    return var
""",
        ),
        Wrong(
            "climbs the gradient (assign_add instead of assign_sub)",
            """
def sgd_step(var, grad, learning_rate):
    var.assign_add(learning_rate * grad)
""",
        ),
        Wrong(
            "forgets the learning rate",
            """
def sgd_step(var, grad, learning_rate):
    var.assign_sub(grad)
""",
        ),
        Wrong(
            "hard-coded to the visible step: subtracts 0.1 * [0.5, -1.0, 2.0] whatever the input",
            """
def sgd_step(var, grad, learning_rate):
    var.assign_sub(tf.constant([0.05, -0.1, 0.2]))
""",
            hardcoded=True,
        ),
        Wrong(
            "uses the visible learning rate 0.1 instead of the argument",
            """
def sgd_step(var, grad, learning_rate):
    var.assign_sub(0.1 * grad)
""",
            hardcoded=True,
        ),
    ],
    "nb02_ex3_solution": [
        Wrong(
            "forgets trainable=False",
            """
def make_buffer(initial_value, dtype):
    return tf.Variable(tf.cast(initial_value, dtype))
""",
        ),
        Wrong(
            "returns a constant tensor, which cannot be assigned to",
            """
def make_buffer(initial_value, dtype):
    return tf.constant(initial_value, dtype=dtype)
""",
        ),
        Wrong(
            "passes dtype= without a cast: fails when the initial value is a tensor of another dtype",
            """
def make_buffer(initial_value, dtype):
    return tf.Variable(initial_value, dtype=dtype, trainable=False)
""",
        ),
        Wrong(
            "hard-coded to the visible 2x2 float32 buffer",
            """
def make_buffer(initial_value, dtype):
    return tf.Variable([[1.0, 2.0], [3.0, 4.0]], trainable=False)
""",
            hardcoded=True,
        ),
    ],
    "nb02_ex4_solution": [
        Wrong(
            "counts batches instead of samples",
            """
def update_stats(count, total, batch):
    count.assign_add(1)
    total.assign_add(tf.reduce_sum(batch, axis=0))
    return total / tf.cast(count, total.dtype)
""",
        ),
        Wrong(
            "overwrites total with the last batch's sum instead of accumulating",
            """
def update_stats(count, total, batch):
    count.assign_add(batch.shape[0])
    total.assign(tf.reduce_sum(batch, axis=0))
    return total / tf.cast(count, total.dtype)
""",
        ),
        Wrong(
            "returns the mean of the last batch only",
            """
def update_stats(count, total, batch):
    count.assign_add(batch.shape[0])
    total.assign_add(tf.reduce_sum(batch, axis=0))
    return tf.reduce_mean(batch, axis=0)
""",
        ),
        Wrong(
            "hard-codes float32 and int32: breaks on float64 totals and int64 counts",
            """
def update_stats(count, total, batch):
    count.assign_add(tf.shape(batch)[0])
    total.assign_add(tf.reduce_sum(batch, axis=0))
    return total / tf.cast(count, tf.float32)
""",
        ),
        Wrong(
            "divides by the size of the current batch instead of the running count",
            """
def update_stats(count, total, batch):
    count.assign_add(batch.shape[0])
    total.assign_add(tf.reduce_sum(batch, axis=0))
    return total / batch.shape[0]
""",
        ),
        Wrong(
            "hard-coded to the two visible batches",
            """
def update_stats(count, total, batch):
    if int(count.numpy()) == 0:
        count.assign(2)
        total.assign([4.0, 40.0])
        return tf.constant([2.0, 20.0])
    count.assign(5)
    total.assign([25.0, 250.0])
    return tf.constant([5.0, 50.0])
""",
            hardcoded=True,
        ),
    ],
}

# Right values by a method the exercise does not teach: a detour through NumPy.
WRONG_ANSWERS["nb02_ex1_solution"] += [
    Wrong(
        "a NumPy detour: edits v.numpy() and assigns the whole array back (fails in graph mode)",
        """
def fill_window(v, top, left, height, width, value):
    array = v.numpy().copy()
    array[top:top + height, left:left + width] = value
    v.assign(array)
""",
    ),
]
