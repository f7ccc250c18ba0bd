"""Terminal rendering of results: rich on a terminal, plain text when piped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.messages import format_lines

if TYPE_CHECKING:
    from assistant.answer import Answer, Citation
    from assistant.cite import CiteResult
    from assistant.pipeline import SearchResult


def _span(c: Any) -> str:
    """``doc L12–L14`` or ``doc L12``, plus the page(s) of a PDF line span (``p.3`` or ``p.3–4``)."""
    from assistant.corpus import page_label

    page = page_label(getattr(c, "page", None), getattr(c, "page_last", None))
    return f"{c.doc} {format_lines(c.first_line, c.last_line)}" + (f" {page}" if page else "")


def _sources(title: str, cits: Sequence[Citation], console: Any) -> None:
    if not cits:
        return
    if console is None:
        print(f"\n{title}:")
        for c in cits:
            print(f"[{c.n}] {c.title} — {_span(c)}")
            for line in c.quote.split("\n"):
                print(f"    {line}")
        return
    from rich.markup import escape

    console.print(f"\n[bold]{escape(title)}[/bold]")
    for c in cits:
        console.print(f"[cyan][{c.n}][/cyan] {escape(c.title)} — [green]{escape(_span(c))}[/green]")
        for line in c.quote.split("\n"):
            console.print(f"    [dim]{escape(line)}[/dim]")


def render_answer(ans: Answer, console: Any) -> None:
    if console is None:
        print(ans.answer)
    else:
        from rich.markup import escape

        style = "yellow" if ans.abstained else "bold"
        console.print(f"[{style}]{escape(ans.answer)}[/{style}]")
    if ans.notice:
        print(ans.notice)
    _sources("出典", ans.citations, console)
    _sources("関連する箇所", ans.related, console)


def render_search(res: SearchResult, console: Any) -> None:
    for h in res.hits:
        c = h.chunk
        head = f"#{h.rank}  {h.score:.4f}  {c.title} — {_span(c)}"
        if console is None:
            print(head)
            print("    " + c.text.replace("\n", "\n    "))
        else:
            from rich.markup import escape

            console.print(f"[bold cyan]{escape(head)}[/bold cyan]")
            console.print("    " + escape(c.text).replace("\n", "\n    "))
    print(f"({res.mode}, {res.timings_ms.get('total', 0):.1f} ms)")


def render_cite(results: Sequence[CiteResult], console: Any) -> None:
    from assistant.messages import STRENGTH_LABELS

    for r in results:
        print(f"「{r.sentence}」")
        print(f"  {r.strength} ({STRENGTH_LABELS[r.strength]})  {r.citation}")
        for m in getattr(r, "mismatches", []):
            print(f"  {m.claim} ≠ 資料では {m.source}")
        for s in r.sources[:1]:
            for line in s.quote.split("\n"):
                print(f"    {line}")
