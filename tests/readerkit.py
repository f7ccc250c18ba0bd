"""Shared builders of the reader's fixture tests: a candidate line without an index, and a
pipeline over one fixture document in which only the reader's hard checks abstain."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from assistant.bm25 import mecab_tokenize
from assistant.chunking import Chunk
from assistant.normalize import normalize
from assistant.reader.candidates import Candidate
from assistant.reader.scorer import load_model
from assistant.spans import extract_spans


def sentence_candidate(text: str) -> Candidate:
    """``text`` (normalised) as the one sentence of a one-line passage, with its tokens and typed spans."""
    body = normalize(text)
    chunk = Chunk("d:1-1", "d.txt", "t", 1, 1, None, "", body, body, 0, len(body))
    return Candidate("sentence", 1, 0, chunk, 0, len(body), body, 0, 0, 0.9, 0.9, 1.0, 0.9,
                     frozenset(mecab_tokenize(body)), tuple(extract_spans(body)))


def hard_checks_pipeline(one_document: Any, tmp_path: Path, text: str, title: str) -> Any:
    """``one_document``'s pipeline with the learned abstention and the off-topic guard off (the
    fake embedder's similarities are far below the real model's: these tests check how the reader
    selects and shapes, and which hard checks abstain; the literal check stays on)."""
    p = one_document(tmp_path, text, title)
    p = p.with_reader_model(replace(load_model(), abstain_threshold=0.0))
    p.reader_policy = replace(p.reader_policy, off_topic_dense=-1.0, off_topic_dense_en=-1.0, off_topic_translated=-1.0)
    return p
