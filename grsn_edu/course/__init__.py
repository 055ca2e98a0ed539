"""What only the notebooks need: per-chapter demos, recorded episodes, figures, exercise checks and solutions.
The top layer: it may import every other layer, and nothing in the library imports it.
"""
