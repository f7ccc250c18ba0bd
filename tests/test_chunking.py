"""Provenance invariants of the chunker (assistant/chunking.py).

Every passage must be an exact slice of the stored document at the lines it
claims, so that any quote taken from it can be cited by line. These are checked
with hypothesis on generated documents and on the real corpus.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.chunking import Chunk, chunk_corpus, chunk_document, chunks_to_nodes, split_sentences
from assistant.config import Settings
from assistant.corpus import Document, DocumentInfo
from assistant.normalize import fold_char, normalize

_VOICED = "\uff9e\uff9f\u3099\u309a"
_COMBINING = {"\uff9e": "\u3099", "\uff9f": "\u309a"}

# ------------------------------------------------------------------ generated documents

_JA = [
    "2023年４⽉に国家戦略を策定した。",
    "⺠間企業の参画を促進するため、",
    "安全規制を検討する必要がある。",
    "⼀般市⺠を構成",
    "員とするタスクフォースを設置し、",
    "副⻑官との会談において",
    "ｲﾉﾍﾞｰｼｮﾝ会議",
    "ﾊﾟﾌﾞﾘｯｸｺﾒﾝﾄ",
    "（１）原型炉開発",
    "【見える】",
    "予算は3,604百万円",
    "の",
    "を",
    "。",
    "？",
]
_ASCII = ["ITER", "JT-60SA", "Developing the Fusion industry", "QST", "12", "5", "FY2024:"]
_ODD = [" ", "  ", "\u3000", "\t", "\r", "\uf06c", "\uf0fc", "ﾞ", "ﾟ", "\u200b"]
_BULLETS = ["", "", "", "・", "●", "○", "\uf06c", " \uf06c ", "① ", "(2)"]

_piece = st.one_of(st.sampled_from(_JA), st.sampled_from(_ASCII), st.sampled_from(_ODD))
_plain_line = st.builds(
    lambda bullet, pieces, cr: bullet + "".join(pieces) + ("\r" if cr else ""),
    st.sampled_from(_BULLETS),
    st.lists(_piece, min_size=1, max_size=8),
    st.booleans(),
)
_long_line = st.builds(lambda p, n: p * n, st.sampled_from(_JA + _ASCII), st.integers(10, 60))
_line = st.one_of(
    _plain_line,
    _plain_line,
    _plain_line,
    _long_line,
    st.sampled_from(["", "", " ", "\u3000", "\r", "5", "12"]),
)


def make_doc(text: str, doc_id: str = "gen.txt", page_starts: tuple[int, ...] | None = None) -> Document:
    info = DocumentInfo(id=doc_id, title="生成文書", page_starts=page_starts)
    return Document(info=info, text=text, lines=tuple(text.split("\n")))


documents = st.builds(
    lambda lines, trailing: "\n".join(lines) + ("\n" if trailing else ""),
    st.lists(_line, min_size=0, max_size=40),
    st.booleans(),
)
sizes = st.sampled_from([(50, 0), (60, 10), (120, 30), (200, 0), (400, 80)])


def line_of(doc: Document, offset: int) -> int:
    """1-based line of a character offset of the stored text."""
    return doc.text.count("\n", 0, offset) + 1


def _folded(quote: str) -> str:
    """The quote folded character by character, without whitespace (no line rules)."""
    out: list[str] = []
    i = 0
    while i < len(quote):
        folded = fold_char(quote[i])
        if i + 1 < len(quote) and quote[i + 1] in _VOICED:
            mark = _COMBINING.get(quote[i + 1], quote[i + 1])
            composed = unicodedata.normalize("NFC", folded + mark) if folded else ""
            folded = composed if len(composed) == len(folded) else folded
            i += 1
        out.append(folded)
        i += 1
    return re.sub(r"\s", "", "".join(out))


def check_quote(quote: str, sentence: str) -> None:
    """The quote is exactly the source of the sentence: nothing cut off, nothing extra.

    Line rules (page numbers, joins) make ``normalize(quote)`` depend on context, so
    the check is: the sentence's characters appear in order in the folded quote, and
    both start and end on the same character.
    """
    want = re.sub(r"\s", "", sentence)
    if want.startswith("・") and (0xE000 <= ord(quote.lstrip()[0]) <= 0xF8FF or quote[:1] in " \u3000\t"):
        want = want[1:]  # a private-use bullet opening the line, or the indentation standing for one
    if not want:
        return
    have = _folded(quote)
    assert have[:1] == want[:1] and have[-1:] == want[-1:], (quote, sentence)
    it = iter(have)
    assert all(ch in it for ch in want), (quote, sentence)


def check_chunks(doc: Document, chunks: list[Chunk], chunk_chars: int) -> None:
    """Assert every provenance invariant of one document's passages."""
    text = doc.text
    # Coverage: every non-whitespace character (hence every non-blank line) is in a passage.
    covered = [False] * len(text)
    for c in chunks:
        for k in range(c.start, c.end):
            covered[k] = True
    missing = [k for k, ch in enumerate(text) if not ch.isspace() and not covered[k]]
    assert not missing, f"uncovered characters at {missing[:5]}"
    for n, line in enumerate(doc.lines, start=1):
        if line.strip():
            assert any(c.first_line <= n <= c.last_line for c in chunks), f"line {n} not covered"

    for c in chunks:
        assert c.doc == doc.id and c.title == doc.title
        assert 1 <= c.first_line <= c.last_line <= len(doc.lines)
        assert c.text, c.id
        assert len(c.text) <= chunk_chars, (c.id, len(c.text))
        # Exact provenance: the text is the stored text at [start, end) ...
        assert text[c.start : c.end] == c.text
        # ... which begins on first_line and ends on last_line ...
        assert line_of(doc, c.start) == c.first_line
        assert line_of(doc, c.end - 1) == c.last_line
        # ... so it is a substring of those lines, and all of them when no line was split.
        lines_slice = doc.line_slice(c.first_line, c.last_line)
        assert c.text in lines_slice
        if all(len(doc.lines[n - 1]) <= chunk_chars for n in (c.first_line, c.last_line)):
            assert c.text == lines_slice
        assert c.search_text == normalize(c.text)
        assert c.id.startswith(f"{doc.id}:{c.first_line}-{c.last_line}")
        assert c.page == doc.info.page_of(c.first_line)

    ids = [c.id for c in chunks]
    assert len(set(ids)) == len(ids), "ids must be unique"
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.start < b.start and a.end < b.end, "passages must come in document order"
        assert a.first_line <= b.first_line

    for c in chunks:
        for s in split_sentences(c):
            assert c.start <= s.start < s.end <= c.end, (c.id, s)
            quote = text[s.start : s.end]
            assert quote in c.text
            assert c.first_line <= line_of(doc, s.start) <= line_of(doc, s.end - 1) <= c.last_line
            assert s.text and s.text == s.text.strip()
            check_quote(quote, s.text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, sizes)
