"""Result tables as markdown, the way RESULTS.md shows them."""

from __future__ import annotations

import pandas as pd

__all__ = ["markdown_table"]


def markdown_table(frame: pd.DataFrame) -> str:
    """``frame`` as a markdown table: numbers rounded to whole units, missing values as ``-``.

    Example:
        >>> print(markdown_table(pd.DataFrame({"agent": ["gru", "grsn"], "return": [499.6, float("nan")]})))
        | agent | return |
        |---|---|
        | gru | 500 |
        | grsn | - |
    """
    cols = list(frame.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, row in frame.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            if pd.isna(v):
                cells.append("-")
            elif isinstance(v, (float, int)) and not isinstance(v, bool):
                cells.append(f"{v:.0f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
