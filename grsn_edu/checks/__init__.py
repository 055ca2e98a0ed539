"""Self-check functions for the notebooks' exercises, one module per chapter (``grsn_edu.checks.ch01``).

Every check raises ``AssertionError`` with a hint when the answer is wrong and prints a confirmation when it is
right; ``tests/`` runs each check against its solution and against a wrong answer.
"""
