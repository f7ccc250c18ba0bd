"""End to end at scale: ``python -m bench scale --e2e [--passages 1000000]``.

A generated corpus of about ``passages`` passages is indexed by shiori's own writer
(``assistant.writer.IndexWriter``), loaded by the unchanged ``Pipeline`` and asked
the gold questions; then one small document is added with ``shiori add`` +
``shiori index`` (the CLI, in child processes). Each step runs in its own process
so its peak RSS is its own.

How the corpus is made (the real stages run on everything except the vectors):

1. Templates: ``templates`` documents made of the real corpus's paragraphs, shuffled
   and repeated to ``template_chars`` characters, each starting with a title
   sentence. They go through the build's own stages (``writer.compute_part``:
   chunker, sentence splitter, MeCab, span rules, cell recovery) and the real
   embedder, once.
2. Copies: document ``i`` is template ``i % templates`` whose title sentence names a
   made-up body and a number of a fixed width, so every offset stays put. A copy's
   parts are its template's with its own document id, title and chunk ids; the
   passages that hold the title line and their sentences are re-chunked,
   re-tokenised (MeCab) and re-annotated from the copy's text; every vector is its
   template's plus gaussian noise (``noise`` per dimension, then L2-normalised), so no
   two copies share a vector. A sample of copies is re-run through
   ``compute_part`` from their text on disk: their parts must be identical.
3. The corpus directory (texts + manifest) is written beside the index, so the
   manifest check, page lookups and ``shiori add`` work as on a real corpus.

The vocabulary is the real corpus's plus one made-up name and number per
document: BM25 posting lists are longer than a real corpus of this size would
have, so BM25 times are pessimistic.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT
from bench.util import dir_size, vm_hwm_kib

logger = logging.getLogger(__name__)

E2E_PASSAGES = 1_000_000
TEMPLATES = 40
TEMPLATE_CHARS = 16_000
NOISE = 0.02
BATCH_DOCS = 400
VERIFY = 20
QUERIES = 200
KATAKANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
#: The title sentence of every document (fixed width: a copy only changes the name and number).
TITLE = "本資料は{name}協議会の第{number}回会合の配布資料である。"


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(KATAKANA) for _ in range(6))


def title_line(i: int, seed: int = 0) -> str:
    rng = random.Random(f"{seed}:{i}")
    return TITLE.format(name=_name(rng), number=f"{i % 100_000:05d}")


def _paragraphs(texts: Sequence[str]) -> list[str]:
    """Runs of non-blank lines of the source documents."""
    out: list[str] = []
    for text in texts:
        block: list[str] = []
        for line in text.split("\n"):
            if line.strip():
                block.append(line.rstrip())
            elif block:
                out.append("\n".join(block))
                block = []
        if block:
            out.append("\n".join(block))
    return out


def template_texts(sources: Sequence[str], n: int, chars: int, seed: int = 0) -> list[str]:
    """``n`` documents of about ``chars`` characters: a title line, then shuffled source paragraphs."""
    paras = _paragraphs(sources)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        order = list(range(len(paras)))
        rng.shuffle(order)
        body: list[str] = []
        size = 0
        k = 0
        while size < chars:
            p = paras[order[k % len(order)]]
            body.append(p)
            size += len(p) + 2
            k += 1
            if k % len(order) == 0:
                rng.shuffle(order)
        out.append(title_line(i, seed + 1) + "\n\n" + "\n\n".join(body) + "\n")
    return out


def _doc(doc_id: str, text: str):  # type: ignore[no-untyped-def]
    from assistant.corpus import Document, DocumentInfo

    first = text.split("\n", 1)[0]
    info = DocumentInfo(id=doc_id, title=first.rstrip("。")[:60], issuer="bench", date="2025-01-01",
                        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    return Document(info=info, text=text, lines=tuple(text.split("\n")))


def copy_doc(template_text: str, i: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """Document ``i``: the template with its own title line (same width, so the same offsets)."""
    first, rest = template_text.split("\n", 1)
    line = title_line(i, seed)
    assert len(line) == len(first)
    text = line + "\n" + rest
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _doc(f"{i:06d}_{digest[:16]}.txt", text)


@dataclasses.dataclass
class Template:
    doc: Any  # corpus.Document
    part: Any  # writer.IndexPart
    #: Passage rows that hold line 1 (the title), re-derived for each copy.
    title_rows: list[int]
    #: Sentence index range of each passage row.
    sent_range: list[tuple[int, int]]


def make_templates(texts: Sequence[str], settings, embedder) -> list[Template]:  # type: ignore[no-untyped-def]
    from assistant.writer import compute_part

    out = []
    for j, text in enumerate(texts):
        doc = _doc(f"template{j:03d}.txt", text)
        part = compute_part([doc], settings, embedder, progress=False)
        rows = np.asarray(part.sent_rows)
        starts = np.searchsorted(rows, np.arange(len(part.chunks) + 1))
        out.append(Template(doc, part, [r for r, c in enumerate(part.chunks) if c.first_line == 1],
                            [(int(starts[r]), int(starts[r + 1])) for r in range(len(part.chunks))]))
    return out


class Copier:
    """Makes the parts of copy ``i`` of a template (see the module docstring)."""

    def __init__(self, settings, noise: float = NOISE, seed: int = 0) -> None:  # type: ignore[no-untyped-def]
        from assistant import annotate
        from assistant.bm25 import get_tokenizer

        self.tokenize = get_tokenizer(settings.tokenizer)
        self.annotator = annotate.get_annotator(settings.ner)
        self.noise = noise
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def _noisy(self, v: np.ndarray) -> np.ndarray:
        out = v + self.noise * self.rng.standard_normal(v.shape, dtype=np.float32)
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    def part(self, t: Template, i: int):  # type: ignore[no-untyped-def]
        from assistant import annotate
        from assistant.chunking import _chunk_id, split_sentences
        from assistant.normalize import normalize
        from assistant.writer import IndexPart

        doc = copy_doc(t.doc.text, i, self.seed)
        tp = t.part
        old_prefix = t.doc.id
        chunks = []
        tokens = list(tp.tokens)
        sent_texts = list(tp.sent_texts)
        sent_tokens = list(tp.sent_tokens)
        typed = list(tp.typed_spans)
        sent_spans = np.array(tp.sent_spans, copy=True)
        for r, c in enumerate(tp.chunks):
            if r in t.title_rows:
                text = doc.text[c.start : c.end]
                c2 = dataclasses.replace(c, id=_chunk_id(doc.id, c.first_line, c.last_line, c.start, text),
                                         doc=doc.id, title=doc.title, text=text, search_text=normalize(text))
                tokens[r] = self.tokenize(c2.search_text)
                sents = split_sentences(c2)
                a, b = t.sent_range[r]
                if len(sents) != b - a:
                    raise RuntimeError(f"copy {i}: the title passage splits into {len(sents)} sentences, "
                                       f"its template's into {b - a}")
                texts = [s.text for s in sents]
                sent_texts[a:b] = texts
                sent_tokens[a:b] = [sorted(set(self.tokenize(x))) for x in texts]
                typed[a:b] = [annotate.encode_spans(s) for s in self.annotator(texts)]
                sent_spans[a:b] = [(s.start, s.end) for s in sents]
            else:
                c2 = dataclasses.replace(c, id=doc.id + c.id[len(old_prefix):], doc=doc.id, title=doc.title)
            chunks.append(c2)
        part = IndexPart(
            chunks=chunks, tokens=tokens, vectors=self._noisy(tp.vectors), sent_rows=tp.sent_rows,
            sent_spans=sent_spans, sent_texts=sent_texts, sent_tokens=sent_tokens,
            sent_vectors=self._noisy(tp.sent_vectors), typed_spans=typed,
            cells=[{**rec, "doc": doc.id} for rec in tp.cells], cell_rows=tp.cell_rows,
        )
        return doc, part


def merge_parts(parts: Sequence[Any]):  # type: ignore[no-untyped-def]
    """One ``IndexPart`` from several (rows and cells renumbered)."""
    from assistant.writer import IndexPart

    rows, pairs, n0, c0 = [], [], 0, 0
    for p in parts:
        rows.append(np.asarray(p.sent_rows, dtype=np.int32) + n0)
        pairs.append(np.asarray(p.cell_rows, dtype=np.int64).reshape(-1, 2) + np.array([n0, c0]))
        n0 += len(p.chunks)
        c0 += len(p.cells)

    def cat(name: str) -> list[Any]:
        return [x for p in parts for x in getattr(p, name)]

    return IndexPart(
        chunks=cat("chunks"), tokens=cat("tokens"), vectors=np.concatenate([p.vectors for p in parts]),
        sent_rows=np.concatenate(rows), sent_spans=np.concatenate([p.sent_spans for p in parts]),
        sent_texts=cat("sent_texts"), sent_tokens=cat("sent_tokens"),
        sent_vectors=np.concatenate([p.sent_vectors for p in parts]), typed_spans=cat("typed_spans"),
        cells=cat("cells"), cell_rows=np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64),
    )


class _ZeroEmbedder:
    """Vectors of zeros: for re-deriving a copy's parts where only the text matters."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = f"zero/{name}", dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), self.dim), np.float32)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), self.dim), np.float32)


