"""Index build: full build and incremental rebuild beside the embedder's raw throughput.

Runs as a worker task (its own process, so its peak RSS is the build's). The
yardstick is the embedder encoding exactly the texts the build embeds (unique
passages and sentences, in batches of ``Settings.batch_size``) in the same process.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.util import vm_hwm_kib

logger = logging.getLogger(__name__)

#: A small document added to the temp corpus to time an incremental rebuild.
SMALL_DOC = """\
宇宙基本計画の推進に関する覚書（ベンチマーク用の小文書）

1. 目的
本覚書は、小型衛星の打上げ機会を拡大し、大学や新興企業の参入を促すための取組を整理するものである。

2. 主な取組
・打上げ費用の一部を補助する制度を令和7年度に創設する。
・地上局の共同利用を進め、運用費用を3割削減することを目指す。
・人材育成のため、年間100名の研修を実施する。

3. 推進体制
関係府省で構成する連絡会議を設け、年2回進捗を確認する。
"""


def prepare_workspace(
    root: Path, corpus_src: Path = ROOT / "corpus", first_only: bool = False
) -> tuple[Path, Path]:
    """Copy the corpus into ``root/corpus``; the index will live in ``root/index``.

    ``first_only`` keeps only the manifest's first document (``--quick``: every
    section still runs, on about a quarter of the texts, in under a minute).
    """
    from assistant.corpus import read_manifest, write_manifest

    corpus = Path(root) / "corpus"
    shutil.copytree(corpus_src, corpus, ignore=shutil.ignore_patterns(".*"))
    if first_only:
        docs = read_manifest(corpus)
        for d in docs[1:]:
            for f in corpus.glob(f"{Path(d.id).stem}*"):
                f.unlink()
        write_manifest(corpus, docs[:1])
    return corpus, Path(root) / "index"


def bench_settings(corpus_dir: Path, index_dir: Path, **overrides: Any):  # type: ignore[no-untyped-def]
    """Default settings on the temp corpus/index; ``SHIORI_*`` variables are ignored."""
    from assistant.config import Settings

    return Settings.from_env(
        environ={}, corpus_dir=Path(corpus_dir), index_dir=Path(index_dir), auto_rebuild=False, **overrides
    )


def embedded_texts(settings) -> tuple[list[list[str]], int, int]:  # type: ignore[no-untyped-def]
    """The texts a full build embeds, grouped as it embeds them.

    ``store.build_index`` embeds the unique passage search texts, then the unique
    sentences not already embedded (the cache holds the passages by then); each
    group goes in batches of ``Settings.batch_size``.
    """
    from assistant.chunking import chunk_corpus, split_sentences
    from assistant.corpus import load_corpus

    chunks = chunk_corpus(load_corpus(settings.corpus_dir), settings.chunk_chars, settings.chunk_overlap)
    passages = list(dict.fromkeys(c.search_text for c in chunks))
    seen = set(passages)
    sentences = [
        t for t in dict.fromkeys(s.text for c in chunks for s in split_sentences(c)) if t not in seen
    ]
    n_sent = sum(len(split_sentences(c)) for c in chunks)
    return [passages, sentences], len(chunks), n_sent


def _raw_pass(embedder, groups: list[list[str]], batch: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds of ``embed_passages`` over the build's texts, in the build's batches."""
    t0, c0 = time.perf_counter(), time.process_time()
    for texts in groups:
        for s in range(0, len(texts), batch):
            embedder.embed_passages(texts[s : s + batch])
    return time.perf_counter() - t0, time.process_time() - c0


def build_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: raw throughput, full build, raw again (unless quick), add a doc, rebuild."""
    from assistant.corpus import add_document
    from assistant.embedding import load_embedder
    from assistant.pipeline import Pipeline

    settings = bench_settings(task["corpus_dir"], task["index_dir"])
    t0 = time.perf_counter()
    embedder = load_embedder(settings.embedder)
    embedder.embed_passages(["ウォームアップ"])
    load_s = time.perf_counter() - t0
    groups, n_passages, n_sentences = embedded_texts(settings)
    n_texts = sum(map(len, groups))
    raw = [_raw_pass(embedder, groups, settings.batch_size)]
    logger.info("raw embedding of %d texts: %.1fs", n_texts, raw[0][0])

    t0, c0 = time.perf_counter(), time.process_time()
    manifest = Pipeline(settings, embedder=embedder, progress=False).build(rebuild=True)
    full_s, full_cpu = time.perf_counter() - t0, time.process_time() - c0
    hwm_build = vm_hwm_kib()
    logger.info("full build: %.1fs", full_s)
    if not task.get("quick"):
        raw.append(_raw_pass(embedder, groups, settings.batch_size))
    raw_s = [w for w, _ in raw]
    raw_cpu = sum(c for _, c in raw) / len(raw)

    small = Path(task["workdir"]) / "benchmark_small_doc.txt"
    small.write_text(SMALL_DOC, encoding="utf-8")
    info = add_document(settings.corpus_dir, small, title="宇宙基本計画の推進に関する覚書（ベンチマーク用）")
    t0 = time.perf_counter()
    manifest2 = Pipeline(settings, embedder=embedder, progress=False).build()
    rebuild_s = time.perf_counter() - t0
    logger.info("rebuild after adding %s: %.2fs", info.id, rebuild_s)

    raw_mean = sum(raw_s) / len(raw_s)
    return {
        "embedder": embedder.name,
        "model_load_s": load_s,
        "passages": manifest["passages"],
        "sentences": manifest["sentences"],
        "texts_embedded": manifest.get("embedded_new"),
        "unique_texts": n_texts,
        "chunked_passages": n_passages,
        "chunked_sentences": n_sentences,
        "batch_size": settings.batch_size,
        "raw_embed_s": raw_s,
        "raw_texts_per_s": n_texts / raw_mean,
        "full_build_s": full_s,
        "manifest_build_s": manifest.get("build_seconds"),
        "manifest_embed_s": manifest.get("embed_seconds"),
        "build_texts_per_s": n_texts / full_s,
        "build_passages_per_s": manifest["passages"] / full_s,
        "build_over_raw": raw_mean / full_s,
        # CPU seconds (all threads) are far less sensitive to other processes' load.
        "raw_cpu_s": raw_cpu,
        "full_build_cpu_s": full_cpu,
        "build_over_raw_cpu": raw_cpu / full_cpu,
        "vmhwm_after_build_kib": hwm_build,
        "added_doc": info.id,
        "added_doc_chars": len(SMALL_DOC),
        "rebuild_s": rebuild_s,
        "rebuild_embedded": manifest2.get("embedded_new"),
        "rebuild_passages": manifest2["passages"],
        # 1 when `shiori index` appended the document in place (writer.update_index).
        "rebuild_in_place": manifest2.get("updates") == 1,
        "rebuild_fraction": rebuild_s / full_s,
    }