@example("ﾊﾟﾊﾟ。ﾊﾟ", (50, 0))
@example("あ" * 120 + "。\r\n\r\n・い\n", (50, 10))
def test_chunk_invariants_on_generated_documents(text: str, size: tuple[int, int]) -> None:
    chunk_chars, overlap = size
    doc = make_doc(text)
    chunks = chunk_document(doc, chunk_chars, overlap)
    check_chunks(doc, chunks, chunk_chars)
    # The same document gives the same passages and ids on every run.
    assert chunk_document(doc, chunk_chars, overlap) == chunks


@settings(max_examples=30, deadline=None)
@given(documents)
def test_page_numbers_follow_page_starts(text: str) -> None:
    n = len(text.split("\n"))
    starts = tuple(sorted({1, *range(1, n + 1, 3)}))
    doc = make_doc(text, page_starts=starts)
    for c in chunk_document(doc, 120, 30):
        assert c.page == doc.info.page_of(c.first_line)
        assert c.page is not None and 1 <= c.page <= len(starts)


def test_overlap_must_be_under_half() -> None:
    with pytest.raises(ValueError, match="chunk_overlap"):
        chunk_document(make_doc("あ"), 100, 50)


def test_empty_and_blank_documents_have_no_passages() -> None:
    assert chunk_document(make_doc("")) == []
    assert chunk_document(make_doc("\n \n\u3000\r\n")) == []