def verify_copies(corpus_dir: Path, docs: Sequence[Any], settings, dim: int,  # type: ignore[no-untyped-def]
                  workdir: Path) -> int:
    """Re-run the build's stages on copies read back from disk; their parts must equal the generated ones."""
    from assistant.corpus import load_documents
    from assistant.writer import compute_part

    check = dataclasses.replace(settings, index_dir=workdir / "verify-index")
    for doc, want in docs:
        got = compute_part(load_documents(corpus_dir, [doc.info]), check, _ZeroEmbedder("verify", dim),
                           progress=False)
        for field in ("chunks", "tokens", "sent_texts", "sent_tokens", "typed_spans", "cells"):
            if list(getattr(got, field)) != list(getattr(want, field)):
                raise RuntimeError(f"copy {doc.id}: {field} differ from what the build derives")
        for field in ("sent_rows", "sent_spans", "cell_rows"):
            if not np.array_equal(np.asarray(getattr(got, field)), np.asarray(getattr(want, field))):
                raise RuntimeError(f"copy {doc.id}: {field} differ from what the build derives")
    shutil.rmtree(workdir / "verify-index", ignore_errors=True)
    shutil.rmtree(workdir / "verify-index.cache", ignore_errors=True)
    return len(docs)


# ------------------------------------------------------------------ worker tasks


