"""The usual way, for comparison: a plain llama-index pipeline with its defaults.

``SentenceSplitter`` (its default 1024 tokens, 200 overlap) over the corpus
documents, an in-memory ``VectorStoreIndex`` over shiori's own embedder, a top-k
retriever, and the top passage's text as the answer (it never abstains). No LLM
is configured, so nothing reaches a remote service. It implements the same
``ask``/``cite`` surface as ``Pipeline`` so ``assistant.evaluate.run`` measures
both with the same code.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.corpus import load_corpus
from assistant.embedding import Embedder, as_llama_embedding


@dataclass(frozen=True, slots=True)
class Span:
    """A retrieved node's location: document and 1-based inclusive lines."""

    doc: str
    first_line: int
    last_line: int


@dataclass(frozen=True, slots=True)
class BaselineHit:
    chunk: Span
    score: float


@dataclass(frozen=True, slots=True)
class BaselineAnswer:
    answer: str
    abstained: bool
    citations: list[Span]
    retrieved: list[BaselineHit]


@dataclass(frozen=True, slots=True)
class BaselineCite:
    citation: str
    strength: str
    sources: list[Span]
    retrieved: list[BaselineHit] = field(default_factory=list)


def _lines(text: str, start: int, end: int) -> tuple[int, int]:
    first = text.count("\n", 0, start) + 1
    return first, first + text.count("\n", start, max(start, end - 1))


class LlamaIndexDefaults:
    """A built default llama-index vector index over a corpus directory."""

    name = "llama-index defaults"

    def __init__(self, corpus_dir: Path, embedder: Embedder, top_k: int = 10) -> None:
        from llama_index.core import Document, Settings, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        t0 = time.perf_counter()
        self._texts = {d.id: d.text for d in load_corpus(Path(corpus_dir))}
        embed_model = as_llama_embedding(embedder)
        with contextlib.redirect_stdout(sys.stderr):  # "LLM is explicitly disabled" goes to stdout
            Settings.llm = None
        documents = [Document(text=t, id_=doc_id, metadata={"doc": doc_id}) for doc_id, t in self._texts.items()]
        splitter = SentenceSplitter()
        index = VectorStoreIndex.from_documents(documents, embed_model=embed_model, transformations=[splitter])
        self._retriever = index.as_retriever(similarity_top_k=top_k, embed_model=embed_model)
        self.build_seconds = time.perf_counter() - t0
        self.passages = len(index.docstore.docs)
        self.config = {"system": self.name, "chunk_size": splitter.chunk_size,
                       "chunk_overlap": splitter.chunk_overlap, "top_k": top_k}

    def _retrieve(self, query: str) -> tuple[list[BaselineHit], str]:
        hits: list[BaselineHit] = []
        nodes = self._retriever.retrieve(query)
        for h in nodes:
            doc = h.node.ref_doc_id or h.node.metadata.get("doc", "")
            text = self._texts.get(doc, "")
            start, end = h.node.start_char_idx, h.node.end_char_idx
            if start is None or end is None:
                start = max(text.find(h.node.get_content()), 0)
                end = start + len(h.node.get_content())
            first, last = _lines(text, start, end)
            hits.append(BaselineHit(Span(doc, first, last), float(h.score or 0.0)))
        top = nodes[0].node.get_content() if nodes else ""
        return hits, top

    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> BaselineAnswer:
        hits, top = self._retrieve(question)
        return BaselineAnswer(top, False, [h.chunk for h in hits[:1]], hits)

    def cite(self, sentences: list[str], k: int | None = None) -> list[BaselineCite]:
        out = []
        for s in sentences:
            hits, _ = self._retrieve(s)
            out.append(BaselineCite("", "strong" if hits else "none", [h.chunk for h in hits[:3]], hits))
        return out

    def describe(self) -> dict[str, Any]:
        return {**self.config, "build_seconds": round(self.build_seconds, 2), "passages": self.passages}
