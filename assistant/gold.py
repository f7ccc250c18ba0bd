"""Gold question/answer set: loading, schema validation and scoring helpers.

A gold file is JSON Lines; every non-blank line is one object::

    {"id": "G001", "kind": "fact", "question": "...", "answers": ["..."],
     "all_required": false, "doc": "000_....txt", "lines": [99, 102],
     "alt_lines": [[200, 201]]}

``lines`` are 1-based and inclusive, counted by splitting the document on ``"\\n"``.
``cite`` items (draft sentences) may carry ``"expect"``: ``supported`` (the default;
``lines`` state the sentence), ``contradicted`` (``lines`` state the same item with a
different value) or ``unsupported`` (nothing states it: ``doc`` and ``lines`` null).
Answers are compared after NFKC normalisation (full-width digits, Kangxi radicals
used as kanji, half-width katakana ...).
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import GoldFormatError

__all__ = [
    "EXPECTS",
    "KINDS",
    "GoldItem",
    "answer_matches",
    "check_documents",
    "citation_matches",
    "load_gold",
    "validate_against_corpus",
]

KINDS: tuple[str, ...] = ("fact", "number", "list", "why", "en", "paraphrase", "cite", "none")
"""The question kinds a gold item may have."""

EXPECTS: tuple[str, ...] = ("supported", "contradicted", "unsupported")
"""What the documents do with a ``cite`` item's sentence: state it, state it differently, or not at all."""

_REQUIRED_KEYS: tuple[str, ...] = ("id", "kind", "question", "answers", "doc", "lines")
#: Optional keys (docs/INTERFACE.md): ``all_required`` defaults to false, ``alt_lines`` to [], ``expect``
#: (cite items) to "supported".
_OPTIONAL_KEYS: tuple[str, ...] = ("all_required", "alt_lines", "expect")
_MAX_REPORTED = 20

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class GoldItem:
    """One gold question with its accepted answers and source span(s)."""

    id: str
    kind: str
    question: str
    answers: tuple[str, ...]
    all_required: bool
    doc: str | None
    lines: Span | None
    alt_lines: tuple[Span, ...] = ()
    expect: str = "supported"  # meaningful for ``cite`` items only; one of EXPECTS

    def spans(self) -> tuple[Span, ...]:
        """All acceptable ``(first, last)`` spans: the gold span, then the alternatives."""
        if self.lines is None:
            return ()
        return (self.lines, *self.alt_lines)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _matchable(text: str) -> str:
    """NFKC with the CJK Radicals Supplement folded (``⻑`` → 長), which NFKC keeps: an answer
    copied from the document (部⻑) and one typed (部長) are the same answer."""
    from assistant.normalize import RADICAL_SUPPLEMENT, fold_char

    text = _nfkc(text)
    return "".join(fold_char(ch) if ch in RADICAL_SUPPLEMENT else ch for ch in text) \
        if any(ch in RADICAL_SUPPLEMENT for ch in text) else text


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_span(value: Any, what: str) -> tuple[Span | None, str | None]:
    """Return ``(span, None)`` or ``(None, problem)`` for a ``[first, last]`` value."""
    if not isinstance(value, list) or len(value) != 2 or not all(_is_int(v) for v in value):
        return None, f"{what} must be a pair of integers [first, last], got {value!r}"
    first, last = value
    if first < 1 or last < 1:
        return None, f"{what} must be positive (1-based), got {value!r}"
    if first > last:
        return None, f"{what} is reversed: first {first} > last {last}"
    return (first, last), None


