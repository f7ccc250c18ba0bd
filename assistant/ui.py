"""HTML and chat-message rendering for the Gradio app (pure functions, no gradio import).

Every piece of document, question or answer text goes through ``esc`` (HTML) or
``md_text`` (chat messages: Markdown and HTML) before it reaches the browser:
documents added later may contain HTML, Markdown or script, and it must show as
text, never run. Only the markup written here (tags, classes, ``data-*``
attributes with escaped values) is HTML.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.corpus import page_label
from assistant.lazyre import rx
from assistant.messages import CITE_MARK, STRENGTH_LABELS, format_lines

if TYPE_CHECKING:
    from assistant.answer import Answer, Citation
    from assistant.cite import CiteResult
    from assistant.corpus import Document

#: Lines shown before and after a cited span in the Documents tab.
CONTEXT_LINES = 5

#: ASCII punctuation with a meaning in (GitHub-flavoured) Markdown; ``&<>"'`` are left
#: to ``html.escape`` so that the entities it writes stay intact.
_MD_SPECIAL = rx(r"([\\`*_{}\[\]()#+\-.!|~$=:/^])")


#: Private-use code points (PDF symbol fonts: bullets, arrows) have no glyph in any font.
_PUA = rx("[\ue000-\uf8ff]")


def esc(text: object) -> str:
    """HTML-escape any text (quotes included, so it is safe inside attributes too)."""
    return html.escape(str(text), quote=True)


def md_text(text: str) -> str:
    """Text for a chat message rendered as Markdown: shown literally, never as markup.

    Markdown punctuation is backslash-escaped first, then HTML is escaped, so
    ``<script>``, ``<img onerror=…>``, ``[x](javascript:…)``, ``**`` or ``$$`` in a
    document or a question appear as typed.
    """
    return esc(_MD_SPECIAL.sub(r"\\\1", text))


def _glyphs(escaped: str) -> str:
    """Show private-use characters (tofu in every font) as a grey bullet naming the code point."""
    return _PUA.sub(lambda m: f'<span class="pua" title="U+{ord(m.group()):04X}">•</span>', escaped)


def span_label(doc: str, first: int, last: int, page: int | None = None, page_last: int | None = None) -> str:
    """``doc L12–L14`` or ``doc L12`` (plus ``p.3``, or ``p.3–4`` across a page break, for PDFs)."""
    pages = page_label(page, page_last)
    return f"{doc} {format_lines(first, last)}" + (f" {pages}" if pages else "")


def citation_string(c: Citation) -> str:
    """The ready-to-paste citation of a source (same format as ``shiori cite``)."""
    from assistant.cite import format_citation

    return format_citation(c)


# ------------------------------------------------------------------ passages


def quote_range(c: Citation) -> tuple[int, int] | None:
    """Character range of ``c.quote`` inside ``c.passage_text`` (searched from its first line)."""
    text, quote = c.passage_text, c.quote
    if not text or not quote:
        return None
    start = 0
    for _ in range(max(0, c.first_line - c.passage_first_line)):
        nl = text.find("\n", start)
        if nl < 0:
            break
        start = nl + 1
    i = text.find(quote, start)
    if i < 0:
        i = text.find(quote)
    return None if i < 0 else (i, i + len(quote))


def _line_html(number: int, text: str, marked: tuple[int, int] | None, hl: bool = False) -> str:
    """One numbered line; ``marked`` is the highlighted character range within ``text``."""
    if marked is None:
        body = _glyphs(esc(text))
    else:
        a, b = marked
        body = f"{_glyphs(esc(text[:a]))}<mark>{_glyphs(esc(text[a:b]))}</mark>{_glyphs(esc(text[b:]))}"
    cls = "ln hl" if hl else "ln"
    return (
        f'<div class="{cls}" data-line="{number}"><span class="no">{number}</span>'
        f'<span class="tx">{body or "&#8203;"}</span></div>'
    )


def passage_html(c: Citation) -> str:
    """The passage containing the quote, with line numbers and the quote in ``<mark>``."""
    rng = quote_range(c)
    if rng is None:  # no passage text: show the quote's own lines, all marked
        lines = c.quote.split("\n")
        rows = [_line_html(c.first_line + i, t, (0, len(t)), hl=True) for i, t in enumerate(lines)]
        return f'<div class="lines">{"".join(rows)}</div>'
    qa, qb = rng
    rows = []
    offset = 0
    for i, line in enumerate(c.passage_text.split("\n")):
        la, lb = offset, offset + len(line)
        offset = lb + 1
        a, b = max(qa, la), min(qb, lb)
        mark = (a - la, b - la) if a < b else None
        rows.append(_line_html(c.passage_first_line + i, line, mark, hl=mark is not None))
    return f'<div class="lines">{"".join(rows)}</div>'


def source_card(c: Citation, label: str | None = None, diff: Sequence[str] = (), same: Sequence[str] = ()) -> str:
    """One numbered source: title, line span, passage with highlighted quote, citation.

    ``diff`` / ``same``: values to mark in the quote (the drafting check's mismatches and matches).
    """
    label = label if label is not None else CITE_MARK.format(n=c.n)
    attrs = f'data-doc="{esc(c.doc)}" data-first="{c.first_line}" data-last="{c.last_line}"'
    return (
        f'<div class="src-card" id="src-{c.n}">'
        f'<div class="src-head"><span class="src-n">{esc(label)}</span>'
        f'<span class="src-title">{esc(c.title)}</span></div>'
        f'<div class="src-meta"><span class="src-span">'
        f"{esc(span_label(c.doc, c.first_line, c.last_line, c.page, c.page_last))}</span>"
        f'<button type="button" class="open-doc" {attrs} title="文書タブでこの行を前後の文脈とともに表示">'
        f"文書で表示</button></div>"
        f"{passage_html(c)}"
        + (f'<div class="cite-quote">根拠の記述：{mark_values(c.quote, diff, same)}</div>' if diff or same else "")
        + f'<div class="src-cite">{esc(citation_string(c))}</div>'
        f"</div>"
    )


# -------------------------------------------------------------------- chat tab

EMPTY_SOURCES = '<div class="src-empty">質問すると、回答の根拠となる出典がここに表示されます。</div>'


def sources_html(answer: Answer) -> str:
    """The sources panel beside the chat: numbered citations, or related passages."""
    parts: list[str] = []
    if answer.abstained:
        parts.append(f'<div class="notice">{esc(abstain_notice(answer))}</div>')
        if answer.related:
            parts.append('<div class="src-section">関連する箇所（回答の根拠ではありません）</div>')
            parts += [source_card(c, label=f"関連{c.n}") for c in answer.related]
        return "".join(parts)
    parts.append(f'<div class="src-section">出典（{len(answer.citations)} 件）</div>')
    parts += [source_card(c) for c in answer.citations]
    return "".join(parts)


def abstain_notice(answer: Answer) -> str:
    return f"⚠ {answer.answer} 回答を控えました。下の関連する箇所を確認してください。"


def notice_html(text: str | None, kind: str = "warn") -> str:
    """A visible notice box (abstention, fallback, or an input error message)."""
    if not text:
        return ""
    return f'<div class="notice notice-{esc(kind)}">{esc(text)}</div>'


def citation_lines(answer: Answer) -> str:
    """Citation strings of an answer, one per line, for the copy box."""
    return "\n".join(f"{CITE_MARK.format(n=c.n)}{citation_string(c)}" for c in answer.citations)


def answer_messages(answer: Answer) -> list[dict[str, Any]]:
    """The assistant's chat messages for an answer: the text, then a collapsible sources list."""
    body = md_text(answer.answer)
    if answer.abstained:
        body = "⚠ " + body
    if answer.notice:
        body += "\n\n*" + md_text(answer.notice) + "*"
    msgs: list[dict[str, Any]] = [{"role": "assistant", "content": body}]
    cits = answer.related if answer.abstained else answer.citations
    if cits:
        lines = []
        for c in cits:
            head = CITE_MARK.format(n=c.n) if not answer.abstained else f"関連{c.n}"
            lines.append(
                f"**{md_text(head)}** {md_text(c.title)} — {md_text(span_label(c.doc, c.first_line, c.last_line, c.page, c.page_last))}"
            )
            lines += ["> " + md_text(_PUA.sub("•", q)) for q in c.quote.split("\n")]
            lines.append("")
        title = "関連する箇所" if answer.abstained else "出典"
        meta = {"title": title, "status": "done", "log": f"{len(cits)} 件（右の欄に原文の文脈）"}
        msgs.append({"role": "assistant", "content": "\n".join(lines).strip(), "metadata": meta})
    return msgs


# -------------------------------------------------------------------- cite tab

EMPTY_CITE = '<div class="src-empty">下書きの文（段落のままでも可）を貼り付けて「出典を探す」を押してください。</div>'


def mark_values(text: str, diff: Sequence[str], same: Sequence[str] = ()) -> str:
    """``text`` escaped, with the values in ``diff`` (and ``same``) wrapped in ``<mark>``."""
    spans: list[tuple[int, int, str]] = []
    for values, cls in ((diff, "diff"), (same, "same")):
        for v in values:
            i = text.find(v) if v else -1
            if i >= 0 and not any(a < i + len(v) and i < b for a, b, _ in spans):
                spans.append((i, i + len(v), cls))
    out, pos = [], 0
    for a, b, cls in sorted(spans):
        out.append(esc(text[pos:a]))
        out.append(f'<mark class="{cls}">{esc(text[a:b])}</mark>')
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)


