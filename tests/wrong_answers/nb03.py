"""Wrong answers for notebook 03 (GradientTape)."""

from tests.wrong_answers import Right, Wrong

WRONG_ANSWERS = {
    "nb03_ex1_solution": [
        Wrong(
            "forgets tape.watch on the constant: the gradient is None",
            """
def derivative(f, x):
    x = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)
""",
        ),
        Wrong(
            "wraps x in tf.constant without a float dtype: integer points stay int32 and are not differentiable",
            """
def derivative(f, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)
""",
        ),
        Wrong(
            "forward finite difference instead of the tape: not accurate enough in float32",
            """
def derivative(f, x):
    x = tf.cast(x, tf.float32)
    h = 1e-2
    return (f(x + h) - f(x)) / h
""",
        ),
        Wrong(
            "hard-coded to the visible checks (x**2 at 3, x**3 - 2x at 0, 1, 2)",
            """
def derivative(f, x):
    x = tf.cast(x, tf.float32)
    if x.shape.rank == 0:
        return tf.constant(6.0)
    return tf.constant([-2.0, 1.0, 10.0])
""",
            hardcoded=True,
        ),
    ],
    "nb03_ex2_solution": [
        Wrong(
            "computes the inner gradient outside the outer tape: the outer tape returns None",
            """
def second_derivative(f, x):
    x = tf.cast(x, tf.float32)
    with tf.GradientTape() as outer_tape:
        outer_tape.watch(x)
        with tf.GradientTape() as inner_tape:
            inner_tape.watch(x)
            y = f(x)
    dy_dx = inner_tape.gradient(y, x)
    return outer_tape.gradient(dy_dx, x)
""",
        ),
        Wrong(
            "watches x only in the inner tape",
            """
def second_derivative(f, x):
    x = tf.cast(x, tf.float32)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            inner_tape.watch(x)
            y = f(x)
        dy_dx = inner_tape.gradient(y, x)
    return outer_tape.gradient(dy_dx, x)
""",
        ),
        Wrong(
            "returns the first derivative",
            """
def second_derivative(f, x):
    x = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x)
""",
        ),
        Wrong(
            "hard-coded to the visible checks (9.8 for the apple, 12 for x**3 at 2)",
            """
def second_derivative(f, x):
    x = tf.cast(x, tf.float32)
    if x.shape.rank == 0:
        return tf.constant(12.0)
    return tf.fill(tf.shape(x), 9.8)
""",
            hardcoded=True,
        ),
    ],
    "nb03_ex3_solution": [
        Wrong(
            "sums the squared errors instead of averaging them",
            """
def mse_gradients(X, y, W, b):
    with tf.GradientTape() as tape:
        predictions = tf.matmul(X, W) + b
        loss = tf.reduce_sum(tf.square(predictions - y))
    return tape.gradient(loss, [W, b])
""",
        ),
        Wrong(
            "computes the predictions before opening the tape: both gradients are None",
            """
def mse_gradients(X, y, W, b):
    predictions = tf.matmul(X, W) + b
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(predictions - y))
    return tape.gradient(loss, [W, b])
""",
        ),
        Wrong(
            "averages over the samples only (divides by N, not N*k): wrong as soon as there are several outputs",
            """
def mse_gradients(X, y, W, b):
    with tf.GradientTape() as tape:
        predictions = tf.matmul(X, W) + b
        loss = tf.reduce_mean(tf.reduce_sum(tf.square(predictions - y), axis=1))
    return tape.gradient(loss, [W, b])
""",
        ),
        Wrong(
            "takes one gradient-descent step as well (changes W and b)",
            """
def mse_gradients(X, y, W, b):
    with tf.GradientTape() as tape:
        predictions = tf.matmul(X, W) + b
        loss = tf.reduce_mean(tf.square(predictions - y))
    grad_W, grad_b = tape.gradient(loss, [W, b])
    W.assign_sub(0.1 * grad_W)
    b.assign_sub(0.1 * grad_b)
    return [grad_W, grad_b]
""",
        ),
        Wrong(
            "hard-coded to the visible 3x2 example",
            """
def mse_gradients(X, y, W, b):
    return [tf.constant([[-10.0 / 3.0], [-19.0 / 3.0]]), tf.constant([-3.0])]
""",
            hardcoded=True,
        ),
    ],
    "nb03_ex4_solution": [
        Wrong(
            "returns dz/dy instead of dz/dx (forgets the chain rule through f)",
            """
def two_gradients(f, g, x):
    x = tf.cast(x, tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = f(x)
        z = g(y)
    dy_dx = tape.gradient(y, x)
    dz_dy = tape.gradient(z, y)
    del tape
    return dy_dx, dz_dy
""",
        ),
        Wrong(
            "a default (non-persistent) tape used twice: RuntimeError on the second gradient",
            """
def two_gradients(f, g, x):
    x = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
        z = g(y)
    return tape.gradient(y, x), tape.gradient(z, x)
""",
        ),
        Wrong(
            "two separate tapes, so f is evaluated twice",
            """
def two_gradients(f, g, x):
    x = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape1:
        tape1.watch(x)
        y = f(x)
    with tf.GradientTape() as tape2:
        tape2.watch(x)
        z = g(f(x))
    return tape1.gradient(y, x), tape2.gradient(z, x)
""",
        ),
        Wrong(
            "hard-coded to the visible check at x = 1.5 (still calls f and g once)",
            """
def two_gradients(f, g, x):
    x = tf.cast(x, tf.float32)
    g(f(x))
    return tf.constant(3.0), tf.constant(3.0 * float(np.cos(2.25)))
""",
            hardcoded=True,
        ),
    ],
    "nb03_ex5_solution": [
        Wrong(
            "adds the gradient (walks uphill)",
            """
def minimize(f, x0, learning_rate, steps):
    x = tf.Variable(tf.cast(x0, tf.float32))
    for _ in range(steps):
        with tf.GradientTape() as tape:
            value = f(x)
        x.assign_add(learning_rate * tape.gradient(value, x))
    return x.numpy()
""",
        ),
        Wrong(
            "rebinds x = x - lr * grad: x becomes a plain tensor and the next gradient is None",
            """
def minimize(f, x0, learning_rate, steps):
    x = tf.Variable(tf.cast(x0, tf.float32))
    for _ in range(steps):
        with tf.GradientTape() as tape:
            value = f(x)
        x = x - learning_rate * tape.gradient(value, x)
    return x.numpy()
""",
        ),
        Wrong(
            "one step too many (range(steps + 1))",
            """
def minimize(f, x0, learning_rate, steps):
    x = tf.Variable(tf.cast(x0, tf.float32))
    for _ in range(steps + 1):
        with tf.GradientTape() as tape:
            value = f(x)
        x.assign_sub(learning_rate * tape.gradient(value, x))
    return x.numpy()
""",
        ),
        Wrong(
            "hard-coded to the visible bowl with its bottom at (1, -2)",
            """
def minimize(f, x0, learning_rate, steps):
    if steps == 1:
        return np.array([0.2, -0.4], dtype="float32")
    return np.array([1.0, -2.0], dtype="float32")
""",
            hardcoded=True,
        ),
    ],
}

