"""Dense vectors in Milvus (``--store milvus``), through llama-index's ``MilvusVectorStore``.

Only the dense vectors move: ``chunks.jsonl``, BM25 and the sentence data stay in
``index/`` as for FAISS, so answers and citations are built from the same files
whichever store ranked the passages. Each build writes two new collections,

    <prefix>_<build>_p   one entity per passage  (id = chunk id)
    <prefix>_<build>_s   one entity per sentence (id = "<chunk id>#<n>")

with the provenance as scalar fields (``doc``, ``first_line``, ``last_line``, ``row``;
``page``, ``title`` and ``heading`` ride in the dynamic field) and the search text.
The manifest records the URI and the collection names; the collections of the
index being replaced are dropped only after the new index is swapped in, so a
crash mid-build leaves the previous index and its collections intact.

The URI is a Milvus Lite database (a directory ending in ``.db``, one process at a
time) or a Milvus server (``http://host:19530``). Vectors are L2-normalised and
compared by inner product. The index type follows ``dense.choose_kind``: exact
(FLAT) up to ``HNSW_THRESHOLD`` vectors, HNSW with FAISS's parameters above.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.config import Settings
from assistant.dense import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, StoreBatch, choose_kind
from assistant.errors import BackendUnavailableError, IndexCorruptError, IndexStaleError, UsageError
from assistant.lazyre import rx

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.milvus import MilvusVectorStore

    from assistant.chunking import Chunk
    from assistant.dense import SentenceVectors

logger = logging.getLogger(__name__)

#: Scalar fields of both collections (typed, filterable); everything else is dynamic.
FIELDS: tuple[str, ...] = ("doc", "first_line", "last_line", "row")
#: Entities per insert call (and per MilvusVectorStore batch).
INSERT_BATCH = 2000
#: Milvus's largest top-k.
MAX_TOPK = 16_384
#: Sentences first fetched per passage candidate (doubled until the ranking is exact).
SENTENCE_FACTOR = 4
_PREFIX_RE = rx(r"[A-Za-z_][A-Za-z0-9_]{0,200}")
_INSTALL_HINT = "pip install 'shiori[scale]'"


def is_lite(uri: str) -> bool:
    """pymilvus's own rule: a ``*.db`` path is a Milvus Lite database."""
    return uri.endswith(".db")


def _unreachable(uri: str, e: Exception) -> BackendUnavailableError:
    message = str(getattr(e, "message", None) or e).splitlines()[0]
    if is_lite(uri):
        hint = (
            "Milvus Lite opens a database in one process at a time: stop the other shiori "
            "(e.g. `shiori serve`) or point SHIORI_MILVUS_URI at a Milvus server"
        )
    else:
        hint = "check SHIORI_MILVUS_URI, SHIORI_MILVUS_TOKEN and that the server is up"
    return BackendUnavailableError(f"cannot open Milvus at {uri}: {message}", hint=hint)


@contextlib.contextmanager
def _connecting() -> Iterator[None]:
    """Milvus Lite logs a traceback when it cannot open a database (e.g. locked by another
    process); shiori reports the cause in one line instead (the traceback stays with --debug)."""
    _quiet_lite_server()
    log = logging.getLogger("milvus_lite.server_manager")
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        yield
        return
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


def _quiet_lite_server() -> None:
    """Milvus Lite's in-process gRPC server does not implement every call pymilvus makes
    (``AllocTimestamp``); pymilvus falls back, but grpc logs each refusal as an ERROR with a
    traceback. Silence that logger unless debugging."""
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)


def _client(settings: Settings) -> Any:
    """A pymilvus ``MilvusClient`` for checks and drops (the wrapper below has no 'exists')."""
    try:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as e:
        raise BackendUnavailableError("--store milvus needs pymilvus", hint=_INSTALL_HINT) from e
    uri = settings.resolved_milvus_uri()
    if is_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        with _connecting():
            return MilvusClient(uri=uri, token=settings.milvus_token or "")
    except MilvusException as e:
        raise _unreachable(uri, e) from e