def generate_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: templates, copies, the corpus directory and the index (``IndexWriter``)."""
    from assistant.config import Settings
    from assistant.corpus import load_corpus, write_manifest
    from assistant.dense import store_kind
    from assistant.embedding import load_embedder
    from assistant.store import _version, expected_manifest
    from assistant.writer import IndexWriter

    work = Path(task["workdir"])
    corpus_dir, index_dir = work / "corpus", work / "index"
    n_target = int(task["passages"])
    overrides = task.get("settings", {})
    settings = Settings.from_env(environ={}, corpus_dir=corpus_dir, index_dir=index_dir, auto_rebuild=False,
                                 **overrides)
    t_start = time.perf_counter()
    sources = [d.text for d in load_corpus(Path(task.get("source", ROOT / "corpus")))]
    texts = template_texts(sources, int(task.get("templates", TEMPLATES)),
                           int(task.get("template_chars", TEMPLATE_CHARS)))
    embedder = load_embedder(settings.embedder)
    tmpl_settings = dataclasses.replace(settings, index_dir=Path(task.get("cache_root", work)) / "templates")
    t0 = time.perf_counter()
    templates = make_templates(texts, tmpl_settings, embedder)
    templates_s = time.perf_counter() - t0
    per_copy = np.mean([len(t.part.chunks) for t in templates])
    n_docs = int(np.ceil(n_target / per_copy))
    sizes = [len(templates[i % len(templates)].part.chunks) for i in range(n_docs)]
    n_passages = int(sum(sizes))
    n_sentences = int(sum(len(templates[i % len(templates)].part.sent_texts) for i in range(n_docs)))
    logger.info("e2e: %d templates (%.0f passages each) -> %d documents, %d passages, %d sentences",
                len(templates), per_copy, n_docs, n_passages, n_sentences)

    corpus_dir.mkdir(parents=True, exist_ok=True)
    tmp = work / ".index.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    kind = store_kind(settings, n_passages)
    writer = IndexWriter.create(tmp, settings, embedder.dim, kind, (n_passages, n_sentences))
    copier = Copier(settings, float(task.get("noise", NOISE)))
    infos = []
    rng = random.Random(1)
    sample = set(rng.sample(range(n_docs), min(int(task.get("verify", VERIFY)), n_docs)))
    kept: list[Any] = []
    t_copies = t_write = 0.0
    t0 = time.perf_counter()
    batch: list[Any] = []
    for i in range(n_docs):
        tc = time.perf_counter()
        doc, part = copier.part(templates[i % len(templates)], i)
        (corpus_dir / doc.id).write_text(doc.text, encoding="utf-8")
        infos.append(doc.info)
        if i in sample:
            kept.append((doc, part))
        batch.append(part)
        t_copies += time.perf_counter() - tc
        if len(batch) >= int(task.get("batch_docs", BATCH_DOCS)) or i == n_docs - 1:
            tw = time.perf_counter()
            writer.add(merge_parts(batch))
            t_write += time.perf_counter() - tw
            batch = []
            if (i + 1) % (10 * BATCH_DOCS) < BATCH_DOCS:
                logger.info("e2e: %d/%d documents written", i + 1, n_docs)
    write_manifest(corpus_dir, infos)
    stream_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fields = {**expected_manifest(settings, infos), "shiori_version": _version("shiori"),
              "embedder": {"spec": settings.embedder, "name": embedder.name, "dim": embedder.dim},
              "created": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
              "generated": {"templates": len(templates), "noise": copier.noise, "note": "bench.e2e synthetic copies"}}
    manifest = writer.finish(fields, t_start, "build_seconds")
    finish_s = time.perf_counter() - t0
    shutil.rmtree(index_dir, ignore_errors=True)
    tmp.replace(index_dir)
    build_hwm = vm_hwm_kib()
    t0 = time.perf_counter()
    verified = verify_copies(corpus_dir, kept, settings, embedder.dim, work)
    return {
        "documents": n_docs,
        "passages": manifest["passages"],
        "sentences": manifest["sentences"],
        "cells": manifest["cells"],
        "bm25_vocab": None,
        "dense": manifest["dense"]["kind"],
        "templates": len(templates),
        "templates_s": templates_s,
        "copies_s": t_copies,
        "writer_add_s": t_write,
        "stream_s": stream_s,
        "finish_s": finish_s,
        "build_s": manifest["build_seconds"],
        "build_vmhwm_kib": build_hwm,
        "verified_copies": verified,
        "verify_s": time.perf_counter() - t0,
        "index_bytes": dir_size(index_dir),
        "corpus_bytes": dir_size(corpus_dir),
    }


def _status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem"):
            out[key] = int(line.split()[1])
    return out


def mapped_rss_kib(prefix: str) -> dict[str, int]:
    """Resident KiB of each file mapped from under ``prefix`` (``/proc/self/smaps``), largest first."""
    out: dict[str, int] = {}
    current = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not line.startswith(" "):
            current = head[5] if len(head) > 5 and head[5].startswith(prefix) else None
        elif current and line.startswith("Rss:"):
            name = current[len(prefix):].lstrip("/")
            out[name] = out.get(name, 0) + int(head[1])
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _load(task: dict[str, Any]) -> tuple[Any, Any, float]:
    """The unchanged ``Pipeline`` over the task's corpus and index, its index loaded: (pipeline, index, seconds)."""
    from assistant.config import Settings
    from assistant.pipeline import Pipeline

    work = Path(task["workdir"])
    settings = Settings.from_env(environ={}, corpus_dir=work / "corpus", index_dir=work / "index",
                                 auto_rebuild=False, **task.get("settings", {}))
    p = Pipeline(settings, progress=False)
    t0 = time.perf_counter()
    index = p.index()
    return p, index, time.perf_counter() - t0