# Right values without GradientTape: finite differences in float64 and the notebook's own formula.
WRONG_ANSWERS["nb03_ex1_solution"] += [
    Wrong(
        "central finite differences in float64 instead of a tape",
        '''
def derivative(f, x):
    x = tf.cast(x, tf.float64)
    h = 1e-5
    return tf.cast((f(x + h) - f(x - h)) / (2 * h), tf.float32)
''',
    ),
]
WRONG_ANSWERS["nb03_ex2_solution"] += [
    Wrong(
        "second-order finite differences in float64 instead of nested tapes",
        '''
def second_derivative(f, x):
    x = tf.cast(x, tf.float64)
    h = 1e-3
    return tf.cast((f(x + h) - 2 * f(x) + f(x - h)) / h ** 2, tf.float32)
''',
    ),
]
WRONG_ANSWERS["nb03_ex3_solution"] += [
    Wrong(
        "the closed-form gradient the notebook prints, 2/(N k) X^T r, instead of a tape",
        '''
def mse_gradients(X, y, W, b):
    r = tf.matmul(X, W) + b - y
    scale = 2.0 / tf.cast(tf.size(r), tf.float32)
    return [scale * tf.matmul(X, r, transpose_a=True), scale * tf.reduce_sum(r, axis=0)]
''',
    ),
    Wrong(
        "calls the tape for show but returns the closed-form gradient computed in float64",
        '''
def mse_gradients(X, y, W, b):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.matmul(X, W) + b - y))
    tape.gradient(loss, [W, b])
    r = X.astype("float64") @ W.numpy() + b.numpy() - y
    scale = 2.0 / r.size
    return [tf.constant(scale * X.T @ r, tf.float32), tf.constant(scale * r.sum(axis=0), tf.float32)]
''',
    ),
]
WRONG_ANSWERS["nb03_ex5_solution"] += [
    Wrong(
        "gradient descent on central finite differences instead of the tape's gradient",
        '''
def minimize(f, x0, learning_rate, steps):
    x = np.array(x0, dtype="float64")
    h = 1e-5
    for _ in range(steps):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            step = np.zeros_like(x)
            step[i] = h
            grad[i] = (float(f(tf.constant(x + step))) - float(f(tf.constant(x - step)))) / (2 * h)
        x = x - learning_rate * grad
    return x.astype("float32")
''',
    ),
]

OTHER_RIGHT_ANSWERS = {
    "nb03_ex3_solution": [
        Right(
            "a persistent tape asked once per variable",
            '''
def mse_gradients(X, y, W, b):
    with tf.GradientTape(persistent=True) as tape:
        loss = tf.reduce_mean(tf.square(tf.matmul(X, W) + b - y))
    grads = [tape.gradient(loss, W), tape.gradient(loss, b)]
    del tape
    return grads
''',
        ),
    ],
}