def _parse_item(obj: Any) -> tuple[GoldItem | None, list[str]]:
    """Validate one decoded JSON value; return the item or the list of problems."""
    if not isinstance(obj, dict):
        return None, [f"expected a JSON object, got {type(obj).__name__}"]
    problems: list[str] = []
    missing = [k for k in _REQUIRED_KEYS if k not in obj]
    if missing:
        problems.append("missing key(s): " + ", ".join(missing))
    unknown = sorted(set(obj) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        problems.append("unknown key(s): " + ", ".join(unknown))
    if missing:
        return None, problems

    item_id, kind, question = obj["id"], obj["kind"], obj["question"]
    answers, all_required, doc = obj["answers"], obj.get("all_required", False), obj["doc"]
    if not isinstance(item_id, str) or not item_id.strip():
        problems.append(f"id must be a non-empty string, got {item_id!r}")
    if kind not in KINDS:
        problems.append(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
    if not isinstance(question, str) or not question.strip():
        problems.append("question must be a non-empty string")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        problems.append("answers must be a list of non-empty strings")
        answers = []
    if not isinstance(all_required, bool):
        problems.append(f"all_required must be true or false, got {all_required!r}")
    if doc is not None and (not isinstance(doc, str) or not doc.strip()):
        problems.append(f"doc must be a file name or null, got {doc!r}")

    lines: Span | None = None
    if obj["lines"] is not None:
        lines, problem = _parse_span(obj["lines"], "lines")
        if problem:
            problems.append(problem)

    alt_raw = obj.get("alt_lines") or []
    alt: list[Span] = []
    if not isinstance(alt_raw, list):
        problems.append(f"alt_lines must be a list of [first, last] pairs, got {alt_raw!r}")
    else:
        for n, raw in enumerate(alt_raw, 1):
            span, problem = _parse_span(raw, f"alt_lines[{n}]")
            if problem:
                problems.append(problem)
            elif span is not None:
                alt.append(span)

    expect = obj.get("expect", "supported")
    if expect not in EXPECTS:
        problems.append(f"unknown expect {expect!r} (expected one of {', '.join(EXPECTS)})")
    elif "expect" in obj and kind != "cite":
        problems.append(f"expect is only for 'cite' items, not {kind!r}")

    # No source to point at: 'none' questions and sentences the documents do not state.
    if kind == "cite" and expect == "unsupported":
        if answers:
            problems.append("an unsupported 'cite' item must have empty answers")
        if doc is not None or obj["lines"] is not None:
            problems.append("an unsupported 'cite' item must have doc and lines null")
        if alt:
            problems.append("an unsupported 'cite' item must not have alt_lines")
    elif kind == "none":
        if answers:
            problems.append("a 'none' item must have empty answers")
        if doc is not None or obj["lines"] is not None:
            problems.append("a 'none' item must have doc and lines null")
        if alt:
            problems.append("a 'none' item must not have alt_lines")
    elif kind in KINDS:
        if kind != "cite" and not answers:
            problems.append(f"a {kind!r} item needs at least one answer")
        if doc is None or obj["lines"] is None:
            problems.append(f"a {kind!r} item needs doc and lines")

    if problems:
        return None, problems
    return (
        GoldItem(
            id=item_id,
            kind=kind,
            question=question,
            answers=tuple(answers),
            all_required=all_required,
            doc=doc,
            lines=lines,
            alt_lines=tuple(alt),
            expect=expect,
        ),
        [],
    )


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read and validate a gold JSONL file.

    Blank lines are skipped. Every other line must be a JSON object following the
    schema. All bad lines (up to 20 are listed) are reported together in one
    :class:`GoldFormatError` naming the file and the 1-based line numbers.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise GoldFormatError(f"{path}: gold file not found", hint="check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise GoldFormatError(f"{path}: cannot read gold file as UTF-8: {exc}") from exc

    items: list[GoldItem] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{lineno}: invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        item, problems = _parse_item(obj)
        if item is not None and item.id in seen:
            problems = [f"duplicate id {item.id!r} (first used on line {seen[item.id]})"]
            item = None
        if problems:
            errors.append(f"{path}:{lineno}: " + "; ".join(problems))
            continue
        assert item is not None
        seen[item.id] = lineno
        items.append(item)

    if errors:
        shown = errors[:_MAX_REPORTED]
        more = len(errors) - len(shown)
        message = f"{len(errors)} bad line(s) in gold file {path}:\n" + "\n".join(shown)
        if more:
            message += f"\n... and {more} more"
        raise GoldFormatError(message, hint="fix these lines to follow the gold schema")
    return items


def check_documents(items: list[GoldItem], gold: str | Path, corpus_dir: str | Path) -> None:
    """Raise ``GoldFormatError`` when the gold file names documents the corpus does not hold.

    A gold file run against the wrong corpus would otherwise score every answer
    wrong without saying why.
    """
    from assistant.corpus import read_manifest

    known = {d.id for d in read_manifest(Path(corpus_dir))}
    missing = sorted({i.doc for i in items if i.doc is not None and i.doc not in known})
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise GoldFormatError(
            f"{gold} names document(s) that are not in the corpus {corpus_dir}: {shown}",
            hint="pass the gold file of this corpus (--gold), or the corpus of this gold file (--corpus)",
        )


def _span_texts(span: list[str]) -> tuple[str, str]:
    """A span's lines as an answer is looked up in them: joined with ``""`` and with ``"\\n"``."""
    return _matchable("".join(span)), _matchable("\n".join(span))


def validate_against_corpus(items: list[GoldItem], corpus_dir: str | Path) -> list[str]:
    """Check gold items against the documents; return the problems (empty means OK).

    Checks that each document exists, that gold and alternative spans lie inside it,
    and that every answer occurs in the NFKC text of the gold span (lines joined with
    ``""`` or with ``"\\n"``); an alternative answer of an item that needs only one
    (``all_required`` false) may occur in an alternative span instead: the era form of a
    date on one page, its Western form on another.
    """
    corpus_dir = Path(corpus_dir)
    problems: list[str] = []
    cache: dict[str, list[str] | None] = {}
    for item in items:
        if item.doc is None or item.lines is None:
            continue
        if item.doc not in cache:
            doc_path = corpus_dir / item.doc
            cache[item.doc] = doc_path.read_text(encoding="utf-8").split("\n") if doc_path.is_file() else None
        doc_lines = cache[item.doc]
        if doc_lines is None:
            problems.append(f"{item.id}: document {item.doc} not found in {corpus_dir}")
            continue
        n = len(doc_lines)
        first, last = item.lines
        alt = [] if item.all_required else [_span_texts(doc_lines[a - 1 : b]) for a, b in item.alt_lines if b <= n]
        if last > n:
            problems.append(f"{item.id}: lines {first}-{last} outside {item.doc} ({n} lines)")
        else:
            joined = _span_texts(doc_lines[first - 1 : last])
            for answer in item.answers:
                norm = _matchable(answer)
                if not any(norm in text for text in (*joined, *(t for pair in alt for t in pair))):
                    problems.append(
                        f"{item.id}: answer {answer!r} not found in {item.doc} lines {first}-{last}"
                    )
        for a_first, a_last in item.alt_lines:
            if a_last > n:
                problems.append(f"{item.id}: alt_lines {a_first}-{a_last} outside {item.doc} ({n} lines)")
    return problems


def answer_matches(answer_text: str, item: GoldItem) -> bool:
    """True when the NFKC answer text contains one gold answer (all, if ``all_required``), the
    CJK Radicals Supplement folded on both sides (``_matchable``).

    Items without answers (``none``, and ``cite`` items without answers) never match.
    """
    if not item.answers:
        return False
    text = _matchable(answer_text)
    found = (_matchable(a) in text for a in item.answers)
    return all(found) if item.all_required else any(found)


def citation_matches(doc: str | None, first: int, last: int, item: GoldItem) -> bool:
    """True when ``doc`` is the item's document and ``[first, last]`` overlaps one of its spans."""
    if item.doc is None or doc != item.doc:
        return False
    return any(first <= s_last and s_first <= last for s_first, s_last in item.spans())