def test_markdown_headings_start_sections() -> None:
    """``# 見出し`` is a heading although normalisation drops the space before Japanese."""
    body = "本文の一文目です。" * 6
    doc = make_doc(f"# 基本方針\n{body}\n\n## 2. 重点施策\n{body}\n\n### 推進体制\n{body}\n")
    chunks = chunk_document(doc, 120, 0)
    assert [c.heading for c in chunks] == ["基本方針", "2.重点施策", "推進体制"]
    assert [c.text.split("\n")[0] for c in chunks] == ["# 基本方針", "## 2. 重点施策", "### 推進体制"]


def test_ids_do_not_depend_on_other_documents() -> None:
    a, b = make_doc("第一章\n本文です。", "a.txt"), make_doc("別の文書です。", "b.txt")
    alone = [c.id for c in chunk_document(a)]
    assert [c.id for c in chunk_corpus([b, a]) if c.doc == "a.txt"] == alone


# ------------------------------------------------------------------ real corpus


@pytest.fixture(scope="module")
def real_chunks(real_corpus: list[Document]) -> dict[str, list[Chunk]]:
    s = Settings()
    return {d.id: chunk_document(d, s.chunk_chars, s.chunk_overlap) for d in real_corpus}


def test_real_corpus_invariants(real_corpus: list[Document], real_chunks: dict[str, list[Chunk]]) -> None:
    s = Settings()
    for doc in real_corpus:
        assert real_chunks[doc.id], doc.id
        check_chunks(doc, real_chunks[doc.id], s.chunk_chars)


def test_real_corpus_ids_are_stable(real_corpus: list[Document], real_chunks: dict[str, list[Chunk]]) -> None:
    s = Settings()
    again = chunk_corpus(real_corpus, s.chunk_chars, s.chunk_overlap)
    assert [c.id for c in again] == [c.id for d in real_corpus for c in real_chunks[d.id]]
    ids = [c.id for c in again]
    assert len(set(ids)) == len(ids)


def test_real_corpus_headings(real_chunks: dict[str, list[Chunk]]) -> None:
    chunks = [c for cs in real_chunks.values() for c in cs]
    assert sum(1 for c in chunks if c.heading) > len(chunks) // 2
    for c in chunks:
        assert "\n" not in c.heading


def test_chunk_json_round_trip(real_chunks: dict[str, list[Chunk]]) -> None:
    for c in next(iter(real_chunks.values()))[:5]:
        assert Chunk.from_json(c.store_json()) == c
        assert set(c.to_json()) == {
            "id",
            "doc",
            "first_line",
            "last_line",
            "page",
            "heading",
            "text",
            "search_text",
        }


def test_to_node_carries_provenance(real_chunks: dict[str, list[Chunk]]) -> None:
    chunks = [c for cs in real_chunks.values() for c in cs][:20]
    nodes = chunks_to_nodes(chunks)
    assert len(nodes) == len(chunks)
    for c, node in zip(chunks, nodes, strict=True):
        assert node.id_ == c.id
        assert node.text == c.search_text
        assert (node.start_char_idx, node.end_char_idx) == (c.start, c.end)
        md = node.metadata
        assert md["doc"] == c.doc
        assert md["title"] == c.title
        assert md["first_line"] == c.first_line
        assert md["last_line"] == c.last_line
        assert md["page"] == c.page
        assert md["heading"] == c.heading
        assert md["original_text"] == c.text
        # Line numbers and the original text are provenance, not content to embed.
        assert "original_text" not in node.get_content(metadata_mode="embed")
