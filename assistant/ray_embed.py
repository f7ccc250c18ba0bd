"""Distributed embedding for large ingests with Ray Data (``SHIORI_EMBED_ENGINE=ray``).

The same contract as ``embedding.embed_passages_cached`` (and the same cache): the
texts not yet cached go into a Ray dataset, ``map_batches`` runs the configured
embedder (``Settings.embedder``, loaded once per worker actor) on every worker,
and the driver streams the finished batches back, writing each to the
``EmbeddingCache`` as it arrives: an interrupted ingest keeps every finished
batch, and the next run sends only the rest. The driver then writes the vectors
to the store (FAISS files or Milvus) as in a local build.

``Settings.ray_address`` names an existing cluster (``auto``, ``ray://head:10001``);
without it a local Ray is started (no dashboard). Ray is imported only here.
"""

from __future__ import annotations

import functools
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.embedding import Embedder, EmbeddingCache, load_embedder, split_cached
from assistant.errors import BackendUnavailableError, EmbedderUnavailableError

logger = logging.getLogger(__name__)

#: Batches per dataset block (a block is the unit a worker takes at a time).
BATCHES_PER_BLOCK = 64
#: Blocks per worker at least, so every worker gets work and stragglers are short.
BLOCKS_PER_WORKER = 4


def ensure_ray(settings: Settings) -> Any:
    """The ``ray`` module, connected to ``settings.ray_address`` or to a new local Ray."""
    try:
        import ray
        import ray.data  # noqa: F401  (fails early when only ray core is installed)
    except ImportError as e:
        raise BackendUnavailableError(
            "SHIORI_EMBED_ENGINE=ray needs ray[data]", hint="pip install 'shiori[scale]'"
        ) from e
    if ray.is_initialized():
        return ray
    try:
        if settings.ray_address:
            ray.init(address=settings.ray_address, log_to_driver=False)
        else:
            ray.init(include_dashboard=False, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = settings.ray_address or "a local Ray"
        raise BackendUnavailableError(
            f"cannot start or reach {where}: {e}".splitlines()[0],
            hint="check SHIORI_RAY_ADDRESS (e.g. ray://head:10001)",
        ) from e
    return ray


class EmbedBatch:
    """A Ray Data callable class: one embedder per worker actor, reused for every batch."""

    def __init__(self, spec: str) -> None:
        self.embedder = load_embedder(spec)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed_passages([str(t) for t in batch["text"]])
        return {
            "key": batch["key"],
            "vector": np.asarray(vectors, dtype=np.float32),
            "model": np.full(len(vectors), self.embedder.name),
        }


def _blocks(keys: Sequence[str], texts: Sequence[str], batch_size: int, workers: int) -> list[Any]:
    import pyarrow as pa

    per_block = math.ceil(len(keys) / (BLOCKS_PER_WORKER * workers))
    per_block = min(BATCHES_PER_BLOCK, max(1, math.ceil(per_block / batch_size))) * batch_size
    return [
        pa.table({"key": list(keys[s : s + per_block]), "text": list(texts[s : s + per_block])})
        for s in range(0, len(keys), per_block)
    ]


def embed_passages_ray(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
    *,
    settings: Settings,
) -> tuple[np.ndarray, int]:
    """Embed passages on Ray workers, reusing cached vectors; returns (matrix, number newly embedded).

    ``embedder`` is the driver's copy of the configured model: the workers load
    ``settings.embedder`` themselves, and every batch they return must carry the
    same model name (a worker with another model or version is refused).
    """
    keys, out, todo, first_of = split_cached(texts, cache, embedder.dim, progress)
    if not first_of:
        return out, 0
    copies = Counter(keys[i] for i in todo)
    ray = ensure_ray(settings)
    workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = progress is not None
    uniq_keys = list(first_of)
    blocks = _blocks(uniq_keys, [texts[first_of[k]] for k in uniq_keys], batch_size, workers)
    ds = ray.data.from_arrow(blocks).map_batches(
        EmbedBatch,
        fn_constructor_args=(settings.embedder,),
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=workers),
        num_cpus=1,
    )
    logger.info("embedding %d passages with Ray Data on up to %d workers", len(uniq_keys), workers)
    done: dict[str, np.ndarray] = {}
    for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
        models = set(batch["model"].tolist())
        if models != {embedder.name}:
            raise EmbedderUnavailableError(
                f"Ray workers embedded with {sorted(models)}, this process with {embedder.name!r}",
                hint="install the same shiori, embedder and model on every worker",
            )
        bkeys = [str(k) for k in batch["key"]]
        vecs = np.asarray(batch["vector"], dtype=np.float32).reshape(len(bkeys), embedder.dim)
        if cache:
            cache.put_many(bkeys, vecs)
        done.update(zip(bkeys, vecs, strict=True))
        if progress:
            progress(sum(copies[k] for k in bkeys))
    missing = [k for k in uniq_keys if k not in done]
    if missing:
        raise BackendUnavailableError(
            f"Ray returned no vector for {len(missing)} passages",
            hint="run `shiori index` again: finished batches are cached",
        )
    for i in todo:
        out[i] = done[keys[i]]
    return out, len(uniq_keys)


def ray_embed_function(settings: Settings) -> Callable[..., tuple[np.ndarray, int]]:
    """``embed_passages_cached``'s signature, embedding with Ray under ``settings``."""
    return functools.partial(embed_passages_ray, settings=settings)
