"""A vectorised BM25 builder producing exactly ``assistant.bm25.BM25Index``'s arrays.

``BM25Index.build`` keeps a ``Counter`` per passage and a Python list of
``(doc, tf)`` tuples per term: about 23 KiB of Python objects per passage, so
~2.3 GiB at 100k passages and ~23 GiB at 1M (measured in the scale study). This
builder works on integer token ids with numpy (about 20 bytes per posting while
building) so the 1M-passage index can be built, saved and then loaded and
queried by the unchanged ``BM25Index``. It is a proposal for ``assistant/bm25.py``;
``tests/test_bench.py`` checks it matches ``BM25Index.build``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from assistant.bm25 import BM25Index


def gather_tokens(sent_ids: np.ndarray, sent_offsets: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Concatenate the token-id runs of sentences ``picks`` (flat ids + offsets per sentence)."""
    starts = sent_offsets[picks]
    lens = sent_offsets[picks + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int32)
    run_start = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
    return sent_ids[run_start + np.arange(total)]


def build_from_ids(
    token_ids: np.ndarray,
    lengths: np.ndarray,
    terms: Sequence[str],
    k1: float = 1.2,
    b: float = 0.75,
    chunk_tokens: int = 20_000_000,
) -> BM25Index:
    """BM25 from a flat token-id array (ids index the sorted ``terms``) and tokens per passage."""
    n = len(lengths)
    lengths = np.asarray(lengths, dtype=np.int64)
    doc_end = np.cumsum(lengths)
    parts_t, parts_d, parts_f = [], [], []
    d0 = 0
    while d0 < n:
        # Passages [d0, d1) hold about chunk_tokens tokens; unique (term, doc) within them.
        base = int(doc_end[d0 - 1]) if d0 else 0
        d1 = max(d0 + 1, int(np.searchsorted(doc_end, base + chunk_tokens, side="right")))
        d1 = min(d1, n)
        tok = token_ids[base : int(doc_end[d1 - 1])].astype(np.int64)
        doc = np.repeat(np.arange(d0, d1, dtype=np.int64), lengths[d0:d1])
        keys, counts = np.unique(tok * n + doc, return_counts=True)
        parts_t.append((keys // n).astype(np.int32))
        parts_d.append((keys % n).astype(np.int32))
        parts_f.append(counts.astype(np.float32))
        d0 = d1
    term = np.concatenate(parts_t) if parts_t else np.zeros(0, np.int32)
    docs = np.concatenate(parts_d) if parts_d else np.zeros(0, np.int32)
    tf = np.concatenate(parts_f) if parts_f else np.zeros(0, np.float32)
    del parts_t, parts_d, parts_f
    order = np.argsort(term, kind="stable")  # chunks are in doc order: docs stay ascending per term
    term, docs, tf = term[order], docs[order], tf[order]
    del order
    df_all = np.bincount(term, minlength=len(terms))
    present = np.flatnonzero(df_all)
    remap = np.full(len(terms), -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    df = df_all[present]
    vocab = {terms[i]: j for j, i in enumerate(present.tolist())}
    lengths32 = lengths.astype(np.float32)
    avgdl = float(lengths32.mean()) if n and lengths32.mean() > 0 else 1.0
    idf = np.array([math.log(1 + (n - x + 0.5) / (x + 0.5)) for x in df.tolist()], dtype=np.float64)
    norm = tf + np.float32(k1) * (np.float32(1 - b) + np.float32(b) * lengths32[docs] / np.float32(avgdl))
    weights = (idf[remap[term]] * tf * (k1 + 1) / norm).astype(np.float32)
    offsets = np.concatenate(([0], np.cumsum(df))).astype(np.int64)
    return BM25Index(vocab, offsets, docs.astype(np.int32), weights, n, {"k1": k1, "b": b, "avgdl": avgdl})


def build_from_sentences(
    sentence_tokens: Sequence[Sequence[str]],
    picks: np.ndarray,
    counts: np.ndarray,
    k1: float = 1.2,
    b: float = 0.75,
) -> BM25Index:
    """BM25 over passages made of sentences: passage ``p`` is ``picks[off[p]:off[p+1]]``."""
    terms = sorted({t for toks in sentence_tokens for t in toks})
    tid = {t: i for i, t in enumerate(terms)}
    sent_lens = np.array([len(t) for t in sentence_tokens], dtype=np.int64)
    sent_offsets = np.concatenate(([0], np.cumsum(sent_lens)))
    sent_ids = np.array([tid[t] for toks in sentence_tokens for t in toks], dtype=np.int32)
    token_ids = gather_tokens(sent_ids, sent_offsets, picks)
    passage_off = np.concatenate(([0], np.cumsum(counts)))
    lengths = np.add.reduceat(sent_lens[picks], passage_off[:-1]) if len(picks) else np.zeros(0, np.int64)
    lengths[counts == 0] = 0
    return build_from_ids(token_ids, lengths, terms, k1, b)
