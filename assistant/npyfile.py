"""Growing ``.npy`` files in place: append rows, then rewrite the shape in the header.

numpy pads every ``.npy`` header so that the length of the first axis can grow
without moving the data (``numpy.lib.format.GROWTH_AXIS_MAX_DIGITS``), so an index
column can take new rows by appending bytes and rewriting the header's shape: no
copy of the existing rows (12 GiB of sentence vectors at 1M passages).

A file may hold more rows than the index manifest has committed (an update that
crashed before its manifest was written); ``committed`` cuts that tail off before
new rows are written, and readers only ever use the committed rows.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npformat

from assistant.errors import IndexCorruptError


def _read_header(f) -> tuple[int, tuple[int, ...], bool, np.dtype]:  # type: ignore[no-untyped-def]
    """(header length in bytes, shape, fortran order, dtype) of an open ``.npy`` file."""
    f.seek(0)
    version = npformat.read_magic(f)
    reader = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
    shape, fortran, dtype = reader(f)
    return f.tell(), tuple(shape), fortran, np.dtype(dtype)


def header_info(path: Path) -> tuple[int, tuple[int, ...], np.dtype]:
    """(header length, shape, dtype) of a ``.npy`` file."""
    with open(path, "rb") as f:
        hlen, shape, _, dtype = _read_header(f)
    return hlen, shape, dtype


def _write_header(f, hlen: int, shape: tuple[int, ...], dtype: np.dtype) -> None:  # type: ignore[no-untyped-def]
    """Rewrite the header in place with numpy's own writer (the bytes ``np.save`` would write)."""
    f.seek(0)
    version = npformat.read_magic(f)
    buf = io.BytesIO()
    header = {"descr": npformat.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    writer = npformat.write_array_header_1_0 if version == (1, 0) else npformat.write_array_header_2_0
    writer(buf, header)
    if len(buf.getvalue()) != hlen:
        raise IndexCorruptError(f"{getattr(f, 'name', 'array')}: the .npy header has no room for shape {shape}",
                                hint="run `shiori index --rebuild`")
    f.seek(0)
    f.write(buf.getvalue())


def create(path: Path, dtype: np.dtype | type, tail: tuple[int, ...] = ()) -> None:
    """An empty ``.npy`` (shape ``(0, *tail)``) ready to grow."""
    np.save(path, np.zeros((0, *tail), dtype=dtype), allow_pickle=False)


def append(path: Path, rows: np.ndarray, committed: int | None = None) -> int:
    """Append ``rows`` to the ``.npy`` at ``path``; returns the new number of rows.

    ``committed`` (when given) is how many rows the file is known to hold for
    good: anything beyond is cut off first. The dtype and trailing shape must match.
    """
    with open(path, "r+b") as f:
        hlen, shape, fortran, dtype = _read_header(f)
        rows = np.ascontiguousarray(rows, dtype=dtype)
        if fortran or tuple(rows.shape[1:]) != shape[1:]:
            raise ValueError(f"{path}: cannot append rows of shape {rows.shape[1:]} to {shape}")
        have = shape[0] if committed is None else committed
        if have > shape[0]:
            raise IndexCorruptError(f"{path} holds {shape[0]} rows, the index says {have}",
                                    hint="run `shiori index --rebuild`")
        row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        end = hlen + have * row_bytes
        f.truncate(end)
        f.seek(end)
        f.write(rows.tobytes())
        new_shape = (have + len(rows), *shape[1:])
        _write_header(f, hlen, new_shape, dtype)
    return new_shape[0]


def truncate(path: Path, committed: int) -> None:
    """Cut the ``.npy`` at ``path`` back to its first ``committed`` rows."""
    append(path, np.zeros((0, *header_info(path)[1][1:]), dtype=header_info(path)[2]), committed)


def load_rows(path: Path, committed: int | None = None, mmap: bool = True) -> np.ndarray:
    """The first ``committed`` rows (default all) of a ``.npy``, memory-mapped when possible.

    A plain ndarray view of the map: slicing a ``np.memmap`` subclass costs ~10 µs a
    call in ``__array_finalize__``, and answering slices thousands of times.
    """
    try:
        # A str, not a Path: numpy's memmap resolves a Path (a few syscalls a file) to name its map.
        arr = np.asarray(np.load(os.fspath(path), mmap_mode="r" if mmap else None, allow_pickle=False))
    except ValueError:
        if not mmap:
            raise
        arr = np.load(path, allow_pickle=False)  # numpy cannot map an empty array
    if committed is None:
        return arr
    if len(arr) < committed:
        raise ValueError(f"{Path(path).name} holds {len(arr)} rows, the index manifest says {committed}")
    return arr[:committed]


class RowReader:
    """Rows of a ``.npy`` (or bytes of any file) read with ``pread``, never memory-mapped.

    A read-only map of an index file counts towards the process's RSS for every
    page it touches, and the kernel maps the cached pages around each fault too
    (64 KiB): scattered reads over a 12 GiB column (the sentence vectors at 1M
    passages) would soon map all of it. ``pread`` copies only the rows asked for;
    the page cache keeps hot pages for every process without charging any of them.
    """

    def __init__(self, path: Path, count: int | None = None, raw: bool = False) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if raw:
                self.header, self.shape, self.dtype = 0, (os.fstat(fd).st_size,), np.dtype(np.uint8)
            else:
                with open(fd, "rb", closefd=False) as f:
                    hlen, shape, fortran, dtype = _read_header(f)
                if fortran:
                    raise ValueError(f"{self.path.name} is stored in Fortran order")
                self.header, self.shape, self.dtype = hlen, shape, dtype
            have = self.shape[0]
            if count is not None and count > have:
                raise ValueError(f"{self.path.name} holds {have} rows, the index manifest says {count}")
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd  # owned from here on: closed once, by __del__
        self.row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        self.row_bytes = self.row_items * self.dtype.itemsize
        self.rows = have if count is None else count

    def __len__(self) -> int:
        return self.rows

    def __del__(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)

    def _read(self, start: int, stop: int) -> bytes:
        n = (stop - start) * self.row_bytes
        assert self._fd is not None
        data = os.pread(self._fd, n, self.header + start * self.row_bytes)
        if len(data) != n:
            raise IndexCorruptError(f"{self.path} is shorter than its header says",
                                    hint="run `shiori index --rebuild`")
        return data

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start..stop`` (clipped to the committed rows), as a new array."""
        start, stop = max(0, start), min(stop, self.rows)
        if stop <= start:
            return np.zeros((0, *self.shape[1:]), self.dtype)
        return np.frombuffer(self._read(start, stop), self.dtype).reshape(stop - start, *self.shape[1:])

    def runs(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The rows of several runs ``[starts[i], starts[i] + lengths[i])``, concatenated in order."""
        parts = [self._read(int(a), int(a) + int(n)) for a, n in zip(starts, lengths, strict=True) if n > 0]
        flat = np.frombuffer(b"".join(parts), self.dtype)
        return flat.reshape(-1, *self.shape[1:])

    def blocks(self, rows_per_block: int = 1 << 22):  # type: ignore[no-untyped-def]
        """The committed rows in blocks (a scan that maps nothing)."""
        for s in range(0, self.rows, rows_per_block):
            yield self.slice(s, min(self.rows, s + rows_per_block))


class Rows:
    """A read-only array-like over a ``RowReader``: indexing reads the rows it names.

    Slices and index arrays read only their rows (``x[a:b] @ q`` costs those rows);
    ``np.asarray(x)`` or ``x @ q`` read all of them (the exact path of a small index).
    """

    def __init__(self, reader: RowReader) -> None:
        self.reader = reader
        self.dtype = reader.dtype
        self.shape = (len(reader), *reader.shape[1:])
        self.ndim = len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            i = int(key) + (len(self) if key < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(key)
            return self.reader.slice(i, i + 1)[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            rows = self.reader.slice(start, stop) if stop > start else self.reader.slice(0, 0)
            return rows if step == 1 else rows[::step]
        idx = np.asarray(key)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).ravel()
        if not len(idx):
            return self.reader.slice(0, 0)
        if idx.min() < -len(self) or idx.max() >= len(self):
            raise IndexError("row index out of range")
        idx = np.where(idx < 0, idx + len(self), idx)
        # One read per run of consecutive rows (a passage's sentences are one run).
        breaks = np.flatnonzero(np.diff(idx) != 1) + 1
        starts = idx[np.concatenate(([0], breaks))]
        lengths = np.diff(np.concatenate(([0], breaks, [len(idx)])))
        return self.reader.runs(starts, lengths)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self.reader.slice(0, len(self))
        return out.astype(dtype) if dtype is not None else out

    def __matmul__(self, other: Any) -> np.ndarray:
        return np.asarray(self) @ other
