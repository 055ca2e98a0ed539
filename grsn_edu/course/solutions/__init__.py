"""Solutions to the notebooks' exercises, one module per chapter, named as its checks module
(``grsn_edu.course.solutions.lif_basics`` for ``notebooks/01_lif_basics.ipynb``).

They live here, out of the reader's way: a notebook's exercise cell holds a stub to fill in, its check cell calls
:mod:`grsn_edu.course.checks`, and the solution is one click away in a collapsed *Solution* block under the check
cell (the same source as here, which ``tests/test_notebook_exercises.py`` keeps equal) or loaded with ``%load``.
No notebook imports this package: a check hands the reference solution to the notebook while an exercise is a
stub, and no check needs it to test an answer. The student copy (``make student``) is written without this package,
and its checks hand on a placeholder instead (:func:`grsn_edu.course.checks.run_check`). Each solution runs when
pasted into its notebook, with the names the notebook has imported.
"""
