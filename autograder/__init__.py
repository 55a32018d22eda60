"""Course tooling: release generation and the class autograder."""
