"""Optional generative answers through an OpenAI-compatible server (llama.cpp, vLLM, Ollama).

The model sees only the numbered passages that retrieval found. Its answer is then
checked: each sentence must end with markers 【n】 naming passages that were
given; a sentence without a valid marker is dropped and the answer says so. Each
marker is resolved to the sentence of that passage that best matches the
generated sentence, so citations still point at exact lines. With no server
configured, or when it fails or times out, the extractive answer is returned with
a visible notice: never an error.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from assistant.answer import Answer, Citation, make_citation
from assistant.claims import unsupported_values
from assistant.glossary import is_english
from assistant.lazyre import rx
from assistant.messages import (
    ABSTAIN_MESSAGE,
    ABSTAIN_MESSAGE_EN,
    CITE_MARK,
    LLM_DROPPED_NOTICE,
    LLM_FALLBACK_NOTICE,
    LLM_SYSTEM_PROMPT,
    LLM_USER_TEMPLATE,
    LLM_USER_TEMPLATE_EN,
    LLM_VALUES_NOTICE,
)
from assistant.normalize import display_text

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.pipeline import Hit
    from assistant.store import LoadedIndex

logger = logging.getLogger(__name__)

_MARK = rx(r"【\s*(\d{1,2})\s*】|\[(\d{1,2})\]")
_SENT = rx(r"[^。！？!?\n]+(?:[。！？!?]+|$)(?:\s*(?:【\s*\d{1,2}\s*】|\[\d{1,2}\]))*")


class LLMUnavailable(Exception):
    """The generative mode cannot be used (not configured, or the call failed)."""


def complete(settings, system: str, user: str) -> str:  # type: ignore[no-untyped-def]
    """One chat completion from the configured OpenAI-compatible server."""
    if not settings.llm_base_url:
        raise LLMUnavailable("no LLM server configured (set SHIORI_LLM_BASE_URL and SHIORI_LLM_MODEL)")
    try:
        from llama_index.core.llms import ChatMessage
        from llama_index.llms.openai_like import OpenAILike
    except ImportError as e:
        raise LLMUnavailable("llama-index-llms-openai-like is not installed (pip install 'shiori[llm]')") from e
    llm = OpenAILike(
        model=settings.llm_model or "local-model",
        api_base=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",
        timeout=settings.llm_timeout,
        max_retries=0,
        is_chat_model=True,
        context_window=8192,
        temperature=0.0,
        max_tokens=400,
    )
    try:
        resp = llm.chat([ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)])
    except Exception as e:  # network errors, timeouts, HTTP errors: all mean "fall back"
        raise LLMUnavailable(f"{type(e).__name__}: {e}".splitlines()[0][:200]) from e
    text = (resp.message.content or "").strip()
    if not text:
        raise LLMUnavailable("the LLM returned an empty answer")
    return text


def _passages_block(hits: list[Hit]) -> str:
    return "\n".join(f"[{i}] {display_text(h.chunk.text)}" for i, h in enumerate(hits, start=1))


def _best_sentence_citation(settings: Settings, index: LoadedIndex, hit: Hit, claim: str, n: int) -> Citation:
    """Cite the sentence of ``hit`` that shares the most tokens with the generated ``claim``."""
    from assistant.bm25 import TOKENIZERS
    from assistant.normalize import normalize_query

    sents = index.sentences
    claim_toks = set(TOKENIZERS[settings.tokenizer](normalize_query(claim)))
    best_si, best = None, -1.0
    for si in sents.of_row(hit.row):
        toks = sents.tokens[si]
        overlap = len(claim_toks & toks) / (len(toks) ** 0.5 or 1.0)
        if overlap > best:
            best_si, best = si, overlap
    if best_si is None:
        return make_citation(n, hit.chunk, hit.chunk.start, hit.chunk.end, hit.score, index.page_of)
    start, end = (int(x) for x in sents.spans[best_si])
    return make_citation(n, hit.chunk, start, end, hit.score, index.page_of)


def check_markers(text: str, n_passages: int) -> tuple[list[tuple[str, list[int]]], int]:
    """Split generated text into sentences with their valid passage numbers.

    Returns the kept (sentence without markers, [passage numbers]) pairs and how
    many sentences were dropped for having no valid marker.
    """
    kept: list[tuple[str, list[int]]] = []
    dropped = 0
    for m in _SENT.finditer(text):
        sent = m.group(0).strip()
        if not sent:
            continue
        nums = [int(a or b) for a, b in _MARK.findall(sent)]
        body = _MARK.sub("", sent).strip()
        if not body:
            continue
        valid = [k for k in dict.fromkeys(nums) if 1 <= k <= n_passages]
        if not valid or len(valid) != len(set(nums)):
            dropped += 1
            continue
        kept.append((body, valid))
    return kept, dropped


def generate_answer(settings: Settings, index: LoadedIndex, extractive: Answer, hits: list[Hit]) -> Answer:
    """An LLM answer restricted to the retrieved passages, or the extractive one with a notice.

    A stage of its own: it takes the reader's extractive answer and the passages,
    and never calls back into the pipeline.
    """
    t0 = time.perf_counter()
    question = extractive.question
    english = is_english(question)
    template = LLM_USER_TEMPLATE_EN if english else LLM_USER_TEMPLATE
    try:
        raw = complete(settings, LLM_SYSTEM_PROMPT,
                       template.format(passages=_passages_block(hits), question=question))
    except LLMUnavailable as e:
        logger.warning("generative mode unavailable: %s", e)
        return replace(extractive, notice=LLM_FALLBACK_NOTICE.format(reason=str(e)))
    if ABSTAIN_MESSAGE in raw or ABSTAIN_MESSAGE_EN.lower() in raw.lower():
        return replace(extractive, answer=ABSTAIN_MESSAGE_EN if english else ABSTAIN_MESSAGE, abstained=True,
                       citations=[], related=extractive.related or extractive.citations, mode="llm")
    kept, dropped = check_markers(raw, len(hits))
    if not kept:
        reason = "the LLM answer had no sentence with a valid source number"
        return replace(extractive, notice=LLM_FALLBACK_NOTICE.format(reason=reason))
    citations: list[Citation] = []
    by_passage: dict[int, int] = {}
    parts: list[str] = []
    unchecked = 0
    for body, nums in kept:
        # The drafting check on every generated sentence: its figures, dates and names must be
        # in the passages it cites, or the sentence is dropped.
        if unsupported_values(body, [hits[k_ - 1].chunk.text for k_ in nums], settings.tokenizer == "mecab"):
            unchecked += 1
            continue
        marks = []
        for k_ in nums:
            if k_ not in by_passage:
                by_passage[k_] = len(citations) + 1
                citations.append(_best_sentence_citation(settings, index, hits[k_ - 1], body, by_passage[k_]))
            marks.append(CITE_MARK.format(n=by_passage[k_]))
        parts.append(body + "".join(marks))
    if not parts:
        reason = "every sentence of the LLM answer stated a value its sources do not"
        return replace(extractive, notice=LLM_FALLBACK_NOTICE.format(reason=reason))
    timings = dict(extractive.timings_ms)
    timings["llm_total"] = (time.perf_counter() - t0) * 1000
    return Answer(
        question=question,
        answer="".join(parts),
        abstained=False,
        citations=citations,
        related=[],
        retrieved=extractive.retrieved,
        timings_ms=timings,
        mode="llm",
        notice=" ".join(x for x in (LLM_DROPPED_NOTICE.format(n=dropped) if dropped else None,
                                    LLM_VALUES_NOTICE.format(n=unchecked) if unchecked else None) if x) or None,
        answer_type=extractive.answer_type,
        confidence=extractive.confidence,
        evidence=extractive.evidence,
    )
