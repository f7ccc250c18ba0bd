"""BM25 over synthetic passages made of the real corpus's sentences, without tokenising each passage.

Each sentence is tokenised once; a passage's token ids are gathered from its
sentences' runs and handed to ``assistant.bm25.build_from_ids`` (the same
builder ``BM25Index.build`` uses). ``tests/test_bench.py`` checks the result
equals ``BM25Index.build`` over the passage texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.bm25 import BM25Index, build_from_ids


def gather_tokens(sent_ids: np.ndarray, sent_offsets: np.ndarray, picks: np.ndarray) -> np.ndarray:
    """Concatenate the token-id runs of sentences ``picks`` (flat ids + offsets per sentence)."""
    starts = sent_offsets[picks]
    lens = sent_offsets[picks + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int32)
    run_start = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens)
    return sent_ids[run_start + np.arange(total)]


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