def mismatch_line(m: Any) -> str:
    """``30% ≠ 資料では 25%`` (a value), or the polarity the source states."""
    return f"{m.claim} ≠ 資料では {m.source}"


def cite_results_html(results: Sequence[CiteResult]) -> str:
    """For each draft sentence: strength, what differs, ready-to-paste citation and the source.

    Values that differ from the documents are marked in the draft sentence and in the
    quoted source; values the source confirms are marked too.
    """
    parts = []
    for i, r in enumerate(results, start=1):
        label = STRENGTH_LABELS.get(r.strength, r.strength)
        mism = getattr(r, "mismatches", [])
        matched = getattr(r, "matched", [])
        head = (
            f'<div class="cite-head"><span class="src-n">{i}</span>'
            f'<span class="strength strength-{esc(r.strength)}">{esc(r.strength)}：{esc(label)}</span></div>'
            f'<div class="cite-sentence">{mark_values(r.sentence, [m.claim for m in mism], matched)}</div>'
        )
        head += "".join(f'<div class="mismatch">{esc(mismatch_line(m))}</div>' for m in mism)
        if r.citation:
            cite = f'<div class="src-cite">{esc(r.citation)}</div>'
        else:
            cite = '<div class="src-cite none">資料に裏付けが見つかりません（出典なし）。最も近い箇所を参考に表示します。</div>'
        src = source_card(r.sources[0], label="根拠", diff=[m.source for m in mism], same=matched) if r.sources else ""
        parts.append(f'<div class="cite-card">{head}{cite}{src}</div>')
    return "".join(parts)


