"""Argument checks shared by every layer, so that one kind of bad input gets one kind of message."""

from __future__ import annotations

import numbers

__all__ = ["check_int", "check_int_arguments"]


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


def check_int_arguments(parser, args, minimums: dict[str, int]) -> None:
    """:func:`check_int` on parsed command-line arguments; a bad one ends the program through ``parser.error``.

    Args:
        parser: the ``argparse.ArgumentParser`` that parsed ``args`` (its ``error`` prints the usage and exits 2).
        args: the parsed arguments.
        minimums: attribute of ``args`` -> its minimum, e.g. ``{"steps": 1, "seeds": 0}``. A list (an option with
            ``nargs``) is checked element by element; ``None`` (an optional argument left out) is not checked.
            The message names the option as it is typed: ``--batch-size must be an integer >= 1, got 0``.

    Example:
        >>> import argparse
        >>> parser = argparse.ArgumentParser(prog="sweep")
        >>> _ = parser.add_argument("--seeds", type=int, nargs="+", default=[0])
        >>> check_int_arguments(parser, parser.parse_args(["--seeds", "0", "3"]), {"seeds": 0})
        >>> check_int_arguments(parser, parser.parse_args(["--seeds", "0", "-1"]), {"seeds": 0})
        Traceback (most recent call last):
        ...
        SystemExit: 2
    """
    for name, minimum in minimums.items():
        value = getattr(args, name)
        values = [] if value is None else value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            try:
                check_int("--" + name.replace("_", "-"), v, minimum)
            except ValueError as err:
                parser.error(str(err))
