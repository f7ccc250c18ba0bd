"""The drafting check: is a draft sentence stated by the documents, stated differently, or not at all?

For each sentence: analyse it as a claim (``claims.py``: topic terms, typed values,
polarity), retrieve passages for it, and line it up against every candidate unit
of the top passages (sentences and recovered table cells, as the reader sees
them). A unit speaks about the same item when it (with its lead-in lines) covers
enough of the claim's topic, and, for a table cell, when the claim names the
cell's column or row. Then:

- ``strong``: a unit about the item states every value of the claim, with the same
  polarity, and covers its topic;
- ``conflict``: a unit about the item states a different value of the same kind (a
  different year, amount, percentage, name, place) or the opposite polarity, and no
  unit about the item states the claim's value; ``mismatches`` say what and where;
- ``partial``: the item is there, but some of the claim (a value, a term) is not;
- ``none``: nothing in the documents speaks about the item.

The first source is the deciding unit, so its quote holds the values the verdict
rests on. Every cut-off is in ``CitePolicy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from assistant.answer import Citation, make_citation
from assistant.claims import MISMATCH_KIND, Claim, Comparison, compare, make_claim
from assistant.messages import CITATION_FORMAT
from assistant.reader.candidates import Candidate, gather
from assistant.reader.features import coverage
from assistant.spans import extract_spans

if TYPE_CHECKING:
    from assistant.bm25 import Tokenize
    from assistant.pipeline import Hit, SearchResult
    from assistant.reader.query import Query
    from assistant.store import LoadedIndex

Strength = Literal["strong", "partial", "conflict", "none"]
STRENGTHS: tuple[str, ...] = ("strong", "partial", "conflict", "none")
MAX_SOURCES = 3


@dataclass(frozen=True, slots=True)
class CitePolicy:
    """Cut-offs of the drafting check (chosen on the gold set's ``cite`` items, see eval/REPORT.md)."""

    #: Passages whose units are compared with the claim.
    passages: int = 5
    #: Topic coverage (IDF-weighted share of the claim's topic terms in a unit and its lead-in)
    #: from which a unit speaks about the claim's item.
    item: float = 0.5
    #: Topic coverage and unit similarity a ``strong`` verdict needs.
    strong: float = 0.7
    strong_dense: float = 0.85
    #: Topic coverage from which a claim without values is ``partial`` rather than ``none``,
    #: and from which a claim whose values no unit confirms is.
    partial: float = 0.7
    partial_unconfirmed: float = 0.9
    #: A matching unit wins over a conflicting one unless the conflicting one covers the
    #: topic better by more than this.
    conflict_margin: float = 0.15
    #: Polarity (negation, antonyms) conflicts need this much topic coverage.
    polarity_item: float = 0.8

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_CITE_POLICY = CitePolicy()


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A value (or polarity) of the claim that the source states differently."""

    kind: str
    claim: str
    source: str
    doc: str
    first_line: int
    last_line: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CiteResult:
    """The check of one draft sentence."""

    sentence: str
    strength: Strength
    citation: str
    sources: list[Citation]
    support: float
    retrieved: list[Hit]
    mismatches: list[Mismatch] = field(default_factory=list)
    #: Claim values the first source confirms (for highlighting).
    matched: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "strength": self.strength,
            "citation": self.citation,
            "sources": [s.to_json() for s in self.sources],
            "mismatches": [m.to_json() for m in self.mismatches],
            "matched": self.matched,
            "support": round(self.support, 4),
        }


def format_lines(first: int, last: int) -> str:
    """``L171`` for one line, ``L171–L174`` for a span."""
    return f"L{first}" if first == last else f"L{first}–L{last}"


def format_citation(c: Citation) -> str:
    """The ready-to-paste citation string of a source."""
    return CITATION_FORMAT.format(title=c.title, doc=c.doc, first=c.first_line, last=c.last_line)


@dataclass(frozen=True, slots=True)
class _Unit:
    cand: Candidate
    item: float  # topic coverage with lead-in
    cmp: Comparison
    key_ok: bool


def _key_named(cand: Candidate, claim_text: str) -> bool:
    """A table cell speaks about the claim's item only when the claim names its column or row."""
    cell = cand.cell
    if cell is None or cell.kind not in ("table", "row"):
        return True
    key = cell.label.split(" ")[-1] if cell.kind == "table" else cell.label.split(" ")[0]
    return bool(key) and key in claim_text


def _units(claim: Claim, cands: Sequence[Candidate]) -> list[_Unit]:
    out = []
    for c in cands:
        item = coverage(claim.topic, c.tokens | c.before) if claim.topic else 0.0
        out.append(_Unit(c, item, compare(claim, c.spans, c.text), _key_named(c, claim.query.normalized)))
    return out


def _cite(n: int, c: Candidate, index: LoadedIndex, score: float) -> Citation:
    return make_citation(n, c.chunk, c.start, c.end, score, index.page_of)


def _sources(first: Candidate | None, units: Sequence[_Unit], index: LoadedIndex) -> list[Citation]:
    """The deciding unit first, then the best unit of other passages."""
    out: list[Citation] = []
    seen: set[str] = set()
    if first is not None:
        out.append(_cite(1, first, index, first.dense))
        seen.add(first.chunk.id)
    for u in sorted(units, key=lambda u: (-(u.item + u.cand.dense), u.cand.hit_rank)):
        if u.cand.chunk.id in seen:
            continue
        seen.add(u.cand.chunk.id)
        out.append(_cite(len(out) + 1, u.cand, index, u.cand.dense))
        if len(out) >= MAX_SOURCES:
            break
    return out


def judge(claim: Claim, cands: Sequence[Candidate], policy: CitePolicy) -> tuple[Strength, _Unit | None, list[_Unit]]:
    """The verdict, the deciding unit, and all units (pure: no index access)."""
    units = [u for u in _units(claim, cands) if u.key_ok]
    about = [u for u in units if u.item >= policy.item]
    confirms = [u for u in about if not u.cmp.differing and not u.cmp.unknown and u.cmp.polarity_conflict is None]
    conflicts = [u for u in about if u.cmp.differing and not u.cmp.matched]
    conflicts += [u for u in about if u.cmp.polarity_conflict and u.item >= policy.polarity_item
                  and not u.cmp.differing]
    best_confirm = max(confirms, key=lambda u: (u.item, u.cand.dense), default=None)
    best_conflict = max(conflicts, key=lambda u: (u.item, u.cand.dense), default=None)
    if best_conflict is not None and (best_confirm is None
                                      or best_conflict.item > best_confirm.item + policy.conflict_margin
                                      or (claim.values and not best_confirm.cmp.matched)):
        return "conflict", best_conflict, units
    if best_confirm is not None and best_confirm.item >= policy.strong and \
            best_confirm.cand.dense >= policy.strong_dense and (best_confirm.cmp.matched or not claim.values):
        return "strong", best_confirm, units
    partial = max(about, key=lambda u: (u.item + len(u.cmp.matched), u.cand.dense), default=None)
    if partial is not None and (partial.cmp.matched or (partial.item >= policy.partial and not claim.values)
                                or partial.item >= policy.partial_unconfirmed):
        return "partial", partial, units
    return "none", None, units


def check(query: Query, result: SearchResult, index: LoadedIndex, tokenize: Tokenize, names: bool = True,
          policy: CitePolicy = DEFAULT_CITE_POLICY) -> CiteResult:
    """The drafting check of one sentence (``query``: its analysis) against its retrieved passages."""
    claim = make_claim(query, extract_spans(query.normalized, use_mecab=names), tokenize)
    cands = gather(index, result.hits[: policy.passages], result.query_vector, policy.passages)
    strength, unit, units = judge(claim, cands, policy)
    sources = _sources(unit.cand if unit else None, units if unit else
                       sorted(units, key=lambda u: -(u.item + u.cand.dense)), index)
    mismatches: list[Mismatch] = []
    matched: list[str] = []
    if unit is not None:
        first = sources[0]
        matched = [v.text for v in unit.cmp.matched]
        if strength == "conflict":
            for v, s in unit.cmp.differing:
                mismatches.append(Mismatch(MISMATCH_KIND.get(v.kind, v.kind), v.text, s.text, first.doc,
                                           first.first_line, first.last_line))
            if unit.cmp.polarity_conflict and not unit.cmp.differing:
                claim_w, _, src_w = unit.cmp.polarity_conflict.partition(" ≠ ")
                kind = "negation" if unit.cmp.polarity_conflict == "negation" else "polarity"
                mismatches.append(Mismatch(kind, claim_w if src_w else "否定" if claim.negated else "肯定",
                                           src_w or ("肯定" if claim.negated else "否定"), first.doc,
                                           first.first_line, first.last_line))
    support = unit.item if unit else max((u.item for u in units), default=0.0)
    citation = format_citation(sources[0]) if sources and strength != "none" else ""
    return CiteResult(query.text, strength, citation, sources if strength != "none" else sources,
                      support, list(result.hits), mismatches, matched)
