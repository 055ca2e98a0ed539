"""Solutions to the notebooks' exercises, one module per chapter (``grsn_edu.course.solutions.ch01`` for notebook 01).

They live here, out of the reader's way: a notebook's exercise cell holds a stub to fill in, its check cell
calls :mod:`grsn_edu.course.checks`, and a reader who is stuck can ``import`` (or ``%load``) the solution.
"""