def serve_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: load the index with the unchanged ``Pipeline`` and run the query path on it."""
    from bench.query import query_set, run_query_path

    work = Path(task["workdir"])
    p, index, load_s = _load(task)
    after_load = _status()
    t0 = time.perf_counter()
    p.encode_queries(["準備"])
    model_s = time.perf_counter() - t0
    q = run_query_path(p, query_set(int(task.get("queries", QUERIES))))
    for op in q["ops"].values():
        op.pop("samples_ms", None)
    status = _status()
    return {"load_s": load_s, "model_load_s": model_s, "passages": index.size,
            "rss_after_load_kib": after_load, "status_kib": status, "query": q,
            "mapped_rss_kib": mapped_rss_kib(str(work / "index"))}


def check_task(task: dict[str, Any]) -> dict[str, Any]:
    """Worker: after the update, the new document is found and the index loads as a whole."""
    p, index, load_s = _load(task)
    hits = p.search(task["query"], k=5).hits
    return {"load_s": load_s, "passages": index.size, "updates": index.manifest.get("updates"),
            "found": [h.chunk.doc for h in hits], "new_doc_in_top5": task["doc"] in {h.chunk.doc for h in hits}}


# ------------------------------------------------------------------ orchestration


def run_e2e(passages: int, workdir: Path, out: Path | None = None, queries: int = QUERIES,
            settings: dict[str, Any] | None = None, mem_limit_gib: float | None = None,
            source: Path | None = None, templates: int = TEMPLATES, template_chars: int = TEMPLATE_CHARS,
            keep: bool = False) -> dict[str, Any]:
    """Generate + write, serve, add one document; every step in a child process."""
    import os

    from bench.build import SMALL_DOC
    from bench.util import machine_info, run_child, run_worker

    workdir = Path(workdir)
    results: dict[str, Any] = {"kind": "e2e", "machine": machine_info(), "target_passages": passages,
                               "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    def save() -> None:
        if out:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    from bench import RESULTS_DIR

    common = {"workdir": str(workdir), "settings": settings or {}, "mem_limit_gib": mem_limit_gib}
    logger.info("e2e: generating and writing %d passages", passages)
    # The templates' embeddings are cached across runs (the embedding cache, keyed by text and model).
    gen = run_worker({"task": "e2e_generate", **common, "passages": passages, "templates": templates,
                      "cache_root": str(RESULTS_DIR / "e2e-cache"),
                      "template_chars": template_chars, **({"source": str(source)} if source else {})},
                     timeout=6 * 3600)
    results["build"] = gen
    save()
    logger.info("e2e: serving (load + %d queries)", queries)
    results["serve"] = run_worker({"task": "e2e_serve", **common, "queries": queries}, timeout=6 * 3600)
    results["serve"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    save()
    logger.info("e2e: shiori add + shiori index")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")},
           "SHIORI_CORPUS_DIR": str(workdir / "corpus"), "SHIORI_INDEX_DIR": str(workdir / "index"),
           **{f"SHIORI_{k.upper()}": str(v) for k, v in (settings or {}).items()}}
    new = workdir / "new_doc.txt"
    new.write_text(SMALL_DOC, encoding="utf-8")
    import sys

    add = run_child([sys.executable, "-m", "assistant.cli", "add", str(new), "--json"], env=env, timeout=3600)
    if add.returncode:
        raise RuntimeError(f"shiori add failed: {add.stderr[-500:]}")
    doc_id = json.loads(add.stdout)["id"]
    idx = run_child([sys.executable, "-m", "assistant.cli", "-q", "index", "--json"], env=env, timeout=6 * 3600)
    if idx.returncode:
        raise RuntimeError(f"shiori index failed: {idx.stderr[-500:]}")
    manifest = json.loads((workdir / "index" / "manifest.json").read_text(encoding="utf-8"))
    results["update"] = {"add_s": add.wall_s, "add_maxrss_kib": add.maxrss_kib, "index_s": idx.wall_s,
                         "index_maxrss_kib": idx.maxrss_kib, "doc": doc_id, "updates": manifest.get("updates"),
                         "update_seconds": manifest.get("update_seconds"), "passages": manifest["passages"],
                         "index_bytes": dir_size(workdir / "index")}
    save()
    results["after_update"] = run_worker({"task": "e2e_check", **common, "doc": doc_id,
                                          "query": "小型衛星の打上げ費用を補助する制度"}, timeout=3600)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    save()
    if not keep:
        shutil.rmtree(workdir / "corpus", ignore_errors=True)
        shutil.rmtree(workdir / "index", ignore_errors=True)
    return results



def reserve_e2e(workdir: Path, out: Path, queries: int = QUERIES) -> dict[str, Any]:
    """Serving timed again on a kept index (``--keep``), e.g. when the machine is quieter.

    The build and update figures stay those of the run that made the index (read from
    ``out``); the earlier serving figures are kept under ``serve_runs``.
    """
    import os

    from bench.util import run_worker

    workdir = Path(workdir)
    if not (workdir / "index" / "manifest.json").exists():
        raise FileNotFoundError(f"no kept index in {workdir} (run --e2e --keep --workdir first)")
    results: dict[str, Any] = json.loads(Path(out).read_text(encoding="utf-8"))
    results.setdefault("serve_runs", []).append(results.get("serve"))
    logger.info("e2e: serving again (load + %d queries) on %s", queries, workdir)
    common = {"workdir": str(workdir), "settings": {}, "mem_limit_gib": None}
    loadavg = [round(x, 2) for x in os.getloadavg()]
    results["serve"] = run_worker({"task": "e2e_serve", **common, "queries": queries}, timeout=6 * 3600)
    results["serve"]["loadavg_before"] = loadavg
    results["serve"]["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    results["serve"]["note"] = "served again on the kept index after its update (one more document)"
    Path(out).write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return results
