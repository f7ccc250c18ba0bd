"""Split documents into passages that keep exact line provenance.

A passage is a run of whole original lines (a line longer than the size limit is
split at sentence ends inside it), so ``text`` is always an exact substring of
lines ``first_line..last_line`` and quotes taken from it can be cited by line.

Passages are packed greedily up to ``chunk_chars`` characters, and the break is
moved back to the strongest nearby boundary: a section break (blank line before a
heading or bullet) beats a sentence end, which beats a plain line end, which
beats a line wrapped mid-sentence. A short overlap (the last lines of the
previous passage, up to ``chunk_overlap`` characters) is carried over when the
break falls inside a section, so a sentence cut by the break is whole in one of
the two passages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.corpus import Document
from assistant.lazyre import lazy
from assistant.normalize import (
    SENTENCE_END,
    normalize,
    normalize_query,
    normalize_with_map,
    source_end,
    starts_item,
)

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode

CHUNKER_VERSION = 3

#: Heading marks, matched on normalised text. The space after a Markdown ``#`` is
#: optional: normalisation drops spaces next to Japanese (``# 基本方針`` -> ``#基本方針``).
_HEADING_MARK = lazy(r"^(?:【.+】|[（(]参考[）)]|◆|■|#{1,6}\s?[^\s#]|第.{1,3}[章節部]|\d{1,2}[.．]\s?\S)")
_SENTENCE_SPLIT = lazy(r"(?<=[。！？!?])")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage: original text with its line span, and the normalised search text."""

    id: str
    doc: str
    title: str
    first_line: int
    last_line: int
    page: int | None
    heading: str
    text: str
    search_text: str
    #: Character offsets of ``text`` in the stored document.
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        """The ``shiori chunks --json`` record of docs/INTERFACE.md."""
        return {
            "id": self.id,
            "doc": self.doc,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "page": self.page,
            "heading": self.heading,
            "text": self.text,
            "search_text": self.search_text,
        }

    def store_json(self) -> dict[str, Any]:
        """Everything needed to rebuild the chunk from an index file."""
        return {**self.to_json(), "title": self.title, "start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Chunk:
        return cls(**{k: d[k] for k in cls.__slots__})  # type: ignore[attr-defined]

    def to_node(self) -> TextNode:
        """This passage as a llama-index ``TextNode`` (imported lazily: it is slow)."""
        from llama_index.core.schema import TextNode

        return TextNode(
            id_=self.id,
            text=self.search_text,
            start_char_idx=self.start,
            end_char_idx=self.end,
            metadata={
                "doc": self.doc,
                "title": self.title,
                "first_line": self.first_line,
                "last_line": self.last_line,
                "page": self.page,
                "heading": self.heading,
                "original_text": self.text,
            },
            excluded_embed_metadata_keys=["original_text", "first_line", "last_line", "page", "doc"],
            excluded_llm_metadata_keys=["original_text"],
        )


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int  # offsets in the document text
    end: int
    line: int  # 1-based
    strength: int  # boundary strength before this unit (0..3)
    heading: str | None  # set when this unit's line is a heading


def _split_long_line(line: str, limit: int) -> list[tuple[int, int]]:
    """Split one over-long line at sentence ends, then hard at ``limit``."""
    pieces: list[tuple[int, int]] = []
    pos = 0
    for sent in _SENTENCE_SPLIT.split(line):
        if not sent:
            continue
        s, e = pos, pos + len(sent)
        pos = e
        if pieces and e - pieces[-1][0] <= limit:
            pieces[-1] = (pieces[-1][0], e)
            continue
        while e - s > limit:
            pieces.append((s, s + limit))
            s += limit
        pieces.append((s, e))
    return pieces


def marked_heading(norm: str) -> str | None:
    """The heading a normalised line is by its mark (``3.甲の支援``, ``## 乙``, ``第2章 丙``), or None."""
    if norm and len(norm) <= 60 and _HEADING_MARK.match(norm) and not norm.endswith("。"):
        return norm.lstrip("#◆■ ").strip()
    return None


def _heading_of(norm: str, blank_before: bool, blank_after: bool) -> str | None:
    if not norm or len(norm) > 60:
        return None
    if _HEADING_MARK.match(norm) and not norm.endswith("。"):
        return norm.lstrip("#◆■ ").strip()
    if (
        blank_before
        and blank_after
        and 4 <= len(norm) <= 40
        and not any(c in norm for c in SENTENCE_END)
        and not norm.endswith(("、", ","))
        and not starts_item(norm)
        and re.search(r"[぀-ヿ一-鿿]", norm)
    ):
        return norm
    return None


def _units(doc: Document, limit: int) -> list[_Unit]:
    lines = doc.text.split("\n")
    starts = [0]
    for ln in lines[:-1]:
        starts.append(starts[-1] + len(ln) + 1)
    norms = [normalize_query(ln) for ln in lines]
    units: list[_Unit] = []
    prev_norm: str | None = None
    blank = False
    for i, raw in enumerate(lines):
        if not raw.strip():
            blank = True
            continue
        norm = norms[i]
        blank_after = i + 1 >= len(lines) or not lines[i + 1].strip()
        if prev_norm is None:
            strength = 3
        elif norm and starts_item(norm):
            strength = 3 if blank else 2
        elif prev_norm and prev_norm[-1] in SENTENCE_END:
            strength = 3 if blank else 2
        elif blank:
            strength = 1 if norm[:1] in "ぁぃぅぇぉかがきぎくぐけげこごさざしじすずせぜそぞただちぢっつづてでとどなにぬねのはばぱひびぴふぶぷへべぺほぼぽまみむめもゃやゅゆょよらりるれろわをん、" else 2
        else:
            strength = 0
        heading = _heading_of(norm, blank or prev_norm is None, blank_after)
        if heading is not None and strength < 3:
            strength = 3 if blank else 2
        if len(raw) <= limit:
            units.append(_Unit(starts[i], starts[i] + len(raw), i + 1, strength, heading))
        else:
            for k, (s, e) in enumerate(_split_long_line(raw, limit)):
                units.append(_Unit(starts[i] + s, starts[i] + e, i + 1, strength if k == 0 else 1, heading if k == 0 else None))
        prev_norm = norm or prev_norm
        blank = False
    return units


def _chunk_id(doc: str, first: int, last: int, start: int, text: str) -> str:
    # The offset is hashed too: pieces of one over-long line share the line span
    # and may have the same text (a repeated run), yet need distinct ids.
    import hashlib  # here, not at the top: loading OpenSSL costs a cold `shiori ask` ≈ 4 ms

    digest = hashlib.sha1(f"{start}:{text}".encode()).hexdigest()[:8]
    return f"{doc}:{first}-{last}:{digest}"


def chunk_document(doc: Document, chunk_chars: int = 400, chunk_overlap: int = 80) -> list[Chunk]:
    """Split one document into passages of at most ``chunk_chars`` characters."""
    if chunk_overlap >= chunk_chars // 2:
        raise ValueError(f"chunk_overlap ({chunk_overlap}) must be under half of chunk_chars ({chunk_chars})")
    units = _units(doc, chunk_chars)
    text = doc.text

    def size(i: int, j: int) -> int:
        return units[j].end - units[i].start

    spans: list[tuple[int, int]] = []
    i, n = 0, len(units)
    while i < n:
        j = i
        while j + 1 < n and size(i, j + 1) <= chunk_chars:
            j += 1
        if j + 1 < n:
            # Move the break back to the strongest boundary that keeps the chunk half full.
            best, best_strength = j, units[j + 1].strength
            for k in range(j - 1, i - 1, -1):
                if size(i, k) < chunk_chars // 2:
                    break
                if units[k + 1].strength > best_strength:
                    best, best_strength = k, units[k + 1].strength
            j = best
        spans.append((i, j))
        nxt = j + 1
        if chunk_overlap and nxt < n and units[nxt].strength < 3:
            k = j
            while k > i and size(k, j) <= chunk_overlap:
                k -= 1
            cand = k + 1
            if cand <= j and size(cand, j) <= chunk_overlap and size(cand, nxt) <= chunk_chars:
                nxt = cand
        i = nxt

    chunks: list[Chunk] = []
    heading = ""
    headings_at: dict[int, str] = {}
    for idx, u in enumerate(units):
        if u.heading:
            heading = u.heading
        headings_at[idx] = heading
    for i, j in spans:
        start, end = units[i].start, units[j].end
        body = text[start:end]
        first, last = units[i].line, units[j].line
        chunks.append(
            Chunk(
                id=_chunk_id(doc.id, first, last, start, body),
                doc=doc.id,
                title=doc.title,
                first_line=first,
                last_line=last,
                page=doc.info.page_of(first),
                heading=headings_at[i],
                text=body,
                search_text=normalize(body),
                start=start,
                end=end,
            )
        )
    return chunks


def chunk_corpus(docs: Iterable[Document], chunk_chars: int = 400, chunk_overlap: int = 80) -> list[Chunk]:
    """Chunk every document, in corpus order."""
    return [c for d in docs for c in chunk_document(d, chunk_chars, chunk_overlap)]


def chunks_to_nodes(chunks: Sequence[Chunk]) -> list[TextNode]:
    """The passages as llama-index ``TextNode`` objects."""
    return [c.to_node() for c in chunks]


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence or list item of a passage, with its exact original span."""

    #: Offsets of the original text in the stored document.
    start: int
    end: int
    #: Normalised text (what is scored).
    text: str


_OPEN = "「『（(【〔［"
_CLOSE = "」』）)】〕］"


def _sentence_pieces(norm: str) -> list[str]:
    """Split at newlines and at 。！？ outside brackets (「…という。」 stays whole)."""
    pieces: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in norm:
        if ch == "\n":
            pieces.append("".join(cur))
            pieces.append("\n")
            cur, depth = [], 0
            continue
        cur.append(ch)
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in "。！？!?" and depth == 0:
            pieces.append("".join(cur))
            cur = []
    pieces.append("".join(cur))
    return pieces


def split_sentences(chunk: Chunk) -> list[Sentence]:
    """Split a passage into sentences/list items, each mapped back to original text.

    Breaks at sentence-final punctuation and at the line breaks that the normaliser
    kept (wrapped lines are already joined), so a list item is one unit.
    """
    norm, offs = normalize_with_map(chunk.text)
    out: list[Sentence] = []
    pos = 0
    for piece in _sentence_pieces(norm):
        a, b = pos, pos + len(piece)
        pos = b
        if piece == "\n":
            continue
        stripped = piece.strip()
        if not stripped:
            continue
        a += len(piece) - len(piece.lstrip())
        b -= len(piece) - len(piece.rstrip())
        end = source_end(chunk.text, offs[b - 1])
        out.append(Sentence(chunk.start + offs[a], chunk.start + end, norm[a:b]))
    return out
