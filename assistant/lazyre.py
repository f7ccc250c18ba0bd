"""Regular expressions compiled on first use.

The span, structure and claim rules are large alternations; compiling them all at
import costs a new ``shiori ask`` process tens of milliseconds it may never need
(the span rules run when an index is built and in ``cite``, not in ``ask``).
"""

from __future__ import annotations

import re
from typing import Any


class LazyPattern:
    """A ``re.Pattern`` stand-in that compiles itself the first time it is used."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)


def lazy(pattern: str, flags: int = 0) -> Any:
    """``re.compile(pattern, flags)``, deferred until the pattern is first used."""
    return LazyPattern(pattern, flags)
