"""The drafting check on numbered rows of a table (fixture slides, no index, no embedder)."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from readerkit import draft_claim, passage_units

from assistant.bm25 import mecab_tokenize
from assistant.chunking import Chunk
from assistant.cite import DEFAULT_CITE_POLICY, _key_named, judge
from assistant.normalize import normalize_query
from assistant.reader.candidates import Candidate
from assistant.spans import extract_spans

_claim = draft_claim
_passage = passage_units


_TITLE = ["令和9年度の潮流発電の進め方(案)", "【資料2】検討チームの活動状況", "令和9年度に優先的に実施すべき項目(案)",
          "計画項目 実施項目 公募"]


def test_a_row_of_a_numbered_table_is_dated_by_the_title_not_by_the_row_above() -> None:
    # 2. is only another row above 3.: the slide's title says of which year the rows are.
    cands = _passage([*_TITLE, "1. 発電機 水中発電機の耐久試験 ◎", "2. 係留 係留索の疲労試験 ◎"],
                     "令和9年度の潮流発電の進め方(案)", 10, "a")
    strength, unit, _ = judge(_claim("令和9年度は、係留について、係留索の疲労試験を優先的に実施する。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and "係留索" in unit.cand.text
    assert [v.text for v in unit.cmp.matched] == ["令和9年度"]


def test_a_passage_starting_inside_the_table_takes_the_title_of_the_passage_before() -> None:
    # The second passage starts at row 3., which the chunker took for its heading.
    first = _passage([*_TITLE, "1. 発電機 水中発電機の耐久試験 ◎"], "令和9年度の潮流発電の進め方(案)", 10, "a")
    second = _passage(["3. 送電 海底ケーブル", "4. 監視 遠隔監視装置の設計検討 ◎"], "3.送電海底ケーブル", 16, "b")
    strength, unit, _ = judge(_claim("監視では、遠隔監視装置の設計検討が令和9年度の優先項目とされている。"), first + second,
                              DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and unit.cand.text.startswith("4.")
    # Without the passage before, nothing dates the row.
    strength, _, _ = judge(_claim("監視では、遠隔監視装置の設計検討が令和9年度の優先項目とされている。"), second,
                           DEFAULT_CITE_POLICY)
    assert strength == "none"


_ROWS = [*_TITLE, "1. 発電機 水中発電機の耐久試験 ◎", "2. 係留 係留索の疲労試験 ◎", "3. 観測 遠隔監視装置の設計検討 ◎"]


def test_a_rows_content_under_another_rows_label_is_a_conflict_at_the_row_stating_it() -> None:
    cands = _passage(_ROWS, "令和9年度の潮流発電の進め方(案)", 10, "a")
    strength, unit, _ = judge(_claim("係留では、遠隔監視装置の設計検討を行う。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and unit.cand.text.startswith("3.")
    assert [(a.text, b.text) for a, b in unit.cmp.differing] == [("係留", "観測")]


def test_a_claim_naming_the_rows_own_label_is_no_swap() -> None:
    cands = _passage(_ROWS, "令和9年度の潮流発電の進め方(案)", 10, "a")
    strength, unit, _ = judge(_claim("観測では、遠隔監視装置の設計検討を行う。"), cands,
                              DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    # Two rows named, each with its own content: the claim states both, no row is swapped.
    strength, _, _ = judge(_claim("係留では係留索の疲労試験を、観測では遠隔監視装置の設計検討を行う。"), cands,
                           DEFAULT_CITE_POLICY)
    assert strength != "conflict"


def _run(lines: Sequence[str], head: str) -> list[Candidate]:
    """A heading line, then ``lines`` extracted as one run of text (no sentence end between them)."""
    text = "\n".join([head, *lines])
    chunk = Chunk("memo.txt:c", "memo.txt", "memo", 1, len(lines) + 1, None, "", text, text, 0, len(text))
    norm_head, body = normalize_query(head), "".join(normalize_query(x) for x in lines)
    out = []
    for pos, (start, end, norm) in enumerate([(0, len(head), norm_head), (len(head) + 1, len(text), body)]):
        toks = frozenset(mecab_tokenize(norm))
        out.append(Candidate("sentence", 1, 0, chunk, start, end, norm, pos, pos, 0.9, 0.9, 1.0, 0.9, toks,
                             tuple(extract_spans(norm)), None, frozenset(mecab_tokenize(norm_head)) if pos else frozenset()))
    return out


def test_a_chronology_run_together_is_read_entry_by_entry() -> None:
    # Each line opens with its day: the event of 4月2日 is not the meeting of 6月11日.
    cands = _run(["3月9日(金) 乙団体と共催で交流会を開催", "4月2日(月) ホームページの開設、会員募集の開始",
                  "6月11日(火) 設立総会、設立記念会の開催"], "●これまでの主な活動")
    strength, unit, _ = judge(_claim("甲協議会は4月2日に設立総会を開催した。"), cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict"
    assert unit is not None and unit.cand.text.startswith("6月11日")
    strength, unit, _ = judge(_claim("甲協議会は6月11日に設立総会を開催した。"), cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and unit.cand.text.startswith("6月11日")


def test_a_claims_own_country_names_the_japan_column_of_a_table() -> None:
    # A flattened table heading its columns by country (甲国 日本 乙国 / 40% 9% 51%): a claim saying 我が国
    # speaks of the 日本 column, as one saying 日本 does; not of another country's.
    def cell(label: str) -> Any:
        return SimpleNamespace(cell=SimpleNamespace(kind="table", label=label))

    claim = "甲計画の建設期において、我が国は費用の5%を分担する。"
    assert _key_named(cell("費用分担 日本"), claim)
    assert not _key_named(cell("費用分担 甲国"), claim)
    assert _key_named(cell("費用分担 日本"), "甲計画の建設期において、日本は費用の5%を分担する。")
