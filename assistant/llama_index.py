"""shiori inside a llama-index application: a retriever and a query engine.

``ShioriRetriever`` is a llama-index ``BaseRetriever`` over shiori's Japanese hybrid search
(``Pipeline.search``: the same top-k, order and scores as ``shiori search -k N``). Each
``NodeWithScore`` holds a ``TextNode`` whose id is the passage id and whose text is the
passage's original text, so whatever an LLM quotes from it is an exact substring of the
document; its metadata carries ``doc``, ``title``, ``page``, ``first_line``, ``last_line``,
``quote`` and the ready-made ``citation`` string.

``ShioriQueryEngine`` returns shiori's cited answer (``Pipeline.ask``, the same as
``shiori ask``) as a llama-index ``Response``: ``response`` is the answer with its 【n】
markers, ``source_nodes`` has one node per citation (its text is the exact quote, its
metadata the line span), and ``metadata`` is the ``shiori ask --json`` document.

This module imports llama-index when it is imported, and nothing else in ``assistant``
imports it: ``import assistant`` and ``shiori ask`` stay free of llama-index (a test
checks). Its name shadows nothing: imports are absolute, so ``llama_index`` below is
always the installed package.
"""

from __future__ import annotations

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks.base import CallbackManager
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from assistant.answer import Answer, Citation
from assistant.config import ANSWER_MODES, MODES, Settings
from assistant.errors import UsageError
from assistant.messages import format_citation
from assistant.pipeline import Hit, Pipeline

__all__ = ["ShioriQueryEngine", "ShioriRetriever", "citation_node", "hit_node"]

#: Kept out of what an LLM is shown: the quote is the node's text already, scores are noise.
_NOT_FOR_LLM = ["quote", "rank", "dense_score", "bm25_score", "n", "passage_id"]
#: Kept out of what an embedding model sees, should a user re-embed the nodes.
_NOT_FOR_EMBEDDING = [*_NOT_FOR_LLM, "doc", "page", "first_line", "last_line", "citation"]


def hit_node(hit: Hit) -> NodeWithScore:
    """A retrieved passage as a llama-index node (id = passage id, score = fused score)."""
    c = hit.chunk
    node = TextNode(
        id_=c.id,
        text=c.text,
        start_char_idx=c.start,
        end_char_idx=c.end,
        metadata={
            "doc": c.doc,
            "title": c.title,
            "page": c.page,
            "first_line": c.first_line,
            "last_line": c.last_line,
            "heading": c.heading,
            "quote": c.text,
            "citation": format_citation(c.title, c.doc, c.first_line, c.last_line),
            "rank": hit.rank,
            "dense_score": hit.dense_score,
            "bm25_score": hit.bm25_score,
        },
        excluded_llm_metadata_keys=list(_NOT_FOR_LLM),
        excluded_embed_metadata_keys=list(_NOT_FOR_EMBEDDING),
    )
    return NodeWithScore(node=node, score=hit.score)


def citation_node(c: Citation) -> NodeWithScore:
    """One numbered citation of an answer: its text is the exact quote of its lines."""
    node = TextNode(
        # A citation is a line span inside a passage; its number keeps two of them apart.
        id_=f"{c.doc}:{c.first_line}-{c.last_line}#{c.n}",
        text=c.quote,
        metadata={
            "n": c.n,
            "doc": c.doc,
            "title": c.title,
            "page": c.page,
            "first_line": c.first_line,
            "last_line": c.last_line,
            "quote": c.quote,
            "citation": format_citation(c.title, c.doc, c.first_line, c.last_line),
            "passage_id": c.passage_id,
        },
        excluded_llm_metadata_keys=list(_NOT_FOR_LLM),
        excluded_embed_metadata_keys=list(_NOT_FOR_EMBEDDING),
    )
    return NodeWithScore(node=node, score=c.score)


def to_response(answer: Answer) -> Response:
    """shiori's answer as a llama-index ``Response`` (``metadata`` = ``shiori ask --json``)."""
    return Response(
        response=answer.answer,
        source_nodes=[citation_node(c) for c in answer.citations],
        metadata=answer.to_json(),
    )


def _pipeline(pipeline: Pipeline | None, settings: Settings | None) -> Pipeline:
    if pipeline is not None and settings is not None:
        raise UsageError("pass a pipeline or settings, not both")
    return pipeline if pipeline is not None else Pipeline(settings or Settings.from_env())


def _check(k: int | None, mode: str | None) -> None:
    """Refuse a bad ``k`` or ``mode`` when the component is made, not at its first query."""
    if k is not None and not 1 <= k <= 100:
        raise UsageError(f"k must be between 1 and 100, got {k}")
    if mode is not None and mode not in MODES:
        raise UsageError(f"unknown mode {mode!r}; choose one of {sorted(MODES)}")


class ShioriRetriever(BaseRetriever):
    """shiori's hybrid (or dense / BM25) passage search as a llama-index retriever.

    ``pipeline`` shares a loaded index and model with other components; without it a
    ``Pipeline`` is made from ``settings`` (default: ``Settings.from_env()``, the
    bundled corpus and model; the index is built on first use if missing or stale).
    ``k`` and ``mode`` default to the settings' ``top_k`` and ``mode``.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        settings: Settings | None = None,
        k: int | None = None,
        mode: str | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ) -> None:
        _check(k, mode)
        self._pipeline = _pipeline(pipeline, settings)
        self._k = k
        self._mode = mode
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        result = self._pipeline.search(query_bundle.query_str, k=self._k, mode=self._mode)
        return [hit_node(h) for h in result.hits]


class ShioriQueryEngine(BaseQueryEngine):
    """shiori's extractive (or ``llm``) answer with line-exact citations as a query engine.

    ``query(question)`` returns a ``Response`` whose ``source_nodes`` are the answer's
    citations, in marker order. An abstention is a ``Response`` with shiori's notice,
    no source nodes, and the nearest passages in ``metadata["related"]``.
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        settings: Settings | None = None,
        k: int | None = None,
        mode: str | None = None,
        answer_mode: str | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        _check(k, mode)
        if answer_mode is not None and answer_mode not in ANSWER_MODES:
            raise UsageError(f"unknown answer mode {answer_mode!r}; choose one of {sorted(ANSWER_MODES)}")
        self._pipeline = _pipeline(pipeline, settings)
        self._k = k
        self._mode = mode
        self._answer_mode = answer_mode
        super().__init__(callback_manager=callback_manager)

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """The passages the answer is drawn from (what ``ShioriRetriever`` returns)."""
        result = self._pipeline.search(query_bundle.query_str, k=self._k, mode=self._mode)
        return [hit_node(h) for h in result.hits]

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = self._pipeline.ask(
            query_bundle.query_str, k=self._k, mode=self._mode, answer_mode=self._answer_mode
        )
        return to_response(answer)

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        # The pipeline is synchronous and CPU-bound; the answer is the same either way.
        return self._query(query_bundle)