def cited_draft(results: Sequence[CiteResult]) -> str:
    """The draft with each supported sentence followed by its citation (for copying).

    A sentence the documents state differently gets what to check instead of a citation.
    """
    out = []
    for r in results:
        mism = getattr(r, "mismatches", [])
        if r.strength == "conflict" and mism:
            out.append(r.sentence + "（要確認：" + "、".join(mismatch_line(m) for m in mism) + "）")
        else:
            out.append(r.sentence + (r.citation or ""))
    return "\n".join(out)


# ------------------------------------------------------------------ batch tab

EMPTY_BATCH = '<div class="src-empty">ファイルを選んで「実行」を押すと、結果ファイルがここに表示されます。</div>'


def batch_summary_html(summary: dict[str, Any], out_name: str) -> str:
    """What a question-list or draft run did: counts by outcome, and the result file's name."""
    from assistant.messages import DRAFT_VERDICT_LABELS

    if summary.get("kind") == "questions":
        parts = [
            f"{summary['rows']} 問",
            f"回答 {summary['answered']}",
            f"回答を控えた {summary['abstained']}",
            f"エラー {summary['errors']}",
        ]
    else:
        verdicts = summary.get("verdicts", {})
        parts = [f"{summary['sentences']} 文"]
        parts += [f"{DRAFT_VERDICT_LABELS.get(v, v)} {n}" for v, n in verdicts.items()]
    return (
        f'<div class="batch-done"><div class="src-title">{esc(summary.get("input", ""))} → {esc(out_name)}</div>'
        f'<div class="src-meta">{esc("・".join(parts))}</div></div>'
    )


#: Rows shown under the summary; the file holds them all.
PREVIEW_ROWS = 20


