"""Regular expressions: compiled programs kept on disk (like ``.pyc`` files), or compiled on first use.

``rx(pattern, flags)`` is ``re.compile(pattern, flags)`` for a new process that has compiled the
pattern before. CPython compiles a pattern in Python code (``re._parser`` then ``re._compiler``),
and a character class with a CJK range costs it 1-4 ms, because ``_optimize_charset`` visits every
code point of the range: the ~90 patterns a ``shiori ask`` needs took ~60 ms of its start-up. The
result of that work is a list of integers (the program ``_sre`` runs), so it is stored, keyed by the
pattern and its flags, in one ``marshal`` file per Python version and regex engine (``_sre.MAGIC``)
in the user cache directory; the next process hands the stored program to ``_sre.compile``, the
same last step ``re.compile`` takes. ``_sre`` validates every program it is given.

Safety: any mismatch or error (another Python, a truncated or corrupt file, a checksum that does
not match, an unwritable directory, an interpreter without ``re._compiler``) falls back to
``re.compile`` silently. The file is written once, at exit, and only when a pattern was missing,
to a temporary name then renamed (atomic), so concurrent processes never read half a file.
``SHIORI_RE_CACHE`` is the directory to use instead, or ``0``/``off`` to compile every time.

``lazy(pattern)`` defers even that to the first use: the span, structure and claim rules are
large alternations that run when an index is built and in ``cite``, not in ``ask``.
"""

from __future__ import annotations

import atexit
import marshal
import os
import re
import sys
import zlib
from pathlib import Path
from typing import Any

try:  # the pieces of ``re._compiler.compile`` (Python 3.11+); older versions compile every time
    import _sre
    from re import _compiler, _parser  # type: ignore[attr-defined]

    _ENGINE: str | None = f"{sys.implementation.cache_tag}-{sys.hexversion:x}-{_sre.MAGIC}-{_sre.CODESIZE}"
except ImportError:  # pragma: no cover - Python 3.10
    _ENGINE = None

_HEADER = b"shiori-re 2\n"
#: Entries from other pattern versions are dropped once the file holds more than this.
MAX_ENTRIES = 1024

#: (pattern, flags) -> (flags, code, groups - 1, groupindex, indexgroup): the arguments of ``_sre.compile``.
_Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
#: The file maps each key to its entry marshalled on its own, so that a process unmarshals the few
#: dozen programs it uses, not the hundreds every command and version put there (0.35 MB: 10-20 ms).
_Blobs = dict[tuple[str, int], bytes]


class _Store:
    """The programs read from the cache file, and those compiled by this process."""

    def __init__(self) -> None:
        self.loaded = False
        self.entries: _Blobs = {}
        self.used: set[tuple[str, int]] = set()
        self.dirty = False
        self.registered = False
        self.path: Path | None = None

    def load(self) -> None:
        self.loaded = True
        self.path = cache_path()
        if self.path is None:
            return
        try:
            data = self.path.read_bytes()
        except OSError:
            return
        self.entries = decode(data)

    def save(self) -> None:
        if not self.dirty or self.path is None:
            return
        self.dirty = False
        entries = self.entries
        if len(entries) > MAX_ENTRIES:
            entries = {k: v for k, v in entries.items() if k in self.used}
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(encode(entries))
            os.replace(tmp, self.path)
        except (OSError, ValueError):  # unwritable, or an entry marshal cannot store
            try:
                tmp.unlink()
            except OSError:
                pass


_STORE = _Store()
#: Every (pattern, flags) given to ``rx`` or ``lazy`` in this process (the tests compare them all).
REQUESTED: set[tuple[str, int]] = set()


def cache_path() -> Path | None:
    """The cache file of this interpreter (``None``: no cache)."""
    if _ENGINE is None:
        return None
    where = os.environ.get("SHIORI_RE_CACHE", "")
    if where.lower() in ("0", "off", "false", "no"):
        return None
    if where:
        base = Path(where)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        try:
            base = (Path(xdg) if xdg else Path.home() / ".cache") / "shiori"
        except (RuntimeError, KeyError):  # no home directory to be found
            return None
    return base / f"re-{_ENGINE}.marshal"


def encode(entries: _Blobs) -> bytes:
    payload = marshal.dumps(entries)
    return _HEADER + zlib.crc32(payload).to_bytes(4, "big") + payload


def decode(data: bytes) -> _Blobs:
    """The entries of a cache file; ``{}`` for anything but an intact file."""
    if not data.startswith(_HEADER):
        return {}
    checksum, payload = data[len(_HEADER):len(_HEADER) + 4], data[len(_HEADER) + 4:]
    if zlib.crc32(payload).to_bytes(4, "big") != checksum:
        return {}
    try:
        entries = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _program(pattern: str, flags: int) -> _Entry:
    """What ``re._compiler.compile`` hands to ``_sre.compile``, computed the same way."""
    p = _parser.parse(pattern, flags)
    code = _compiler._code(p, flags)
    groupindex = dict(p.state.groupdict)
    indexgroup: list[str | None] = [None] * p.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    # ``code`` holds named int constants (opcodes): plain ints marshal, and ``_sre`` reads them alike.
    return (flags | p.state.flags, [int(c) for c in code], p.state.groups - 1, groupindex, tuple(indexgroup))


def rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)``, with the compiled program kept on disk between processes."""
    flags = int(flags)
    REQUESTED.add((pattern, flags))
    if _ENGINE is None or not isinstance(pattern, str) or flags & re.DEBUG:
        return re.compile(pattern, flags)
    store = _STORE
    if not store.loaded:
        store.load()
    key = (pattern, flags)
    blob = store.entries.get(key)
    if blob is not None:
        try:
            compiled = _sre.compile(pattern, *marshal.loads(blob))
            store.used.add(key)
            return compiled
        except Exception:  # a program this engine rejects: compile it anew below
            del store.entries[key]
    try:
        entry = _program(pattern, flags)
        compiled = _sre.compile(pattern, *entry)
    except re.error:
        raise
    except Exception:  # the private steps changed: the public way
        return re.compile(pattern, flags)
    if store.path is not None:
        store.entries[key] = marshal.dumps(entry)
        store.used.add(key)
        store.dirty = True
        if not store.registered:
            store.registered = True
            atexit.register(store.save)
    return compiled


class LazyPattern:
    """A ``re.Pattern`` stand-in that compiles itself (``rx``) the first time it is used."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        REQUESTED.add((pattern, int(flags)))
        self._compiled: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = rx(*self._args)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self._get(), name)


def lazy(pattern: str, flags: int = 0) -> Any:
    """``rx(pattern, flags)``, deferred until the pattern is first used."""
    return LazyPattern(pattern, flags)
