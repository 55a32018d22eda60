"""Wrong answers for notebook 00 (getting started): typical mistakes and answers hard-coded to the visible checks."""

from tests.wrong_answers import Wrong

WRONG_ANSWERS = {
    "nb00_ex1_solution": [
        Wrong(
            "compares versions as floats: 2.9 > 2.16",
            '''
def version_at_least(version, minimum):
    return float(".".join(version.split(".")[:2])) >= float(".".join(minimum.split(".")[:2]))
''',
        ),
        Wrong(
            "compares the strings themselves: 2.9 > 2.16 character by character",
            '''
def version_at_least(version, minimum):
    return version >= minimum
''',
        ),
        Wrong(
            "int() on every part: crashes on suffixes such as rc1 and dev20240101",
            '''
def version_at_least(version, minimum):
    return tuple(int(p) for p in version.split(".")) >= tuple(int(p) for p in minimum.split("."))
''',
        ),
        Wrong(
            "hard-coded to the three visible comparisons",
            '''
def version_at_least(version, minimum):
    return not version.startswith("2.9")
''',
            hardcoded=True,
        ),
    ],
    "nb00_ex2_solution": [
        Wrong(
            "returns the index as a string",
            '''
def device_of(t):
    _, kind, index = t.device.split("/")[-1].split(":")
    return kind, index
''',
        ),
        Wrong(
            "reads a single character for the index, so GPU:12 becomes 1",
            '''
def device_of(t):
    name = t.device
    return name[-5:-2], int(name[-1])
''',
        ),
        Wrong(
            "hard-coded to the visible CPU tensor",
            '''
def device_of(t):
    return ("CPU", 0)
''',
            hardcoded=True,
        ),
    ],
    "nb00_ex3_solution": [
        Wrong(
            "returns a NumPy array instead of a tensor",
            '''
def numbered_grid(rows, cols):
    return np.arange(rows * cols, dtype=np.float32).reshape(rows, cols)
''',
        ),
        Wrong(
            "keeps tf.range's int32 dtype",
            '''
def numbered_grid(rows, cols):
    return tf.reshape(tf.range(rows * cols), (rows, cols))
''',
        ),
        Wrong(
            "numbers the grid column by column (i + j * rows)",
            '''
def numbered_grid(rows, cols):
    return tf.transpose(tf.reshape(tf.range(rows * cols, dtype=tf.float32), (cols, rows)))
''',
        ),
        Wrong(
            "hard-coded to the visible 2 x 3 grid",
            '''
def numbered_grid(rows, cols):
    return tf.constant([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
''',
            hardcoded=True,
        ),
    ],
    "nb00_ex4_solution": [
        Wrong(
            "splits the last line at every colon, so the message loses its own colons",
            '''
def read_traceback(text):
    last = [line for line in text.splitlines() if line.strip()][-1]
    parts = last.split(":")
    return parts[0].split(".")[-1], parts[1].strip() if len(parts) > 1 else ""
''',
        ),
        Wrong(
            "keeps the module prefix of the error type",
            '''
def read_traceback(text):
    kind, _, message = [line for line in text.splitlines() if line.strip()][-1].strip().partition(": ")
    return kind, message
''',
        ),
        Wrong(
            "reads the last line even when it is empty",
            '''
def read_traceback(text):
    kind, _, message = text.rstrip(" ").split("\\n")[-2].partition(": ")
    return kind.split(".")[-1], message
''',
        ),
        Wrong(
            "hard-coded to the visible ZeroDivisionError",
            '''
def read_traceback(text):
    return ("ZeroDivisionError", "division by zero")
''',
            hardcoded=True,
        ),
    ],
}