def _clip(text: object, n: int = 90) -> str:
    s = "" if text is None else str(text)
    return s if len(s) <= n else s[: n - 1] + "…"


def batch_preview_html(kind: str, rows: Sequence[dict[str, Any]]) -> str:
    """The first rows of a result (flat rows of ``batch.answer_table`` / ``draft.report_rows``)."""
    from assistant.messages import DRAFT_VERDICT_LABELS

    body = []
    for r in rows[:PREVIEW_ROWS]:
        if kind == "questions":
            if r.get("error"):
                result = f'<span class="err">{esc(r["error"])}</span>'
            else:
                result = esc(_clip(r.get("direct") or r.get("answer")))
            span = ""
            if r.get("citation1_doc"):
                span = esc(span_label(r["citation1_doc"], r["citation1_first_line"], r["citation1_last_line"]))
            cells = [esc(r["row"]), esc(_clip(r["question"], 60)), result, f'<span class="src-span">{span}</span>']
        else:
            verdict = r.get("strength") or "error"
            label = DRAFT_VERDICT_LABELS.get(verdict, "エラー") if verdict != "error" else "エラー"
            badge = f'<span class="strength strength-{esc(verdict.replace(" ", "-"))}">{esc(label)}</span>'
            cells = [esc(r["location"]), esc(_clip(r["sentence"])), badge]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    heads = ["行", "質問", "回答", "出典[1]"] if kind == "questions" else ["場所", "文", "判定"]
    more = (
        f'<div class="src-meta">先頭 {PREVIEW_ROWS} 件を表示しています（全 {len(rows)} 件は結果ファイルに）。</div>'
        if len(rows) > PREVIEW_ROWS
        else ""
    )
    head = "".join(f"<th>{esc(h)}</th>" for h in heads)
    return f'<table class="batch-preview"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>{more}'


# --------------------------------------------------------------- documents tab


def document_choices(docs: Sequence[Document]) -> list[tuple[str, str]]:
    """Dropdown choices: (label, document id)."""
    return [(f"{d.title}（{d.id}）", d.id) for d in docs]


def clamp_span(n_lines: int, first: float | None, last: float | None = None) -> tuple[int, int]:
    """A line span inside a document of ``n_lines`` lines (1-based, ``first <= last``).

    Line numbers start at 1: a missing, zero or negative start becomes 1, a start or
    end past the end becomes the last line, and an end before the start becomes
    the start.
    """
    top = max(1, int(n_lines))
    a = min(max(1, int(first) if first is not None else 1), top)
    b = min(max(a, int(last) if last is not None else a), top)
    return a, b


def document_html(
    doc: Document | None, first: int | None = None, last: int | None = None, context: int = CONTEXT_LINES
) -> str:
    """A document with line numbers; with a span, only the span ±``context`` lines, highlighted."""
    if doc is None:
        return '<div class="src-empty">文書を選んでください。</div>'
    n = len(doc.lines)
    if first is not None:
        first, last = clamp_span(n, first, last)
        lo, hi = max(1, first - context), min(n, last + context)
        pages = (doc.info.page_of(first), doc.info.page_of(last))
        info = f"{esc(span_label(doc.id, first, last, *pages))}（前後 {context} 行を表示・全 {n} 行）"
    else:
        lo, hi = 1, n
        info = f"{esc(doc.id)}（全 {n} 行）"
    starts = set(doc.info.page_starts or ())
    rows = []
    for no in range(lo, hi + 1):
        if no in starts:
            # Where a PDF page begins: citations name pages, so the reader can find them.
            rows.append(f'<div class="page-start" data-page="{doc.info.page_of(no)}">p.{doc.info.page_of(no)}</div>')
        text = doc.lines[no - 1]
        hl = first is not None and last is not None and first <= no <= last
        rows.append(_line_html(no, text, (0, len(text)) if hl and text else None, hl=hl))
    issuer = f"{esc(doc.info.issuer)} " if doc.info.issuer else ""
    date = esc(doc.info.date) if doc.info.date else ""
    return (
        f'<div class="doc-head"><div class="src-title">{esc(doc.title)}</div>'
        f'<div class="src-meta">{issuer}{date}　{info}</div></div>'
        f'<div class="lines doc-lines">{"".join(rows)}</div>'
    )
