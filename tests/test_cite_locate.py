"""Locating a conflict: the first source of a ``conflict`` is the line stating the claim's item otherwise.

Table-driven, on tiny made-up slides (one passage, one unit per line, as ``test_cite``), with the
claim analysed by the reader's ``Query`` with flat IDF. Each row: the slide, the draft sentence,
the verdicts allowed, the 1-based line the first source must quote (None: not checked), and the
(claim, source) pair the mismatch must report (None: not checked).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistant.cite import DEFAULT_CITE_POLICY, judge
from assistant.claims import compare, denies
from assistant.normalize import normalize_query
from assistant.reader.candidates import Candidate
from assistant.spans import extract_spans
from tests.test_cite import _claim, _slide


def _lines(cands: Sequence[Candidate], unit: Candidate) -> range:
    """The slide lines a unit quotes (a unit may be two lines joined)."""
    return range([c.start for c in cands].index(unit.start) + 1, [c.end for c in cands].index(unit.end) + 2)


MEETING = ["乙政策会議の資料", "第15回 乙政策会議 資料一部改訂（2031年3月4日）", "丙計画の概要を示す。"]
SPEECH = ["〇港湾の整備を、あらゆる面で加速してまいります。", "※佐野知事 第48回定例議会閉会時会見（2030年5月2日）",
          "〇離島航路の維持を図る。"]
BOARD = ["●北辰協議会の役員", "会長：北辰電機株式会社", "常任理事：東邦重工株式会社、西海商事株式会社",
         "理事：南都化学株式会社、中央建設株式会社、"]
#: Names are rare words, a body's generic words (会) common ones.
BOARD_IDF = {"南都": 3.0, "東邦": 3.0, "化学": 2.0, "重工": 2.0, "北辰": 3.0, "協議": 1.0, "会": 0.5, "常任": 3.0,
             "理事": 2.0, "務める": 2.0}
REPORT = ["<主な検討事項>", "・国内外の状況を調査する。",
          "・委員会に進捗を適宜報告しつつ、今年度中に意見募集を経て、指針を取りまとめ予定。"]
CALL = ["(3)公募による地域企画(数回程度)", "・各団体の企画を公募し、その開催費用の一部を支援する。",
        "(4)意識調査の実施(数年に1回程度)"]
HOSTS = ["【参考】甲スクールの概要", "主催：KST、EUROsea", "日程：2031年6月2日~13日(2週間)"]
#: The drafter's verb (開く) and word for the hosts (共催) are rare in the slides.
SCHOOL_IDF = {"甲": 3.0, "スクール": 2.5, "共催": 3.5, "開く": 5.0}
PLAN = ["潮流発電の推進", "・「甲海洋戦略(令和3年4月 乙本部決定)」を踏まえ、潮流発電の実証を長期的視野に立って実施。",
        "・実証海域を公募する。"]

BUDGET = ["乙事業の推進", "令和9年度予算額(案) 48億円(前年度予算額 48億円)", "令和8年度補正予算額 61億円",
          "・丙機構の活動(分担金) 1,250百万円(1,410百万円)"]
PAPERS = ["2.事業提案", "(2031年5月20日第12回WGや2031年11月7日第30回委員会の配布資料にも掲載)"]
MEMBERS = ["甲検討会 構成員一覧", "潮流工学 北辰大学 海洋研究センター 副センター長 山田一郎",
           "海洋政策 南都大学 教授 鈴木次郎 港湾工学 西海大学 准教授 佐藤花子", "港湾政策 東邦大学 名誉教授・客員教授 田中三郎"]
BODIES = ["2.構成", "本部は以下の機関の若干名をもって組織する。", "①北辰大学海洋研究所", "②南都大学港湾研究所",
          "③西海大学潮流研究所"]
SCHEDULE = ["○計画：【運転開始】2041年12月、【本格運転開始】2051年12月", "○進捗：機器の製造が進展。",
            "※資材高騰や設計変更により発生した遅延からの回復を考慮に入れつつ、計画を更新中。"]

SURVEY = ["●乙海洋調査の概要", "・各地の港で観測を行い、結果を公表する。", "・調査協力者(約30名)：漁業者、研究者など"]
#: The drafter's verb (見込む) and the programme's name are rare in the line stating the figure.
SURVEY_IDF = {"乙": 3.0, "海洋": 2.0, "調査": 2.0, "見込む": 5.0, "学生": 3.0, "年間": 2.0}

ITEMS = ["(参考)甲計画の項目", "0.基本設計 3.潮流タービン 6.係留", "1.送電 4.防食 7.保守点検", "2.環境評価 5.安全性 8.地域連携"]

CASES = [
    # An ordinal changed, the date the same: the meeting's line, numbered otherwise.
    (MEETING, "第16回乙政策会議の資料が、2031年3月4日に一部改訂された。", {"conflict"}, 2, ("16回", "15回"), None),
    # Another ordinal and another date: another meeting, which the slide does not describe.
    (MEETING, "第16回乙政策会議は、2032年5月に開催される予定である。", {"partial", "none"}, None, None, None),
    # The same hosts: a series' next edition, not this one numbered otherwise.
    (["【参考】第1回甲スクールの概要", "主催：KST、EUROsea", "日程：2031年6月2日~13日(2週間)"],
     "第2回甲スクールは、KSTとEUROseaの共催で開かれる。", {"partial", "none"}, None, None, None),
    # The speaker's note: the same speaker, the session numbered otherwise.
    (SPEECH, "佐野知事は、第49回定例議会閉会時の会見で、港湾の整備を加速すると述べた。", {"conflict"}, 2, ("49回", "48回"),
     None),
    # The session's opening for its close.
    (SPEECH, "佐野知事は、第48回定例議会の開会時の会見で、港湾の整備を加速すると述べた。", {"conflict"}, 2, ("開会", "閉会"),
     None),
    # A name listed under 理事 while the claim makes it a 常任理事: the row above (常任理事：…) is another
    # record, not one statement with it.
    (BOARD, "南都化学は、北辰協議会の常任理事を務めている。", {"conflict"}, 4, ("常任理事", "理事"), BOARD_IDF),
    (BOARD, "東邦重工は、北辰協議会の常任理事を務めている。", {"strong", "partial"}, 3, None, BOARD_IDF),
    # A period relative to the time of writing, moved by a year.
    (REPORT, "指針は、来年度中に意見募集を経て取りまとめられる予定である。", {"conflict"}, 3, ("来年度", "今年度"), None),
    (REPORT, "指針は、今年度中に意見募集を経て取りまとめられる予定である。", {"strong", "partial"}, 3, None, None),
    # The whole of an amount against a part of it.
    (CALL, "公募による地域企画では、各団体の企画の開催費用の全額を支援する。", {"conflict"}, 2, ("全額", "一部"), None),
    # A list of two names with one swapped: the hosts' row, though it repeats few of the claim's words.
    (HOSTS, "甲スクールは、KSTとF4Xの共催で開かれた。", {"conflict"}, 2, ("F4X", "EUROsea"), SCHOOL_IDF),
    # A longer list (a roster) names many bodies beside the claim's: no swap.
    ([HOSTS[0], "協力：KST、EUROsea、ABCD、MNOP", HOSTS[2]],
     "甲スクールは、KSTとF4Xの共催で開かれた。", {"partial", "none"}, None, None, SCHOOL_IDF),
    # A predicate the source denies inside a clause (…を達成することが困難であり、…), not at its end.
    (["乙協議会の課題", "現状では、この目標を達成することが困難であり、改善が必要。", "今後、住民との対話の場を設ける。"],
     "乙協議会は、現状で目標を達成できている。", {"conflict"}, 2, ("肯定", "否定"), None),
    # Every year against once in several years (the heading's list index, (4), is no figure of it).
    (["(4)意識調査の実施", "・住民の認識を把握するための調査を数年に1回程度実施する。"],
     "意識調査は、毎年1回程度実施する計画である。", {"conflict"}, 2, ("毎年", "数年に"), None),
    # The claim's date to the day and another body: that day's record, its body stated otherwise, though
    # the drafter's verb (まとめる) is not the slide's.
    (["【参考】港湾整備の推進に向けて（2031年3月4日 港湾技術委員会）", "・港湾の整備を段階的に進める。"],
     "港湾整備の推進に向けては、2031年3月4日に港湾計画タスクフォースがまとめた。", {"conflict"}, 1,
     ("港湾計画タスクフォース", "港湾技術委員会"), {"まとめる": 5.0}),
    # The same day on a line about something else is no record of the claim's.
    (["【参考】空港の騒音対策（2031年3月4日 港湾技術委員会）", "・夜間の発着を制限する。"],
     "港湾整備の推進に向けては、2031年3月4日に港湾計画タスクフォースがまとめた。", {"partial", "none"}, None, None,
     {"まとめる": 5.0}),
    # A growth in size for a reduction.
    (["○技術を活かし、小型化・高度化等の独創的な新興技術の支援策を強化する。"],
     "大型化・高度化等の独創的な新興技術の支援策を強化する。", {"conflict"}, 1, ("大型化", "小型化"), None),
    # The date of a document the line refers to is not the date of what the line states...
    (PLAN, "潮流発電の実証は、2045年まで長期的視野に立って実施される。", {"partial", "none"}, None, None, None),
    # ...unless the claim speaks of the document itself.
    (PLAN, "甲海洋戦略は、令和3年6月に乙本部で決定された。", {"conflict"}, 2, ("令和3年6月", "令和3年4月"), None),
    # A figure stated with its previous year's twin (48億円(前年度 48億円)): the claim's previous-year figure is
    # compared with the bracketed one, and the line stating the claim's year and figure is the record.
    (BUDGET, "乙事業の令和９年度予算額（案）は４８億円で、前年度の４５億円から増額された。", {"conflict"}, 2,
     ("45億円", "48億円"), None),
    (BUDGET, "乙事業の令和９年度予算額（案）は４８億円で、前年度と同額である。", {"strong", "partial"}, 2, None, None),
    # An ordinal before a Latin word (第12回WG) is an ordinal all the same.
    (PAPERS, "乙計画の人材育成の提案は、2031年5月20日の第14回WGや2031年11月7日の第30回委員会の資料に掲載された。",
     {"conflict"}, 2, ("14回", "12回"), None),
    # The claim's person holding another office than the claim says (副センター長 for センター長)...
    (MEMBERS, "潮流工学の専門家として、北辰大学海洋研究センターのセンター長である山田一郎氏が参加している。", {"conflict"}, 2,
     ("センター長", "副センター長"), None),
    (MEMBERS, "潮流工学の専門家として、北辰大学海洋研究センターの副センター長である山田一郎氏が参加している。",
     {"strong", "partial"}, 2, None, None),
    # A line of several members: the office written against the claim's person, not another member's.
    (MEMBERS, "港湾工学の佐藤花子氏は、西海大学の教授である。", {"conflict"}, 3, ("教授", "准教授"), None),
    (MEMBERS, "港湾工学の佐藤花子氏は、西海大学の准教授である。", {"strong", "partial"}, 3, None, None),
    # Two offices of one person (名誉教授・客員教授): the claim's is one of them.
    (MEMBERS, "港湾政策の田中三郎氏は、東邦大学の名誉教授である。", {"strong", "partial"}, 4, None, None),
    # A numbered occurrence (第2回) against a line numbering none: the programme's start, not that occurrence.
    (["甲スクールの強化", "・2031年9月、甲スクールを開催する予定。"],
     "甲スクールの第2回は、2032年9月に開催される予定である。", {"partial", "none"}, None, None, None),
    (["甲スクールの強化", "・第2回甲スクールは、2032年10月に開催される予定である。"],
     "甲スクールの第2回は、2032年9月に開催される予定である。", {"conflict"}, 2, ("2032年9月", "2032年10月"), None),
    # A numbered list under the line announcing it is one statement: a member swapped...
    (BODIES, "本部は、北辰大学海洋研究所、南都大学港湾研究所、東邦大学潮流研究所などの機関の若干名をもって組織される。",
     {"conflict"}, 5, ("東邦大学潮流研究所", "西海大学潮流研究所"), None),
    # ...or its members named.
    (BODIES, "本部は、北辰大学海洋研究所、西海大学潮流研究所などの機関の若干名をもって組織される。",
     {"strong", "partial"}, 5, None, None),
    # The number of an item of a numbered list: the item's own number, however little of the list's title
    # the line repeats...
    (ITEMS, "甲計画の項目のうち、「防食」は項目7に挙げられている。", {"conflict"}, 3, ("項目7", "4.防食"), None),
    (ITEMS, "甲計画では、防食は項目4に位置づけられている。", {"strong", "partial"}, 3, None, None),
    # A figure no line confirms, and the line most about the item giving a figure of its kind under the claim
    # figure's own label (調査協力者): that figure stated otherwise, however few of the claim's other words it has.
    (SURVEY, "乙海洋調査では、調査協力者として約60名を見込んでいる。", {"conflict"}, 3, ("約60名", "約30名"), SURVEY_IDF),
    # ...but not a figure of something the line does not name (学生 per year): no counterpart there.
    (SURVEY, "乙海洋調査には、年間約60名の学生が参加している。", {"partial", "none"}, None, None, SURVEY_IDF),
    # ...and an item the list does not name has no number there.
    (ITEMS, "甲計画では、漁業協調は項目9に位置づけられている。", {"partial", "none"}, None, None, None),
    # A reason clause (…を考慮しつつ、) stated in a note of its own: the line stating the dates is about the
    # main clause's item.
    (SCHEDULE, "乙炉は、資材高騰などによる遅延からの回復を考慮しつつ、2041年12月に運転を開始し、2051年6月に本格運転を開始する計画である。",
     {"conflict"}, 1, ("2051年6月", "2051年12月"), None),
]


@pytest.mark.parametrize(("lines", "sentence", "strengths", "line", "mismatch", "idf"), CASES)
def test_a_conflict_is_located_at_the_line_stating_the_item_otherwise(
        lines: list[str], sentence: str, strengths: set[str], line: int | None,
        mismatch: tuple[str, str] | None, idf: dict[str, float] | None) -> None:
    cands = _slide(lines)
    strength, unit, _ = judge(_claim(sentence, idf), cands, DEFAULT_CITE_POLICY)
    assert strength in strengths, (strength, unit.cand.text if unit else None)
    if line is not None:
        assert unit is not None and line in _lines(cands, unit.cand), unit.cand.text if unit else None
    if mismatch is not None:
        assert unit is not None
        pairs = [(v.text, s.text) for v, s in unit.cmp.differing]
        if unit.cmp.polarity_conflict == "negation" and not pairs:
            pairs = [("肯定", "否定")]
        elif unit.cmp.polarity_conflict and not pairs:
            pairs = [tuple(unit.cmp.polarity_conflict.split(" ≠ "))]
        assert mismatch in pairs, pairs


@pytest.mark.parametrize(
    ("source", "claim", "verdict"),
    [
        # Roles and relative periods are compared though the index has no span for them.
        ("・今年度中に取りまとめ予定。", "来年度中に取りまとめる予定である。", ("来年度", "今年度")),
        ("・本年度中に取りまとめ予定。", "今年度中に取りまとめる予定である。", None),
        # A year and a fiscal year are two kinds of period: neither confirms nor contradicts the other.
        ("・今年度中に取りまとめ予定。", "来年中に取りまとめる予定である。", "unknown"),
        # A relative year before a date is that date's year, not a period of its own.
        ("・昨年10月23日、初めて試験を実施。", "昨年、初めて試験を実施した。", "unknown"),
    ],
)
def test_relative_periods_are_values(source: str, claim: str, verdict: tuple[str, str] | str | None) -> None:
    c = _claim(claim)
    text = normalize_query(source)
    cmp = compare(c, extract_spans(text), text)
    if verdict is None:
        assert [v.text for v in cmp.matched] == [v.text for v in c.values if v.kind == "relative"]
    elif verdict == "unknown":
        # (Other values of the claim, 初めて, may be stated: the period is neither.)
        assert not cmp.differing and not [v for v in cmp.matched if v.kind == "relative"]
    else:
        assert [(v.text, s.text) for v, s in cmp.differing] == [verdict]


@pytest.mark.parametrize(
    ("text", "word", "denied"),
    [
        ("現状では、この目標を達成することが困難であり、改善が必要。", "達成", True),
        ("目標の達成ができていない状況にある。", "達成", True),
        ("目標を達成した。", "達成", False),
        # Words other than kana between the noun and the difficulty: another clause's difficulty.
        ("達成に向けて困難を乗り越える。", "達成", False),
    ],
)
def test_a_predicate_denied_inside_a_clause(text: str, word: str, denied: bool) -> None:
    assert denies(text, word) is denied


def test_a_list_items_open_lead_in_states_its_name() -> None:
    # The name is in the lead-in (…を活用し、), the rest in one item under it: one statement.
    lines = ["今後、北辰協定に基づいて設置された港湾調整委員会(KCC)を活用し、", "・技術的課題への対応や、施設の共用",
             "・産業界とも連携した、港湾物流網の発展の支援", "など、戦略的な活動を推進します。"]
    cands = _slide(lines)
    claim = _claim("両国は、港湾調整委員会を通じて、産業界とも連携しながら港湾物流網の発展を支援していく。")
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength in ("strong", "partial")
    assert unit is not None and 3 in _lines(cands, unit.cand)
    assert "港湾調整委員会" in [v.text for v in unit.cmp.matched]
    # A closed line above the list (。) is no lead-in: its name is not the items'.
    closed = _slide([lines[0].replace("を活用し、", "を活用する。"), *lines[1:]])
    _, unit, _ = judge(claim, closed, DEFAULT_CITE_POLICY)
    assert unit is None or 3 not in _lines(closed, unit.cand) or "港湾調整委員会" not in [
        v.text for v in unit.cmp.matched]


@pytest.mark.parametrize("title_first", [True, False])
def test_of_two_lines_dating_the_item_otherwise_the_one_as_precise_as_the_claim_is_quoted(title_first: bool) -> None:
    # A line giving the month, as the claim does, and a bracketed title giving the day: the same decision
    # dated otherwise twice; the line written as the claim is written is where it is stated otherwise.
    lines = ["【参考】甲海洋戦略(令和5年4月14日 乙本部決定)", "・令和5年4月、甲海洋戦略を乙本部で決定。"]
    cands = _slide(lines if title_first else lines[::-1])
    claim = _claim("甲海洋戦略は、令和4年4月に乙本部で決定された。", {"甲": 3.0, "海洋": 2.0, "戦略": 2.0, "決定": 2.0})
    strength, unit, _ = judge(claim, cands, DEFAULT_CITE_POLICY)
    assert strength == "conflict" and unit is not None
    assert [(v.text, s.text) for v, s in unit.cmp.differing] == [("令和4年4月", "令和5年4月")]