def _vector_store(
    settings: Settings, name: str, dim: int, *, create_kind: str | None = None
) -> MilvusVectorStore:
    """The llama-index store over one collection; ``create_kind`` (re)creates it empty."""
    try:
        from llama_index.vector_stores.milvus import MilvusVectorStore
        from pymilvus import DataType
        from pymilvus.exceptions import MilvusException
    except ImportError as e:
        raise BackendUnavailableError(
            "--store milvus needs llama-index-vector-stores-milvus and pymilvus", hint=_INSTALL_HINT
        ) from e
    uri = settings.resolved_milvus_uri()
    kwargs: dict[str, Any] = {
        "uri": uri,
        "token": settings.milvus_token or "",
        "collection_name": name,
        "dim": dim,
        "similarity_metric": "IP",
        "scalar_field_names": list(FIELDS),
        "scalar_field_types": [DataType.VARCHAR, DataType.INT64, DataType.INT64, DataType.INT64],
        "output_fields": ["row"],
        "batch_size": INSERT_BATCH,
        # Readers are other processes (and machines): they must see a finished build.
        "consistency_level": "Strong",
        "use_async_client": False,
    }
    if create_kind is not None:
        kwargs["overwrite"] = True
        kwargs["index_config"] = (
            {"index_type": "HNSW", "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
            if create_kind == "hnsw"
            else {"index_type": "FLAT"}
        )
    if is_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        with _connecting():
            return MilvusVectorStore(**kwargs)
    except MilvusException as e:
        raise _unreachable(uri, e) from e


# ------------------------------------------------------------------------ build


def _batched(n: int, size: int) -> Iterator[range]:
    for s in range(0, n, size):
        yield range(s, min(s + size, n))


def _passage_node(chunk: Chunk, row: int, vector: np.ndarray) -> TextNode:
    node = chunk.to_node()
    node.metadata.pop("original_text", None)  # the exact text stays in chunks.jsonl
    node.metadata["row"] = row
    node.embedding = vector.tolist()
    return node


def _sentence_node(chunk: Chunk, row: int, n: int, text: str, vector: np.ndarray) -> TextNode:
    from llama_index.core.schema import TextNode

    return TextNode(
        id_=f"{chunk.id}#{n}",
        text=text,
        metadata={
            "doc": chunk.doc,
            "first_line": chunk.first_line,
            "last_line": chunk.last_line,
            "row": row,
            "page": chunk.page,
            "passage_id": chunk.id,
        },
        embedding=vector.tolist(),
    )


def collections_of(meta: dict[str, Any]) -> list[str]:
    return [meta[p]["collection"] for p in ("passages", "sentences") if isinstance(meta.get(p), dict)]


def drop_store(settings: Settings, meta: dict[str, Any], keep: Sequence[str] = ()) -> None:
    """Drop an index's collections (those of a replaced or failed build); failures are logged."""
    names = [n for n in collections_of(meta) if n not in keep]
    if not names:
        return
    if meta.get("uri") != settings.resolved_milvus_uri():
        logger.warning(
            "left collections %s at %s (not the current SHIORI_MILVUS_URI)", names, meta.get("uri")
        )
        return
    try:
        from pymilvus.exceptions import MilvusException
    except ImportError:
        logger.warning("left collections %s at %s: pymilvus is not installed", names, meta.get("uri"))
        return
    try:
        client = _client(settings)
        for name in names:
            if client.has_collection(name):
                client.drop_collection(name)
    except (MilvusException, BackendUnavailableError) as e:
        logger.warning("could not drop Milvus collections %s: %s", names, e)


# ------------------------------------------------------------------------ store


class MilvusStore:
    """The dense store of an index whose vectors live in Milvus (``dense.DenseStore``).

    ``search`` keeps the protocol's contract (passage vectors only); ``best_rows``
    scores passages by the best of their own and their sentences' similarity, as the
    exact local store does. ``add`` inserts into the index's collections, so an
    incremental update needs no new collections.
    """

    kind = "milvus"

    def __init__(
        self,
        settings: Settings,
        passages: MilvusVectorStore,
        sentences: MilvusVectorStore | None,
        meta: dict[str, Any],
        chunk_id: Callable[[int], str] | None = None,
    ) -> None:
        self._settings = settings
        self._passages = passages
        self._sentences = sentences
        self.meta = meta
        self._chunk_id = chunk_id
        self._dirty = False

    # -- protocol
    @classmethod
    def create(cls, settings: Settings, dim: int, directory: Path,
               size_hint: tuple[int, int] = (0, 0)) -> MilvusStore:
        """Two new, empty collections named after a new build id (index type by ``size_hint``)."""
        prefix = settings.milvus_collection
        if not _PREFIX_RE.fullmatch(prefix):
            raise UsageError(
                f"milvus_collection {prefix!r} must be letters, digits and underscores, not starting with a digit"
            )
        uri = settings.resolved_milvus_uri()
        build = hashlib.sha1(f"{size_hint}:{time.time_ns()}:{os.getpid()}".encode()).hexdigest()[:10]
        meta: dict[str, Any] = {"kind": "milvus", "uri": uri, "prefix": prefix, "metric": "IP", "dim": dim}
        stores = []
        try:
            for part, n in zip(("passages", "sentences"), size_hint, strict=True):
                name = f"{prefix}_{build}_{part[0]}"
                kind = choose_kind(n)
                meta[part] = {"collection": name, "count": 0, "index": kind}
                stores.append(_vector_store(settings, name, dim, create_kind=kind))
        except BaseException:
            cls.release(settings, meta)  # a half-created build must not linger
            raise
        return cls(settings, stores[0], stores[1], meta)

    @classmethod
    def load(cls, settings: Settings, directory: Path, manifest: dict[str, Any],
             chunk_id: Callable[[int], str]) -> MilvusStore:
        """Connect to an index's collections after checking they exist and hold every row."""
        meta = dict(manifest.get("store") or {})
        uri = settings.resolved_milvus_uri()
        if meta.get("kind") != "milvus" or meta.get("uri") != uri:
            raise IndexStaleError(
                f"the index was built for vector store {meta.get('kind', 'faiss')} "
                f"at {meta.get('uri')!r}, not Milvus at {uri}",
                hint="run `shiori index`",
            )
        client = _client(settings)
        for part in ("passages", "sentences"):
            name, want = meta[part]["collection"], int(meta[part]["count"])
            if not client.has_collection(name):
                raise IndexStaleError(f"Milvus collection {name} is missing at {uri}", hint="run `shiori index`")
            # Collections are released when Milvus (or a Milvus Lite process) restarts.
            client.load_collection(name)
            have = int(client.get_collection_stats(name).get("row_count", -1))
            if have > want:
                # An update that crashed before its manifest was written: its rows are not the index's.
                client.delete(name, filter=f"row >= {int(meta['passages']['count'])}")
                client.flush(name)
                have = int(client.get_collection_stats(name).get("row_count", -1))
            if have != want:
                raise IndexCorruptError(
                    f"Milvus collection {name} has {have} entities, the index has {want}",
                    hint="run `shiori index --rebuild`",
                )
        dim = int(meta["dim"])
        passages = _vector_store(settings, meta["passages"]["collection"], dim)
        sentences = _vector_store(settings, meta["sentences"]["collection"], dim)
        return cls(settings, passages, sentences, meta, chunk_id)

    @classmethod
    def release(cls, settings: Settings, meta: dict[str, Any], keep: dict[str, Any] | None = None) -> None:
        """Drop the collections ``meta`` names (a replaced or failed build), except ``keep``'s."""
        drop_store(settings, meta, keep=collections_of(keep or {}))

    @property
    def dim(self) -> int:
        return int(self.meta["dim"])

    def __len__(self) -> int:
        return int(self.meta["passages"]["count"])

    def add(self, batch: StoreBatch) -> None:
        if batch.row0 != len(self):
            raise ValueError(f"rows must be added in order: expected row {len(self)}, got {batch.row0}")
        if not self._dirty:
            # Leftovers of an update that crashed before its manifest (rows >= the committed count).
            for part, store in (("passages", self._passages), ("sentences", self._sentences)):
                store.client.delete(self.meta[part]["collection"], filter=f"row >= {len(self)}")
        self._dirty = True
        t0 = time.perf_counter()
        sent_rows = np.asarray(batch.sent_rows, dtype=np.int64)
        # A sentence's number inside its passage (all of a passage's sentences come in one batch).
        starts = np.searchsorted(sent_rows, sent_rows, side="left")
        numbers = np.arange(len(sent_rows)) - starts
        parts = (
            ("passages", self._passages, len(batch.vectors),
             lambda i: _passage_node(batch.chunks[i], batch.row0 + i, batch.vectors[i])),
            ("sentences", self._sentences, len(sent_rows),
             lambda i: _sentence_node(batch.chunks[int(sent_rows[i]) - batch.row0], int(sent_rows[i]),
                                      int(numbers[i]), batch.sent_texts[i], batch.sent_vectors[i])),
        )
        for part, store, n, make in parts:
            for rows in _batched(n, INSERT_BATCH):
                store.add([make(i) for i in rows])
            self.meta[part]["count"] = int(self.meta[part]["count"]) + n
        self.meta["write_seconds"] = round(self.meta.get("write_seconds", 0.0) + time.perf_counter() - t0, 3)

    def save(self) -> dict[str, Any]:
        if self._dirty:
            for part, store in (("passages", self._passages), ("sentences", self._sentences)):
                # Without a flush Milvus searches the unsealed rows by brute force (slow).
                store.client.flush(self.meta[part]["collection"])
            self._dirty = False
            logger.info("wrote %d passages and %d sentences to Milvus %s (%s)", len(self),
                        self.meta["sentences"]["count"], self.meta["uri"], ", ".join(collections_of(self.meta)))
        return self.metadata()

    def metadata(self) -> dict[str, Any]:
        return self.meta

    def _query(
        self, store: MilvusVectorStore, part: str, qvec: np.ndarray, limit: int
    ) -> list[tuple[int, float]]:
        from llama_index.core.vector_stores.types import VectorStoreQuery

        kwargs: dict[str, Any] = {}
        if self.meta[part]["index"] == "hnsw":
            kwargs["milvus_search_config"] = {"params": {"ef": max(HNSW_EF_SEARCH, limit)}}
        res = store.query(
            VectorStoreQuery(query_embedding=np.asarray(qvec, np.float32).tolist(), similarity_top_k=limit),
            **kwargs,
        )
        out: list[tuple[int, float]] = []
        for node_id, node, score in zip(res.ids or [], res.nodes or [], res.similarities or [], strict=True):
            row = node.metadata.get("row")
            owner = node_id.rsplit("#", 1)[0] if part == "sentences" else node_id
            if not isinstance(row, int) or not 0 <= row < len(self) or (
                self._chunk_id is not None and self._chunk_id(row) != owner
            ):
                raise IndexCorruptError(
                    f"Milvus collection {self.meta[part]['collection']} does not match chunks.jsonl "
                    f"(entity {node_id!r}, row {row!r})",
                    hint="run `shiori index --rebuild`",
                )
            out.append((row, float(score)))
        return out

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` passage rows per query by passage vector: (scores, rows)."""
        q = np.atleast_2d(np.asarray(queries, np.float32))
        k = min(k, len(self), MAX_TOPK)
        scores = np.full((len(q), k), -np.inf, np.float32)
        rows = np.full((len(q), k), -1, np.int64)
        for i, vec in enumerate(q):
            hits = sorted(self._query(self._passages, "passages", vec, k), key=lambda t: (-t[1], t[0]))
            for j, (row, sc) in enumerate(hits):
                rows[i, j], scores[i, j] = row, sc
        return scores, rows

    def score_rows(self, qvec: np.ndarray, rows: np.ndarray, sentences: SentenceVectors | None) -> np.ndarray | None:
        """Not offered: the vectors live in Milvus, and a filtered search per query costs a round trip."""
        return None

    def best_rows(self, qvec: np.ndarray, n: int, sentences: SentenceVectors | None) -> list[tuple[int, float]]:
        """Top ``n`` rows by max(passage, best sentence) similarity, best first, ties by row.

        The sentences are ranked by the sentence collection (``sentences`` only says
        whether to use them). With exact (FLAT) collections the result equals the exact
        local store's: the sentence list is widened until its last score is below the
        n-th fused score, so no sentence that could change the top ``n`` is unseen.
        """
        n = min(n, len(self), MAX_TOPK)
        passage_hits = self._query(self._passages, "passages", qvec, n)
        best = dict(passage_hits)
        ranked = sorted(best.items(), key=lambda t: (-t[1], t[0]))
        if sentences is not None and self._sentences is not None and self.meta["sentences"]["count"]:
            total = int(self.meta["sentences"]["count"])
            m = min(SENTENCE_FACTOR * n, total, MAX_TOPK)
            while True:
                sent_hits = self._query(self._sentences, "sentences", qvec, m)
                merged = dict(best)
                for row, sc in sent_hits:
                    if sc > merged.get(row, -np.inf):
                        merged[row] = sc
                ranked = sorted(merged.items(), key=lambda t: (-t[1], t[0]))[:n]
                seen_all = len(sent_hits) < m or m >= min(total, MAX_TOPK)
                if seen_all or (len(ranked) >= n and sent_hits[-1][1] < ranked[-1][1]):
                    break
                m = min(2 * m, total, MAX_TOPK)
        return ranked[:n]
