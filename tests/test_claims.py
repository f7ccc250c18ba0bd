"""The drafting check: claim analysis, value comparison, polarity and verdicts.

Pure parts are table-driven on hand-made sentences; verdicts are checked on a
fixture document with the fake embedder, and the issue's three sentences on the
real corpus (slow).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from readerkit import draft_claim

from assistant.claims import (
    approx_tolerance,
    compare,
    compare_values,
    figure_trends,
    is_negated,
    label_before,
    opposed_words,
    other_role_only,
    place_level,
    polarity_words,
    role_spans,
    split_draft,
    unsupported_values,
)
from assistant.normalize import normalize_query
from assistant.spans import (
    TypedSpan,
    bare_org_names,
    ends_inside_word,
    extract_spans,
    range_end_spans,
    relative_year_spans,
)


def _span(text: str, kind: str) -> TypedSpan:
    (s,) = [s for s in extract_spans(text) if s.kind == kind]
    return s


_claim = draft_claim


@pytest.mark.parametrize(
    ("claim", "source", "kind", "verdict"),
    [
        ("12,500百万円", "125億円", "money", "equal"),  # one amount, two units
        ("約30億円", "30億円", "money", "equal"),  # a qualifier does not change the amount
        ("30億円", "25億円", "money", "differ"),
        ("45.5%", "9.1%", "percent", "differ"),
        ("令和5年10月", "2023年10月", "date", "equal"),  # era and Western year
        ("令和4年10月", "令和5年10月", "date", "differ"),
        ("2023年10月", "10月23日", "date", "unknown"),  # the source gives no year: cannot confirm
        ("R6年度", "令和6年度", "date", "equal"),
        ("2030年代", "2035年", "date", "equal"),  # a year inside the claimed decade
        ("2030年代", "2040年", "date", "differ"),
        ("2030年代", "2040年代", "date", "differ"),
        ("2035年", "2030年代", "date", "unknown"),  # a decade cannot confirm an exact year
        ("2045年", "2030年代", "date", "differ"),
        ("2030年代", "10月", "date", "unknown"),
        # A part of a decade: the first half confirms the decade, not the other way round.
        ("2030年代", "2030年代前半", "date", "equal"),
        ("2030年代前半", "2030年代", "date", "unknown"),
        ("2030年代後半", "2030年代前半", "date", "differ"),
        ("2030年代前半", "2032年", "date", "equal"),
        ("2030年代後半", "2032年", "date", "differ"),
        ("任期3年", "任期5年", "count", "differ"),
        ("10名", "10社", "count", "unknown"),  # different things counted
        ("甲野株式会社", "乙野株式会社", "org", "differ"),
        ("青森県六ヶ所村", "茨城県", "place", "differ"),  # a municipality written with its prefecture
        ("青森県六ヶ所村", "青森県", "place", "equal"),
        ("新たに39の企業が参画", "29の企業・団体", "count", "differ"),  # a count without a counter
        ("39の企業", "39社", "count", "equal"),  # 企業 are counted in 社
        ("12の機関", "12機関", "count", "equal"),
        ("2月1日から", "期間:2/1から", "date", "equal"),  # a slide's month/day
        ("3月31日まで", "4/1(月)", "date", "differ"),
        ("今後5年で", "今後5年間で", "count", "equal"),  # one duration, two counters
        ("毎年5月に", "毎年6月に", "date", "differ"),  # a month of every year
        ("最大3メートル", "最大で幅4メートル", "count", "differ"),
        ("4m", "4メートル", "count", "equal"),
        ("出力50万kW", "出力50万キロワット", "count", "equal"),
        # A rounded figure (約) is the exact one it rounds to, and no other.
        ("約12億円", "1,180百万円", "money", "equal"),
        ("約12億円", "1,320百万円", "money", "differ"),
        ("約40名", "41名", "count", "equal"),
        ("約100名", "136名", "count", "differ"),  # at most a tenth off
        ("12億円", "1,180百万円", "money", "differ"),  # without 約 the figure is exact
        ("約30億ユーロ", "31億円", "money", "unknown"),  # another currency: not another figure
    ],
)
def test_compare_values(claim: str, source: str, kind: str, verdict: str) -> None:
    assert compare_values(_span(claim, kind), _span(source, kind)) == verdict


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("EUROfusion", "differ"),  # two abbreviations name two bodies
        ("量子科学技術研究開発機構", "unknown"),  # an abbreviation may stand for the name written out
    ],
)
def test_an_abbreviated_name_against_another_name(source: str, verdict: str) -> None:
    f4e = [s for s in extract_spans("QSTとF4Eが主催") if s.text == "F4E"]
    other = [s for s in extract_spans(f"主催:QST、{source}") if s.text == source]
    assert f4e and other
    assert compare_values(f4e[0], other[0]) == verdict


def test_places_of_different_levels_do_not_conflict() -> None:
    assert place_level("米国") == "country" and place_level("那珂市") == "municipality"
    city = TypedSpan("place", 0, 5, "ワシントン", "ワシントン")
    country = TypedSpan("place", 0, 2, "米国", "米国")
    assert compare_values(city, country) == "unknown"
    assert compare_values(TypedSpan("place", 0, 3, "トリノ", "トリノ"), TypedSpan("place", 0, 3, "ミラノ", "ミラノ")) == "differ"


def test_a_country_of_a_one_character_list_is_the_country_it_stands_for() -> None:
    # 欧 of 実施極：日、欧 is 欧州: a claim's 米国 in its place is another country, not a place of another level.
    claim = _claim("甲事業は日本と米国の二極で実施されている。")
    cmp = compare(claim, extract_spans("○実施極：日、欧"), "○実施極：日、欧")
    assert [v.text for v in cmp.matched] == ["日本"]
    assert [(a.text, b.value) for a, b in cmp.differing] == [("米国", "欧州")]


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        ("計画は決まっていない。", True),
        ("参加することができない。", True),
        ("選ばれなかった項目も研究を続ける予定である。", False),  # negation inside a clause, not the predicate
        ("受付を続けている。", False),
        # A decision about a negated clause: the thing will not happen, though the sentence's verb affirms.
        ("甲会議では、乙部会を開催しないことが決まった。", True),
        ("丙事業は行わないこととした。", True),
        ("丁制度は導入しない方針を決定した。", True),
        ("甲会議では、乙部会を開催することが決まった。", False),
        ("選ばれなかった項目も研究を続けることとした。", False),
    ],
)
def test_negation_is_read_at_the_predicate(sentence: str, negated: bool) -> None:
    assert is_negated(sentence) is negated


@pytest.mark.parametrize(
    ("sentence", "predicate"),
    [
        ("甲装置の夜間の運転は、引き続き許されない。", ("許す",)),  # the verb denied, not the adverb
        ("乙事業は実施されなかった。", ("実施",)),
        ("乙事業は実施された。", ()),  # not negated: no predicate is denied
        ("甲会議では、乙部会を開催しないことが決まった。", ("開催",)),  # the decided clause's verb
    ],
)
def test_the_predicate_a_claim_denies(sentence: str, predicate: tuple[str, ...]) -> None:
    assert _claim(sentence).predicate == predicate


@pytest.mark.parametrize(
    ("claim", "source", "verdict"),
    [
        ("副知事が出席", "知事が出席", "differ"),  # the deputy is not the office it deputises
        ("常任理事を務める", "理事を務める", "differ"),
        ("会長を務める", "会長を務める", "equal"),
        ("会長を務める", "理事を務める", "unknown"),  # two offices are two slots, not one stated otherwise
        ("会長を務める", "名誉会長を務める", "unknown"),  # the source's 名誉会長 may be another person
    ],
)
def test_roles_compare_with_their_prefix(claim: str, source: str, verdict: str) -> None:
    (a,), (b,) = role_spans(claim), role_spans(source)
    assert compare_values(a, b) == verdict


def test_polarity_conflict() -> None:
    claim = _claim("職員の数は相対的に多い。")
    cmp = compare(claim, [], "職員の数は相対的に少ない。")
    assert cmp.polarity_conflict == "多い ≠ 少ない"
    assert compare(_claim("予算は増加した。"), [], "予算は増加した。").polarity_conflict is None


def test_polarity_words_inside_names_do_not_count() -> None:
    # 推進 is part of the council's name here, not a statement that something is promoted.
    claim = _claim("戦略は統合イノベーション戦略推進会議で決定された。")
    assert "推進" not in claim.polar


def test_a_name_that_qualifies_the_topic_is_not_a_checked_value() -> None:
    claim = _claim("建設期における日本の費用分担は45.5%である。")
    assert [v.text for v in claim.values] == ["45.5%"]
    assert "日本" in claim.topic and "45.5" not in claim.topic


@pytest.mark.parametrize(
    ("sentence", "values"),
    [
        # The sentence's topic (は, には) names the item, as a qualifying の does.
        ("甲野協議会は今後、動向調査を行う見込みである。", []),
        ("乙野研究センター等には、令和6年度に20億円が計上されている。", ["令和6年度", "20億円"]),
        # A person's title between the name and は still makes the person the topic; the name
        # before the predicate's の is what is asserted.
        ("担当する山田太郎氏は、金沢大学の所属である。", ["金沢大学"]),
        # ...unless the の is followed by another name: that one is asserted, the first qualifies it.
        ("主査は、甲野研究所の山田太郎氏である。", ["山田太郎"]),
        # Names summed up by a count (甲野大学と乙野大学の2校): listed, what is asserted; the count
        # only restates how many names the list gives (a source lists them without counting them)...
        ("理事は甲野大学と乙野研究所の2機関である。", ["甲野大学", "乙野研究所"]),
        # ...unless it counts otherwise: then it is a figure of its own.
        ("理事は甲野大学と乙野研究所の3機関である。", ["甲野大学", "乙野研究所", "3機関"]),
        # Latin abbreviations listed as names are names (QSTとF4E); one qualifying a word is not.
        ("記念スクールは、QSTとF4Eが主催した。", ["QST", "F4E"]),
        ("ITER・BA関連の補正予算額は249億円である。", ["249億円"]),
        # The last name of a list shares the role of the names before it, の after it or not.
        ("記念スクールは、QSTとKLMNの共催で開かれた。", ["QST", "KLMN"]),
        ("記念スクールは、甲野大学、乙野研究所の共催で開かれた。", ["甲野大学", "乙野研究所"]),
        # A name cut off inside a word (博士課 of 博士課程) is none.
        ("研修は、博士課程の学生を対象とする。", []),
    ],
)
def test_the_topic_name_is_not_a_checked_value(sentence: str, values: list[str]) -> None:
    # (Roles, 主査 and 理事, are values of their own kind: test_roles_compare_with_their_prefix.)
    assert [v.text for v in _claim(sentence).values if v.kind != "role"] == values


def test_value_comparison_against_a_unit() -> None:
    claim = _claim("説明会には延べ120名が参加し、2024年5月に開催された。")
    cmp = compare(claim, extract_spans("2024年5月、説明会を開催。参加者は延べ150名。"), "")
    assert [v.text for v in cmp.matched] == ["2024年5月"]
    assert [(a.text, b.text) for a, b in cmp.differing] == [("延べ120名", "延べ150名")]


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("予算は12億円である。開始は4月。", ["予算は12億円である。", "開始は4月。"]),
        ("「計画を決定した。」と述べた。\n次の文", ["「計画を決定した。」と述べた。", "次の文"]),
        ("\n\n一文だけ\n", ["一文だけ"]),
    ],
)
def test_split_draft(text: str, sentences: list[str]) -> None:
    assert split_draft(text) == sentences


def test_unsupported_values_of_a_generated_sentence() -> None:
    sources = ["建設期の費用分担：欧州 45.5% 日本 9.1%"]
    assert unsupported_values("日本の分担は9.1%である。", sources) == []
    assert [v.text for v in unsupported_values("日本の分担は30%である。", sources)] == ["30%"]


# ------------------------------------------------------------ verdicts on fixture files


@pytest.fixture
def draft_pipeline(tmp_path: Path, one_document):  # type: ignore[no-untyped-def]
    return one_document(
        tmp_path,
        "水素ステーション整備事業の概要\n\n"
        "水素ステーションの整備費補助は令和6年度に40億円を計上した。\n"
        "補助の対象は全国で120か所である。\n"
        "○ 補助率の内訳：\n\n"
        "   大規模 中規模 小規模\n"
        "   50% 40% 30%\n",
        "水素ステーション整備事業",
    )


@pytest.mark.parametrize(
    ("sentence", "strength", "mismatch"),
    [
        ("水素ステーションの整備費補助は令和6年度に40億円を計上した。", {"strong", "partial"}, None),
        ("水素ステーションの整備費補助は令和6年度に55億円を計上した。", {"conflict"}, ("55億円", "40億円")),
        ("水素ステーションの整備費補助は令和5年度に40億円を計上した。", {"conflict"}, ("令和5年度", "令和6年度")),
        ("補助の対象は全国で150か所である。", {"conflict"}, ("150か所", "120か所")),
        ("中規模の補助率は50%である。", {"conflict"}, ("50%", "40%")),  # the table cell, not the row
        ("中規模の補助率は40%である。", {"strong", "partial"}, None),
        ("洋上風力の漁業補償は2030年までに完了する。", {"none"}, None),
    ],
)
def test_verdicts(draft_pipeline, sentence: str, strength: set[str], mismatch: tuple[str, str] | None) -> None:  # type: ignore[no-untyped-def]
    (r,) = draft_pipeline.cite([sentence])
    assert r.strength in strength, (r.strength, r.mismatches)
    if mismatch:
        assert (r.mismatches[0].claim, r.mismatches[0].source) == mismatch
        src = r.sources[0]
        assert mismatch[1] in src.quote and src.first_line <= r.mismatches[0].first_line
    if r.strength != "none":
        assert r.citation and r.sources[0].quote


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sentence", "strength", "source_value"),
    [
        ("ITER計画の建設期における日本の費用分担は45.5%である。", "conflict", "9.1%"),
        ("JT-60SAは令和4年10月に初プラズマを生成した。", "conflict", "令和5年10月"),
        ("原型炉の建設地は青森県六ヶ所村に決定している。", "none", None),
    ],
)
def test_the_issue_sentences_on_the_real_corpus(real_pipeline, sentence: str, strength: str,  # type: ignore[no-untyped-def]
                                                source_value: str | None) -> None:
    (r,) = real_pipeline.cite([sentence])
    assert r.strength == strength
    if source_value:
        assert r.mismatches[0].source == source_value
        assert source_value in r.sources[0].quote  # the first quote holds the value the verdict rests on


def test_a_values_label_is_the_words_before_it_in_its_clause() -> None:
    text = "令和6年度予算案で、JT-60SAの運転・整備には2,293百万円が計上されている。"
    spans = extract_spans(text)
    amount = next(s for s in spans if s.kind == "money")
    assert label_before(text, amount, spans) == "JT-60SAの運転・整備には"
    row = "令和5年度補正予算額:3,800百万円"
    spans = extract_spans(row)
    assert label_before(row, next(s for s in spans if s.kind == "money"), spans) == "補正予算額:"


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("2030年代に発電を実証する", [("2030年代", "2030s")]),
        ("2030年に発電を実証する", [("2030年", "2030")]),
        ("2035年代", []),  # not a decade
        ("2030年代前半に商用化する", [("2030年代前半", "2030s-early")]),
        ("1990年代から2020年度まで", [("1990年代", "1990s"), ("2020年度", "FY2020")]),
    ],
)
def test_decades_are_their_own_dates(text: str, spans: list[tuple[str, str]]) -> None:
    from assistant.spans import date_spans, values_equal

    got = date_spans(text)
    assert [(s.text, s.value) for s in got] == spans
    if got and got[0].value.endswith("s"):
        year = TypedSpan("date", 0, 5, "2030年", "2030")
        assert not values_equal(got[0], year) and values_equal(got[0], got[0])


@pytest.mark.parametrize(
    ("text", "trends"),
    [
        ("甲事業 120百万円(95百万円)", ["up"]),  # a figure with its previous value in brackets
        ("乙事業 40百万円（55百万円）", ["down"]),
        ("予算額(案)80億円(前年度予算額80億円)", ["same"]),
        ("補正予算額 120百万円、分担金 95百万円", []),  # two figures, not a figure and its previous value
    ],
)
def test_figure_trends(text: str, trends: list[str]) -> None:
    norm = normalize_query(text)
    assert [s.value for s in figure_trends(extract_spans(norm), norm)] == trends


@pytest.mark.parametrize(
    ("sentence", "trend"),
    [
        ("甲事業の予算は前年度より増えている。", "up"),
        ("乙事業の経費は前年度から減額された。", "down"),
        ("丙事業の予算は前年度と同額である。", "same"),
        ("丙事業の予算は80億円である。", None),
    ],
)
def test_a_claims_trend(sentence: str, trend: str | None) -> None:
    claim = _claim(sentence)
    assert (claim.trend.value if claim.trend else None) == trend
    if claim.trend:  # the trend word is a value, not a topic term a budget line would lack
        assert not any(w in claim.topic for w in ("増え", "減額", "同額", "前"))


@pytest.mark.parametrize(
    ("source", "matched", "differing"),
    [
        ("甲事業 120百万円(95百万円)", ["増え"], []),
        ("甲事業 40百万円(55百万円)", [], ["増え"]),
        ("甲事業 80百万円(80百万円)", [], ["増え"]),  # the same amount is no increase
        ("甲事業 120百万円", [], []),  # no previous value: the figure says nothing of a trend
    ],
)
def test_a_trend_against_figures(source: str, matched: list[str], differing: list[str]) -> None:
    claim = _claim("甲事業の予算は前年度より増えている。")
    text = normalize_query(source)
    cmp = compare(claim, extract_spans(text), text)
    assert [v.text for v in cmp.matched if v.kind == "trend"] == matched
    assert [v.text for v, _ in cmp.differing] == differing


@pytest.mark.parametrize(
    ("sentence", "known", "names"),
    [
        ("協議会の会長は乙山工業が務めている。", "乙山工業株式会社", ["乙山工業"]),
        ("副会長は丙川商事である。", "株式会社丙川商事", ["丙川商事"]),
        ("副会長は丙川商事である。", "丁野物産株式会社", []),  # not named in the sentence
        ("理事は甲である。", "甲株式会社", []),  # too short to be a name on its own
    ],
)
def test_organisations_named_without_their_legal_form(sentence: str, known: str, names: list[str]) -> None:
    spans = [s for s in extract_spans(known) if s.kind == "org"]
    assert [s.text for s in bare_org_names(sentence, spans)] == names


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("甲の要件は不明確である。", ("不明確",)),  # 明確 inside 不明確 is not said
        ("甲の要件は明確である。", ("明確",)),
        ("甲は明確だが乙は不明確である。", ("明確", "不明確")),
        ("乙は不可能である。", ("不可能",)),
    ],
)
def test_a_polarity_word_inside_its_opposite_is_not_found(text: str, words: tuple[str, ...]) -> None:
    assert polarity_words(text) == words


@pytest.mark.parametrize(
    ("sentence", "source", "opposed"),
    [
        ("甲分野の人材は十分に足りている。", "甲分野の人材が不足している。", ["十分", "足り"]),
        ("乙の要件は企業にとって明確である。", "乙の要件が企業には不明確なことから", ["明確"]),
        ("乙の要件は企業にとって明確である。", "乙の要件は明確である。", []),
        ("甲の導入は容易である。", "甲の導入は難しい。", ["容易"]),
        ("丙の講習は有償で行う。", "丙の講習を無償で行う。", ["有償"]),
        ("応募数は目標を上回っている。", "応募数が目標の8割にとどまっている", ["上回"]),
        ("甲装置の最初の機器が搬入された。", "甲装置の最後の機器が搬入されるなど、", ["最初"]),
        ("乙研修は海外の技術者を対象とする。", "乙研修は国内の技術者を対象とする。", ["海外"]),
        # 国内外 is both: it opposes neither 国内 nor 海外 (only 国内のみ).
        ("乙研修は海外の技術者を対象とする。", "乙研修は国内外の技術者を対象とする。", []),
        ("乙研修は国内の技術者を対象とする。", "乙研修は国内外の技術者を対象とする。", []),
        ("丙の資料は事前に配布する。", "丙の資料は事後に配布する。", ["事前"]),
        ("丁の記録は非公開とする。", "丁の記録は公開とする。", ["非公開"]),
    ],
)
def test_opposed_words(sentence: str, source: str, opposed: list[str]) -> None:
    assert opposed_words(_claim(sentence), normalize_query(source)) == opposed
    assert bool(compare(_claim(sentence), [], normalize_query(source)).polarity_conflict) == bool(opposed)


def test_the_claims_value_stated_of_another_item_of_a_list_is_not_confirmed() -> None:
    # Two captions on one line: the claim's date is the other event's; its own event has another date.
    claim = _claim("丁装置の運転開始記念式典は2021年3月4日に行われた。")
    text = normalize_query("甲機構長の総理表敬(2021年3月4日) 丁装置 運転開始記念式典(2021年3月5日)")
    cmp = compare(claim, extract_spans(text), text)
    assert not cmp.matched
    assert [(v.text, s.text) for v, s in cmp.differing] == [("2021年3月4日", "2021年3月5日")]
    text = normalize_query("丁装置 運転開始記念式典(2021年3月4日) 甲機構長の総理表敬(2021年3月5日)")
    assert [v.text for v in compare(claim, extract_spans(text), text).matched] == ["2021年3月4日"]


@pytest.mark.parametrize(
    ("sentence", "source", "differing"),
    [
        ("甲会議は年2回開催されている。", "第6回甲会議の様子", []),  # a frequency against an ordinal
        ("甲会議は第2回で終了した。", "第6回甲会議の様子", ["2回"]),  # two ordinals
        ("甲会議は年2回開催されている。", "甲会議は年4回開催。", ["2回"]),  # two frequencies
    ],
)
def test_an_ordinal_is_not_a_count(sentence: str, source: str, differing: list[str]) -> None:
    text = normalize_query(source)
    assert [v.text for v, _ in compare(_claim(sentence), extract_spans(text), text).differing] == differing


def test_a_listed_name_stands_under_the_lists_label() -> None:
    text = normalize_query("副会長：甲野商事株式会社、株式会社乙野製作所")
    spans = extract_spans(text)
    second = next(s for s in spans if s.kind == "org" and "乙野" in s.text)
    assert label_before(text, second, spans).startswith("副会長")


@pytest.mark.parametrize(
    ("sentence", "matched", "differing"),
    [
        # This year's budget happens to equal the claim's figure; the claim's year and label (令和5年度
        # 補正予算額) stand over another figure in the same run of rows: that row states it otherwise.
        ("丙計画関連の令和5年度補正予算額は213億円である。", ["令和5年度"], [("213億円", "249億円")]),
        ("丙計画関連の令和5年度補正予算額は249億円である。", ["令和5年度", "249億円"], []),
        # Without a year before its label, the figure stated anywhere in the unit is confirmed.
        ("丙計画関連の予算額は213億円である。", ["213億円"], []),
    ],
)
def test_a_figure_is_read_under_its_years_label(sentence: str, matched: list[str],
                                                differing: list[tuple[str, str]]) -> None:
    src = normalize_query("令和6年度予算額(案) 213億円(前年度予算額 213億円)令和5年度補正予算額 249億円")
    cmp = compare(_claim(sentence), extract_spans(src), src)
    assert [v.text for v in cmp.matched] == matched
    assert [(v.text, s.text) for v, s in cmp.differing] == differing


@pytest.mark.parametrize(
    ("word", "text", "other"),
    [
        ("会長", "副会長:乙株式会社", True),  # another role
        ("理事", "常任理事:丙株式会社", True),
        ("教授", "甲大学名誉教授", True),
        ("会長", "会長:甲株式会社 副会長:乙株式会社", False),  # the role itself is there too
        ("会長", "会長:甲株式会社", False),
        ("整備", "副整備", False),  # not a role word
    ],
)
def test_a_role_named_only_inside_another_role(word: str, text: str, other: bool) -> None:
    assert other_role_only(word, text) is other


@pytest.mark.parametrize(("text", "ends"), [
    # A range's end writes only what changes: it takes the year and month of its start.
    ("日程：2031年6月2日~13日(2週間)", {"13日": "2031-06-13"}),
    ("2032年3月30日から4月2日まで", {"4月2日": "2032-04-02"}),
    ("2033年5月〜7月", {"7月": "2033-07"}),
    # A duration or a time limit after から is no date.
    ("2031年6月2日から10日間", {}),
])
def test_a_date_ranges_end_takes_the_year_and_month_of_its_start(text: str, ends: dict[str, str]) -> None:
    norm = normalize_query(text)
    spans = {s.text: s.value for s in range_end_spans(norm, extract_spans(norm, use_mecab=False)) if s.kind == "date"}
    assert all(spans.get(k) == v for k, v in ends.items())
    assert not any(k.startswith("10日") for k in spans)


@pytest.mark.parametrize(("sentence", "source", "conflict"), [
    # The same date, the other side of it.
    ("丁スクールは、2011年より前から各国で開かれてきた。", "丁スクールは、2011年以降、各国で開催。", True),
    ("丁スクールは、2011年以降、各国で開かれてきた。", "丁スクールは、2011年以降、各国で開催。", False),
    # The same event, the other side of it.
    ("評価結果は、審査会の後に公表される。", "評価結果は審査会の前に公表する。", True),
    ("評価結果は、審査会の後に公表される。", "評価結果は審査会の後に公表する。", False),
    # 前年度, 前半 and 前後 are no side of anything.
    ("予算は2030年代前半に前年度から増える。", "予算は2030年代後半に増える。", False),
])
def test_before_and_after_the_same_date_or_event_conflict(sentence: str, source: str, conflict: bool) -> None:
    src = normalize_query(source)
    cmp = compare(_claim(sentence), extract_spans(src), src)
    assert (cmp.polarity_conflict is not None and "≠" in cmp.polarity_conflict) is conflict


@pytest.mark.parametrize(("sentence", "source", "differing"), [
    # A year inside the open range a source date starts (2011年以降) is not contradicted by it...
    ("丁スクールの2030年の大会は、北陸市で開催される予定である。", "丁スクールは、2011年以降、各国で開催。", []),
    # ...a year outside it is.
    ("丁スクールは、2005年に各国で開催された。", "丁スクールは、2011年以降、各国で開催。", ["2005年"]),
    ("丁計画は、2040年に完了する。", "丁計画は、2035年以前に完了。", ["2040年"]),
])
def test_a_date_inside_an_open_range_is_not_contradicted(sentence: str, source: str, differing: list[str]) -> None:
    src = normalize_query(source)
    cmp = compare(_claim(sentence), extract_spans(src), src)
    assert [v.text for v, _ in cmp.differing] == differing


@pytest.mark.parametrize(("sentence", "differing"), [
    ("記念式典には、佐藤総理も出席した。", []),  # も: one more attendee, not the only one
    ("記念式典では、佐藤総理が署名した。", ["佐藤"]),
])
def test_a_name_added_by_mo_is_not_contradicted_by_other_names(sentence: str, differing: list[str]) -> None:
    src = normalize_query("記念式典の際に、山本大臣と鈴木委員が署名した。")
    cmp = compare(_claim(sentence), extract_spans(src), src)
    assert [v.text for v, _ in cmp.differing] == differing


@pytest.mark.parametrize(("figure", "tolerance"), [
    (12e8, 0.5e8),  # 約12億円: half of its last digit's unit
    (3604e6, 0.5e6),
    (100.0, 10.0),  # but at most a tenth of the figure
    (2.5, 0.05),
    (0.0, 0.0),
])
def test_how_far_a_rounded_figure_may_be(figure: float, tolerance: float) -> None:
    assert approx_tolerance(figure) == pytest.approx(tolerance)


@pytest.mark.parametrize(("sentence", "differing"), [
    # Names added by も, alone or as a list the も ends, are added to the members the source lists.
    ("甲協定にはカナダとスペインも参加している。", []),
    ("甲協定にはカナダ、スペインも参加している。", []),
    ("甲協定にはカナダも参加している。", []),
    ("甲協定にはカナダが参加している。", ["カナダ"]),  # without も the claim names the member
])
def test_names_added_by_mo_do_not_conflict_with_other_members(sentence: str, differing: list[str]) -> None:
    text = normalize_query("甲協定の参加国は日本、米国、英国である。")
    assert [v.text for v, _ in compare(_claim(sentence), extract_spans(text), text).differing] == differing


@pytest.mark.parametrize(("sentence", "matched", "differing"), [
    # Two events on one line: the claim's date stands under the shorter label (運転開始), a different date
    # under the label naming all the claim's words and more (本格運転開始): that event is stated otherwise.
    ("丙装置では、本格運転開始は2027年4月の計画である。", [], [("2027年4月", "2031年4月")]),
    ("丙装置では、本格運転開始は2031年4月の計画である。", ["2031年4月"], []),
    ("丙装置では、運転開始は2027年4月の計画である。", ["2027年4月"], []),
])
def test_the_event_whose_label_holds_the_claims_label_words(sentence: str, matched: list[str],
                                                           differing: list[tuple[str, str]]) -> None:
    text = normalize_query("○計画:【運転開始】2027年4月、【本格運転開始】2031年4月")
    cmp = compare(_claim(sentence), extract_spans(text), text)
    assert [v.text for v in cmp.matched] == matched
    assert [(v.text, s.text) for v, s in cmp.differing] == differing


@pytest.mark.parametrize(("text", "name", "inside"), [
    ("博士課程の学生", "博士課", True),  # 課 continued by 程: the middle of a word
    ("甲野課の職員", "甲野課", False),
    ("甲野研究所長の講演", "甲野研究所", False),  # a longer suffix before a title stays a name
])
def test_a_name_ending_inside_a_word(text: str, name: str, inside: bool) -> None:
    (s,) = [x for x in extract_spans(text, use_mecab=False) if x.kind == "org" and x.text == name]
    assert ends_inside_word(text, s) is inside


@pytest.mark.parametrize(("text", "doc_date", "values"), [
    ("昨年10月23日、初めて試運転を行った。", "2031-02", ["2030-10-23"]),  # the year before the issue date
    ("本年3月に開催予定。", "2031-02", ["2031-03"]),
    ("一昨年の5月に設立。", "2031-02", ["2029-05"]),
    ("前年10月に開始。", "2031-02", ["--10"]),  # 前年 is relative to another year, not the document's
    ("2029年10月23日に開始。", "2031-02", ["2029-10-23"]),  # a stated year stays
    ("昨年10月23日に開始。", "", ["--10-23"]),  # no document date: unchanged
])
def test_a_relative_year_is_dated_from_the_documents_date(text: str, doc_date: str, values: list[str]) -> None:
    spans = relative_year_spans(text, extract_spans(text, use_mecab=False), doc_date)
    assert [s.value for s in spans if s.kind == "date"] == values
    # ...so a claim giving the year confirms the source's 昨年10月23日.
    if values == ["2030-10-23"]:
        assert compare_values(_span("2030年10月23日", "date"), spans[0]) == "equal"
