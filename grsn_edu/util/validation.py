"""Argument checks shared by every layer, so that one kind of bad input gets one kind of message."""

from __future__ import annotations

import numbers

__all__ = ["check_int"]


def check_int(name: str, value, minimum: int = 1, hint: str = "") -> int:
    """``value`` as a Python int, or a ValueError that names the argument and the allowed range.

    Python and numpy integers are accepted alike; bools, floats and strings are not, even when they hold a whole
    number (``2.0`` is more often a mistake than a count).

    Example:
        >>> import numpy as np
        >>> check_int("batch_size", np.int64(8))
        8
        >>> check_int("delay", 0, minimum=0)
        0
        >>> check_int("steps", 0)
        Traceback (most recent call last):
        ...
        ValueError: steps must be an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}{hint}")
    return int(value)
