"""Plain Markdown tables (stdout and docs/PERFORMANCE.md use the same printer)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def cell(value: Any, digits: int = 2) -> str:
    """One cell: ``–`` for missing, floats rounded, bools as yes/no."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value != 0 and abs(value) < 10 ** (-digits):
            return f"{value:.{digits}g}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 2) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned."""
    if any(len(r) != len(headers) for r in rows):
        raise ValueError("every row needs one cell per header")
    numeric = [
        all((isinstance(r[i], (int, float)) and not isinstance(r[i], bool)) or r[i] is None for r in rows)
        and bool(rows)
        for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(cell(v, digits) for v in r) + " |")
    return "\n".join(lines)


def verdict(value: float | None, target: float, higher_is_better: bool = False) -> str:
    """``met`` / ``missed`` / ``–`` for a value against its target."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "missed"
