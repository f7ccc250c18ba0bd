"""The usual way: a plain llama-index pipeline with its defaults, on shiori's embedder.

``SimpleDirectoryReader`` over the corpus files, the default ``SentenceSplitter``
(1024 tokens, 200 overlap), an in-memory ``VectorStoreIndex``, a top-5 retriever,
and the top passage's text as the answer. No LLM is configured (``Settings.llm =
None``), so nothing reaches OpenAI. Line spans of a retrieved node come from its
``start_char_idx``/``end_char_idx`` in the document text (newlines before them).

``run_baseline(corpus_dir, embedder, items)`` is the reusable entry point (the eval
report can call it); ``LlamaIndexBaseline`` lets the benchmark interleave its
queries with shiori's so both see the same machine load.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.corpus import read_manifest
from assistant.embedding import Embedder, as_llama_embedding
from assistant.gold import GoldItem
from bench.quality import ItemOutcome, Span, score

TOP_K = 5


@contextlib.contextmanager
def _llama_settings(embed_model: Any) -> Iterator[None]:
    """Set llama-index's global embed model and no LLM; restore both afterwards."""
    from llama_index.core import Settings as LISettings

    prev_llm, prev_embed = LISettings._llm, LISettings._embed_model
    try:
        # Setting llm=None prints "LLM is explicitly disabled" on stdout: keep stdout for tables.
        with contextlib.redirect_stdout(sys.stderr):
            LISettings.llm = None
        LISettings.embed_model = embed_model
        yield
    finally:
        LISettings._llm, LISettings._embed_model = prev_llm, prev_embed


def line_span(text: str, start: int, end: int) -> tuple[int, int]:
    """1-based inclusive lines covering ``text[start:end]``."""
    first = text.count("\n", 0, start) + 1
    last = text.count("\n", 0, max(start, end - 1)) + 1
    return first, last


class LlamaIndexBaseline:
    """A built default llama-index vector index over one corpus directory."""

    def __init__(self, corpus_dir: Path, embedder: Embedder, top_k: int = TOP_K) -> None:
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        t0 = time.perf_counter()
        files = [str(Path(corpus_dir) / d.id) for d in read_manifest(Path(corpus_dir))]
        self._embed_model = as_llama_embedding(embedder)
        splitter = SentenceSplitter()
        with _llama_settings(self._embed_model):
            docs = SimpleDirectoryReader(input_files=files).load_data()
            self._texts = {d.doc_id: d.text for d in docs}
            self._names = {d.doc_id: d.metadata.get("file_name", "") for d in docs}
            index = VectorStoreIndex.from_documents(
                docs, embed_model=self._embed_model, transformations=[splitter]
            )
        self.retriever = index.as_retriever(similarity_top_k=top_k, embed_model=self._embed_model)
        self.build_seconds = time.perf_counter() - t0
        self.nodes = len(index.docstore.docs)
        self.splitter = {"chunk_size": splitter.chunk_size, "chunk_overlap": splitter.chunk_overlap}

    def _span(self, node: Any) -> Span | None:
        doc_id = node.ref_doc_id
        text = self._texts.get(doc_id)
        if text is None:
            return None
        start, end = node.start_char_idx, node.end_char_idx
        if start is None or end is None:
            start = text.find(node.get_content())
            if start < 0:
                return None
            end = start + len(node.get_content())
        first, last = line_span(text, start, end)
        return self._names[doc_id], first, last

    def ask(self, item: GoldItem) -> ItemOutcome:
        """Retrieve the top passages; the answer is the top passage's text (never abstains)."""
        t0 = time.perf_counter()
        hits = self.retriever.retrieve(item.question)
        latency = (time.perf_counter() - t0) * 1000
        spans = [self._span(h.node) for h in hits]
        retrieved = tuple(s for s in spans if s is not None)
        top = hits[0].node.get_content() if hits else ""
        return ItemOutcome(item, top, False, spans[0] if spans else None, retrieved, latency)


def run_baseline(corpus_dir: Path, embedder: Embedder, items: Sequence[GoldItem]) -> dict[str, Any]:
    """Build the default llama-index pipeline, ask every item, return build time and metrics."""
    base = LlamaIndexBaseline(Path(corpus_dir), embedder)
    outcomes = [base.ask(it) for it in items]
    return summarize_baseline(base, outcomes)


def summarize_baseline(base: LlamaIndexBaseline, outcomes: Sequence[ItemOutcome]) -> dict[str, Any]:
    return {
        "system": "llama-index defaults",
        "build_seconds": base.build_seconds,
        "passages": base.nodes,
        "splitter": base.splitter,
        **score(outcomes),
        "per_item": [o.to_json() for o in outcomes],
    }
