"""The reader's rules, each on small hand-made inputs (never copies of gold items).

Question analysis, typed spans, structure recovery, value choice, list blocks and
the answer shape are pure functions or work on a fixture index built with the fake
embedder; the learned model's own behaviour is measured by the eval, not here.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from readerkit import hard_checks_pipeline, reader_evidence, select_with_best

from assistant.bm25 import bigram_tokenize, mecab_tokenize
from assistant.crosslingual import dictionary_path
from assistant.reader.abstain import missing_literals
from assistant.reader.candidates import Candidate
from assistant.reader.features import FEATURES, F, featurize, focus_whole
from assistant.reader.policy import DEFAULT_POLICY
from assistant.reader.query import analyse, answer_type, asked_units, question_asks, question_literals
from assistant.reader.scorer import Linear, ReaderModel, Trees
from assistant.reader.select import Selection, direct_span, inline_list
from assistant.spans import extract_spans
from assistant.structure import recover_cells


def _analyse(q: str):  # type: ignore[no-untyped-def]
    return analyse(q, mecab_tokenize, lambda t: 1.0)


# ----------------------------------------------------------------- question analysis


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("水素ステーションの整備費はいくらか。", "number"),
        ("参加した自治体は何団体か。", "number"),
        ("補助率は何%ですか", "number"),
        ("実証事業が始まったのはいつですか。", "date"),
        ("委員長を務めるのは誰か。", "person"),
        ("事務局を担うのはどの機関か。", "organization"),
        ("協議会を主催したのはどこが", "organization"),
        ("説明会はどこで開かれたか。", "place"),
        ("共同声明に署名した業界団体はどこか。", "organization"),  # a place question about an organisation
        ("第2回水素フォーラム(HF)の主催者はどこか。", "organization"),  # … even when the focus is another word
        ("第2回水素フォーラムの会場はどこか。", "place"),
        # どこが before a predicate of difference or quality asks in what respect: a description.
        ("新しい補助制度は、従来の制度とどこが違うのか。", "other"),
        ("この方式は他の方式と比べてどこが優れているか。", "other"),
        ("補助制度の窓口はどこが担うのか。", "organization"),
        ("補助金を拡充するのはなぜか。", "reason"),
        ("研修を設けるのは、どうする必要があるからか。", "reason"),
        ("計画を改めるのは何に備えるためか。", "reason"),
        ("応募はいつからか。", "date"),
        ("備蓄目標は何日分に引き上げられるか。", "number"),  # a number of days' supply, not a date
        ("支援策を挙げてください。", "list"),
        ("構成する団体を一通り教えてください。", "list"),
        ("指定された港は全国でいくつか。", "number"),  # how many, not "a few"
        ("主な支援策をいくつか挙げてください。", "list"),
        ("新しい計画が掲げる3つの方針は何ですか？", "list"),  # a number of things asked at once
        ("二つの目標とは何か。", "list"),
        ("三つの柱がどういう働きをすると描かれているか。", "other"),  # not the things themselves
        ("3つの方針のうち、予算が最も大きいものはいくらか。", "number"),  # one value of them
        ("計画の概要を説明して。", "other"),
        # A question that ends on the kind it asks for (…都市は？), or 何 with a counter or a unit.
        ("国際会議が開かれた都市は？", "place"),
        ("研究拠点は何県にありますか。", "place"),
        ("調査を委託する予定の機関は？", "organization"),
        ("来年度分の拠出の額を教えてください。", "number"),
        ("協議会に加わった会社の数は？", "number"),
        ("講習会はこれまで何度開かれたか。", "number"),
        ("充電設備の整備目標は何か所か。", "number"),
        ("防潮堤の高さは何メートルか。", "number"),
        ("前事務局長の名前は？", "person"),
        ("この計画は何年先までを見据えているか", "number"),  # a span of years ahead, not a year
        ("何か月後に公表されるか", "number"),
        ("甲制度の任期は最長で何年？", "number"),  # a term's length, not a year
        ("事業期間は何か月か。", "number"),
        ("甲制度は何年に始まったか。", "date"),
        ("会談した甲国商務省の副長官の名前は？", "person"),  # a post ending in 官 (長官, 次官)
        ("計画の名称は？", "other"),
        ("How much did the programme cost?", "number"),
        ("When did the pilot start?", "date"),
        ("Who chairs the committee?", "person"),
        ("Which agency runs the scheme?", "organization"),
        ("Where was the meeting held?", "place"),
        ("Why was the subsidy raised?", "reason"),
        # A role names a person (a modifier or two may stand before it); "name the" asks for a
        # list only when what it names is plural.
        ("Name the deputy mayor who opened the fair.", "person"),
        ("Which EU commissioner signed the memo?", "person"),
        ("Which chair of the panel resigned?", "person"),
        ("Name the three agencies that fund the scheme.", "list"),
        ("Name the sponsors of the fair.", "list"),
        ("What head-count is planned?", "other"),
        # A kind of body with a word or two before it; not "which two companies" (how many: no one body).
        ("Which government body approved the plan?", "organization"),
        ("Which research institute hosts the lab?", "organization"),
        ("Which two companies lead the consortium?", "other"),
        # A measure or an amount asked by its name, with up to four words before it (not "what does
        # the … subsidy pay for": no amount).
        ("What is the maximum subsidy per household?", "number"),
        ("What annual water supply volume is planned?", "number"),
        ("What is the harbour wall construction completion target for 2030?", "number"),
        ("What was the previous year's budget for the pilot?", "number"),
        ("What does the city's subsidy pay for?", "other"),
        ("How high is the new sea wall?", "number"),
        # A month or a day asked by name; whose …, or the name of a role, asks for a person.
        ("In which month does the survey start?", "date"),
        ("Whose report is cited in the plan?", "person"),
        ("What is the name of the deputy mayor?", "person"),
        ("What is the name of the new library?", "other"),
        ("Which venue hosts the fair?", "place"),
        # Days counted over a period or roughly (年間何日, 何日くらい) are a number, not a date.
        ("甲施設は年間何日運転するか。", "number"),
        ("展示は何日くらい続く？", "number"),
        ("次の会合は何日に開く？", "date"),
    ],
)
def test_answer_type(question: str, expected: str) -> None:
    assert _analyse(question).answer_type == expected


def test_answer_type_takes_the_interrogative_nearest_the_end() -> None:
    # なぜ opens the question, but what is asked at the end is a date.
    assert answer_type("なぜか知らないが、会議はいつ開かれたのか。") == "date"


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("洋上風力の補助率は何%か。", ("補助", "率")),
        ("協議会で議長を務めるのは誰ですか。", ("議長",)),
        ("水素基本戦略の改定時期は？", ("改定",)),  # 時期 is the interrogative here
        # No typed interrogative: the noun after どの / どんな names the kind asked, not the verb.
        ("甲大学大学院のどの研究科に所属している？", ("研究", "科")),
        ("学会のほかにどんな団体とも協調する？", ("団体",)),
        ("甲の開催費用を国はどの程度まで援助する？", ("援助",)),  # a degree names no kind
    ],
)
def test_focus_is_the_compound_before_the_interrogative(question: str, focus: tuple[str, ...]) -> None:
    assert _analyse(question).focus == focus


@pytest.mark.parametrize(
    ("question", "units"),
    [
        ("参加者は何名か。", ("名",)), ("補助率は何%か。", ("percent",)), ("事業費はいくらか。", ("money",)),
        ("必要な人材は何万人か。", ("名",)),  # 何万人 counts people, not money
        ("津波は何分で到達するか。", ("分",)),
        ("何港を指定したか。", ("港",)),
        ("備蓄は何日分か。", ("日分",)),
        ("交付金の上限はいくらか。", ("money",)),
        ("2040年の供給コストの目標はいくらか。", ("money",)), ("入場料金はいくらか。", ("money",)),
        ("How many workers will be needed?", ("名",)),
        # People under any general word for them, with a word or two before it.
        ("How many employees does the office have?", ("名",)), ("How many new researchers joined?", ("名",)),
        ("What is the maximum subsidy per home?", ("money",)), ("What is the annual salary offered?", ("money",)),
        ("How many ports were designated?", ("港",)),
        ("About how many minutes does it take?", ("分",)),
        ("For how many years can a zone be occupied?", ("年",)),
        ("What completion rate is targeted?", ("percent",)),
        ("How much is proposed, in millions of yen?", ("money",)),
        # A unit of measure in katakana, spelled as the span rules spell it (何万キロワット is no money).
        ("発電所の出力は何万キロワットか。", ("kW",)), ("堤防の高さは何メートルか。", ("m",)),
        ("年間の供給量は何万トンか。", ("t",)),
        ("甲施設は年間何日運転するか。", ("日間",)),
        ("How much funding has the city committed?", ("money",)),
        # A length of time asked without its counter: any duration (2週間, 3年間) answers.
        ("How long did the summer school last?", ("週間", "日間", "か月", "年")),
        ("研修の期間はどのくらいか。", ("週間", "日間")), ("どれくらいの期間で整備するか。", ("年", "年間")),
    ],
)
def test_asked_units(question: str, units: tuple[str, ...]) -> None:
    assert set(units) <= set(asked_units(question))


@pytest.mark.parametrize(("question", "units"), [
    ("Students from how many countries attended the school?", ("か国",)),
    ("予算で何名を雇用するか。", ("名",)),
])
def test_a_counter_asked_outright_is_the_only_unit(question: str, units: tuple[str, ...]) -> None:
    assert asked_units(question) == units


@pytest.mark.parametrize(
    "question",
    # いくら / how much ask for an output or a volume as often as for money; 分の is a fraction.
    # (何万キロワット asks for kW, not money: test_asked_units.)
    ["想定出力はいくらか。", "エネルギー消費量はいくらか。", "How much support is planned?", "何分の1か。"],
)
def test_no_unit_is_asked(question: str) -> None:
    assert asked_units(question) == ()


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("協議会の事務局長は誰か。", ("事務", "局", "長")),
        # An adverbial compound (全部で, 年間, 来年度) is not the attribute: the noun before it is.
        ("協議会の会員企業は全部でいくつか。", ("会員", "企業")),
        ("研究所の運営経費は年間いくらか。", ("運営", "経費")),
        ("地域交通の再編、全体で来年度いくら要求するか。", ("再編",)),
        # … and when none stands right before it, there is no focus rather than a counter.
        ("導入した車両の最後の1台が届いたのはいつか。", ()),
        # A bracketed note before the interrogative qualifies the noun before it.
        ("甲事業の整備費(案)は何百万円か。", ("整備", "費")),
        ("甲機構への拠出金として、予算額（案）にいくら計上されているか。", ("予算", "額")),
        ("甲スクールの活動内容（案）として挙げられている項目は何か。", ("活動", "内容")),
        # A number of things asked: the things counted.
        ("新しい計画が掲げる3つの方針は何ですか？", ("方針",)),
        # Which state of a figure is asked (来年度の案) is no attribute: the noun before it is.
        ("甲機構への拠出金、来年度の案では何百万円？", ("拠出", "金")),
    ],
)
def test_focus_is_the_attribute_not_an_adverbial_compound(question: str, focus: tuple[str, ...]) -> None:
    assert _analyse(question).focus == focus


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("前年度の補助額はいくらか。", {"previous", "amount"}),
        ("甲事業の経費は、その前の年度はいくら付いていた？", {"previous", "amount"}),
        ("What was the budget in the previous fiscal year?", {"previous"}),
        ("申請の締切日はいつか。", {"end"}),
        ("受付はいつまでか。", {"end"}),
        ("受付はいつから始まるか。", {"start"}),
        ("When does the consultation open?", {"start"}),
        ("手当はいくらに引き上げられるか。", {"target", "amount"}),
        ("整備費は何百万円か。", {"amount"}),
        ("How long is the course?", {"amount"}),
        ("協議会の役割は何か。", set()),  # 何か asks what, not how much
        ("年に何回開くか。", {"amount"}),
        ("参加した学生のうち県外からは何人か。", {"part", "amount"}),  # a part of a total
        ("会議は何日から何日まで開かれたか。", {"start", "end", "amount", "target"}),  # a range asked
        ("計画の概要を教えてください。", set()),
        ("分担割合が最も大きい国は？", {"most"}),  # the extreme of several asked
        ("最少の参加国はどこか。", {"least"}),
        ("任期は最大4年か。", set()),  # a bound stated, not an extreme asked
        ("Which member pays the lowest share?", {"least"}),
        ("What is the most important step, at least for now?", set()),
    ],
)
def test_question_asks(question: str, asks: set[str]) -> None:
    assert question_asks(question) == asks


@pytest.mark.parametrize(
    ("question", "literals"),
    [("What rate is targeted by FY2027?", ("FY2027",)), ("When will it open in October 2025?", ("2025-10",)),
     ("What is the target for 2030?", ("2030",)), ("How much in fiscal year 2024?", ("FY2024",)),
     ("Who chairs the committee?", ()),
     # An ordinal in digits, as the documents number things (第29回).
     ("What was decided at the 29th meeting?", ("第29",))],
)
def test_english_dates_are_literals_in_canonical_form(question: str, literals: tuple[str, ...]) -> None:
    assert _analyse(question).literals == literals


def test_an_english_date_literal_matches_the_japanese_date() -> None:
    q = _analyse("What completion rate is targeted by FY2027?")
    X = featurize(q, [_cand("作成率を令和9年度までに80%に引き上げる。"), _cand("保有率は令和5年度に71%である。")])
    assert X[0, F["literal"]] == 1 and X[1, F["literal"]] == 0


def test_an_english_ordinal_matches_the_japanese_numbering() -> None:
    q = _analyse("When was the 29th meeting of the panel held?")
    X = featurize(q, [_cand("第29回会合は令和5年5月30日に開催した。"), _cand("第2回会合は令和4年に開催した。"),
                      _cand("第290回の会合を開いた。")])
    assert list(X[:, F["literal"]]) == [1, 0, 0]


def test_an_english_rate_question_asks_for_a_number() -> None:
    assert answer_type("What completion rate for the plans is targeted?") == "number"


@pytest.mark.parametrize(
    ("question", "literals"),
    [
        ("令和7年度の事業費はいくらか。", ("令和7年度",)),
        ("第3回会合はいつか。", ("3回",)),
        ("総事業費は何ドルか。", ("ドル",)),
        ("STEPの建設地はどこか。", ("STEP",)),
        ("何をするのか。", ()),
        # A rate or a count of the things asked is no pin: the documents need not write it.
        ("甲スクールは1年に何回開く？", ()),
        ("1回当たりの経費は？", ()),
        ("産業界の2人はそれぞれどこの所属か。", ()),
        ("3つの方針は何か。", ()),
        # A date followed by に still is (2024年に開催, 令和2年に決定).
        ("2024年に開催された会議は？", ("2024年",)),
        ("令和2年に決定した計画は？", ("令和2年",)),
        # A unit the unit analysis reads is asked, not pinned: documents write it as a symbol (3%).
        ("甲国の分担は何パーセント？", ()),
        ("塔の高さは何メートルか。", ()),
        ("敷地は何ヘクタールか。", ("ヘクタール",)),
    ],
)
def test_question_literals(question: str, literals: tuple[str, ...]) -> None:
    assert question_literals(question) == literals


@pytest.mark.parametrize(
    ("question", "passages", "missing"),
    [
        ("令和7年度の予算額はいくらか。", ["令和6年度予算額(案) 10億円"], ("令和7年度",)),
        ("令和5年度に設立を目指す協議会は。", ["R5年度の設立を目指す協議会"], ()),  # 令和N = RN
        ("事業費は何ユーロか。", ["事業費 10,702 百万円"], ("ユーロ",)),
        ("10702百万円の内訳は。", ["事業費 10,702 百万円"], ()),  # digit-group commas do not matter
    ],
)
def test_missing_literals(question: str, passages: list[str], missing: tuple[str, ...]) -> None:
    assert missing_literals(_analyse(question), passages) == missing


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("洋上風力と水素の予算額はそれぞれいくらか。", ("洋上風力の予算額はいくらか。", "水素の予算額はいくらか。")),
        # The words after the second conjunct belong to both.
        ("委員のうち、北市と南町から参加しているのはそれぞれ誰か。",
         ("委員のうち、北市から参加しているのは誰か。", "委員のうち、南町から参加しているのは誰か。")),
        ("補正予算額は、甲事業と乙事業でそれぞれいくらか。", ("補正予算額は、甲事業はいくらか。", "補正予算額は、乙事業はいくらか。")),
        # "と、" sets apart two whole phrases: nothing after the second belongs to the first.
        ("甲事業の予算額と、乙事業の補助額はそれぞれいくらか。",
         ("甲事業の予算額はいくらか。", "乙事業の補助額はいくらか。")),
        # The second conjunct holds particles of its own; a comma may precede the cue.
        ("比べてみると、北市の計画と南町に向けた支援は、それぞれいくらか。",
         ("比べてみると、北市の計画はいくらか。", "比べてみると、南町に向けた支援はいくらか。")),
        ("「甲計画」と「乙と丙の方針」は、どちらが先に決定されたか。",
         ("「甲計画」は、どちらが先に決定されたか。", "「乙と丙の方針」は、どちらが先に決定されたか。")),
        ("県大会への出場と、市との共催行事はそれぞれ何日か。", ("県大会への出場は何日か。", "市との共催行事は何日か。")),
        ("How much are the budgets for hydrogen and wind respectively?",
         ("How much are the budgets for hydrogen?", "How much are the budgets for wind?")),
        # One question about two subjects together is not two questions.
        ("Which project have Japan and the United States both joined?", ()),
        ("Who leads the outreach office and its research arm?", ()),  # "outreach" holds "each"
        ("洋上風力の予算額はいくらか。", ()),
    ],
)
def test_two_part_question_gets_one_query_per_part(question: str, parts: tuple[str, ...]) -> None:
    q = _analyse(question)
    assert tuple(p.normalized for p in q.parts) == parts
    assert all(p.answer_type == q.answer_type for p in q.parts)


@pytest.mark.parametrize(
    ("a", "b", "labels"),
    [
        ("補正予算額は、甲事業はいくらか。", "補正予算額は、乙事業はいくらか。", ("甲事業", "乙事業")),
        ("「北港」の取扱量は。", "「南港」の取扱量は。", ("北港", "南港")),
        ("同じ問い", "同じ問い", ("同じ問い", "同じ問い")),
        ("甲事業の予算額(案)はいくらか。", "甲事業の前年度の額はいくらか。", ("予算額(案)", "前年度の額")),  # its bracket closed
    ],
)
def test_part_labels_are_what_tells_the_parts_apart(a: str, b: str, labels: tuple[str, str]) -> None:
    from assistant.reader.shape import part_labels

    assert part_labels(a, b) == labels


def test_comparison_question() -> None:
    q = _analyse("甲事業と乙事業ではどちらの予算額が多いか。")
    assert len(q.parts) == 2 and q.comparison


# -------------------------------------------------------------------- typed spans


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("事業費12,500百万円を計上", "money", "12500000000円"),
        ("事業費125億円を計上", "money", "12500000000円"),  # the same amount in another unit
        ("総事業費は約4億2千万円", "money", "420000000円"),  # two units in one amount
        ("補助率は3分の2ではなく45.5%", "percent", "45.5%"),
        ("令和5年10月に完成", "date", "2023-10"),
        ("2023年10月に完成", "date", "2023-10"),  # era and Western years agree
        ("R6年度から開始", "date", "FY2024"),
        ("平成30年3月28日に決定", "date", "2018-03-28"),
        ("総勢約100名が参加", "count", "100名"),
        ("任期5年", "count", "5年"),
        ("10ヶ国から参加", "count", "10か国"),
        ("山田太郎委員長が出席", "person", "山田太郎"),
        ("株式会社サンプル電機が受注", "org", "株式会社サンプル電機"),
        # A flattened table row runs into the name; a date into a legal form before it.
        ("開始予定甲沖20万kW甲風力合同会社", "org", "甲風力合同会社"),
        ("2024年4月1日株式会社サンプル電機が受注", "org", "株式会社サンプル電機"),
        ("青森県六ヶ所村で実施", "place", "青森県六ヶ所村"),
        ("市民会館で開催", "facility", "市民会館"),
        ("約3万人が必要になる", "count", "30000名"),  # a count with its multiplier
        ("約40分で到達する", "count", "40分"),
        ("全国で7港を指定した", "count", "7港"),
        ("公共施設12施設に設置", "count", "12施設"),
        ("備蓄を3日分から7日分に", "count", "7日分"),  # a stock's worth
        ("45,000回分を備蓄", "count", "45000回分"),
        ("5年分の記録", "count", "5年分"),
        ("96,000食を備蓄", "count", "96000食"),
        ("1億度のプラズマ", "count", "100000000度"),
        ("新たに29の企業・団体が参画", "count", "29社"),  # a number counting the noun after の
        ("12の機関が参加", "count", "12機関"),
        ("サン=ドニ大学と連携", "org", "サン=ドニ大学"),  # an = joins a katakana name's two words
        ("応募期間:2/1~2/29)", "date", "--02-29"),  # a slide's month/day
        ("4/1(月)ホームページの開設", "date", "--04-01"),
        ("主催:QST、EUROfusion", "org", "eurofusion"),  # Latin abbreviations listed as names
        ("QSTとF4Eが主催", "org", "f4e"),
        ("点検を毎年6月に実施する", "date", "--06"),  # a month of every year
        ("幅4メートルの通路", "count", "4m"),  # a measure written out is the same unit as its symbol
        ("1平方メートル当たり12トン", "count", "12t"),
        ("出力20万キロワットの発電所", "count", "200000kW"),  # the same as 20万kW
    ],
)
def test_typed_spans(text: str, kind: str, value: str) -> None:
    spans = extract_spans(text)
    assert any(s.kind == kind and s.value == value for s in spans), [(s.kind, s.value) for s in spans]


@pytest.mark.parametrize("text", ["3分の2を補助する", "5分の1以上", "人材が十分に足りている", "一戸建ての住宅",
                                  "14時00分~16時00分", "午前9時 30分開始",
                                  "1戸当たり最大50万円", "1人あたりの補助"])  # a time of day; the unit of a rate
def test_fractions_and_words_are_not_counts(text: str) -> None:
    assert not [s for s in extract_spans(text) if s.kind == "count"]


@pytest.mark.parametrize("text", ["受講者を全体の1/4~1/3程度含む", "その1/2以上を補助", "補助率1/2", "補助率は2/3", "第3の柱",
                                  "R5.5.20第29回TF"])
def test_fractions_ordinals_and_era_dates_are_not_slash_dates_counts_or_names(text: str) -> None:
    spans = extract_spans(text)
    assert not [s for s in spans if s.kind == "count" or (s.kind == "date" and "/" in s.text) or s.kind == "org"]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("受講者を全体の1/4~1/3程度含む", ["25%", "33.33%"]),  # a range of shares, each its own value
        ("その1/2以上を補助", ["50%"]),
        ("補助率は2/3", ["66.67%"]),  # the word before makes the slash pair a share
        ("費用の3分の1を負担", ["33.33%"]),  # denominator first
        ("三分の二以上の賛成", ["66.67%"]),
        ("4/1(月)に開始", []),  # a month and day, not a share
        ("5分の7", []),  # more than the whole: not a share
    ],
)
def test_fractions_are_shares(text: str, values: list[str]) -> None:
    assert [s.value for s in extract_spans(text) if s.kind == "percent"] == values


@pytest.mark.parametrize("text", ["ITER・BA関連の予算", "ITER計画/BA活動", "JT-60SAの運転", "LHD計画に係る経費"])
def test_a_latin_word_alone_or_qualifying_a_word_is_not_a_name(text: str) -> None:
    assert not [s for s in extract_spans(text) if s.kind == "org"]


@pytest.mark.parametrize(("text", "name"), [
    ("研究員森田寿規", "森田寿規"),  # a roster row's name at its end, space removed: MeCab reads 森田寿 + 規
    ("主任研究員高橋寿規\n次の行", "高橋寿規"),
    ("委員の森田氏", "森田"),  # an honorific is not a given name
])
def test_a_given_names_last_ideograph_stays_with_the_name(text: str, name: str) -> None:
    assert name in [s.text for s in extract_spans(text) if s.kind == "person"]


@pytest.mark.parametrize(("text", "person", "org"), [
    ("田中大臣が、スミス英国エネルギー省(ABC)副長官と会談した。", "スミス", "英国エネルギー省"),
    ("ミラー米国商務省長官が来日", "ミラー", "米国商務省"),
])
def test_a_foreign_name_before_a_country_its_ministry_and_a_title(text: str, person: str, org: str) -> None:
    # The press writes a foreign official as name + country + ministry + title; the ministry with its
    # abbreviation is longer than the short office the plain rule lets stand between name and title.
    spans = extract_spans(text)
    assert person in [s.text for s in spans if s.kind == "person"]
    assert org in [s.text for s in spans if s.kind == "org"]


@pytest.mark.parametrize("text", ["水質管理湖北大学研究院教授山田太郎港湾物流海浜大学准教授佐藤花子",
                                  "エネルギー政策湖北大学研究院教授山田太郎コミュニケーション海浜大学准教授佐藤花子"])
def test_roster_rows_run_together_keep_their_people(text: str) -> None:
    # An organisation rule's run may not swallow a titled person, and a field in katakana
    # (エネルギー, the first letters of コミュニケーション) is no foreign name before a title.
    spans = extract_spans(text)
    assert [s.text for s in spans if s.kind == "person"] == ["山田太郎", "佐藤花子"]


def test_qualifiers_are_kept() -> None:
    (s,) = [s for s in extract_spans("予算は約30億円以上") if s.kind == "money"]
    assert s.qualifier == "約以上"


def test_place_name_inside_an_organisation_is_not_a_place() -> None:
    spans = extract_spans("京都エネルギー株式会社が参加")
    assert not [s for s in spans if s.kind == "place"]


# ---------------------------------------------------------------- structure recovery


def test_label_value_lines_and_parent_labels() -> None:
    doc = "●役 員\n会 長 ：甲野株式会社\n副会長：乙野株式会社\n\n本文の文章である。\n"
    cells = recover_cells("d.txt", doc)
    chair = [c for c in cells if c.kind == "kv" and c.value == "甲野株式会社"]
    assert {(c.label, c.first_line, c.last_line) for c in chair} == {("役員 会長", 2, 2), ("役員 会長", 1, 2)}


def test_flattened_table_becomes_one_cell_per_header() -> None:
    doc = "○ 負担割合(建設期)：\n\n   甲国 乙国 丙国\n   40% 35% 25%\n"
    cells = [c for c in recover_cells("d.txt", doc) if c.kind == "table"]
    assert [(c.label, c.value) for c in cells] == [
        ("負担割合(建設期) 甲国", "40%"), ("負担割合(建設期) 乙国", "35%"), ("負担割合(建設期) 丙国", "25%")]
    # Each cell quotes the title, the headers and the values together.
    assert {(c.first_line, c.last_line, c.value_line) for c in cells} == {(1, 4, 4)}


def test_two_lines_of_values_are_not_a_table() -> None:
    assert not [c for c in recover_cells("d.txt", "10% 20% 30%\n40% 50% 60%\n") if c.kind == "table"]


def test_label_above_its_value() -> None:
    cells = recover_cells("d.txt", "●名 称\n一般社団法人サンプル協議会\n")
    assert [(c.kind, c.label, c.value, c.first_line, c.last_line) for c in cells] == [
        ("below", "名称", "一般社団法人サンプル協議会", 1, 2)]


def test_separated_table_rows() -> None:
    doc = "事業 | 予算 | 担当\n洋上風力 | 30億円 | 経済省\n水素 | 12億円 | 環境省\n"
    cells = [c for c in recover_cells("d.txt", doc) if c.kind == "row" and c.last_line == 3]
    assert ("水素 予算", "12億円") in {(c.label, c.value) for c in cells}
    assert any(c.first_line == 3 for c in cells)  # the row alone also answers


def test_table_printed_one_cell_a_line() -> None:
    doc = "表1 区域と事業者\n区域名\n出力\n事業者\n開始\n甲沖\n48万kW\n甲風力合同会社\n2028年12月\n乙沖\n36万kW\n乙洋上株式会社\n2029年6月\n"
    cells = {(c.label, c.value, c.first_line, c.last_line) for c in recover_cells("d.txt", doc) if c.kind == "row"}
    assert ("乙沖 事業者", "乙洋上株式会社", 10, 13) in cells
    assert ("甲沖 開始", "2028年12月", 6, 9) in cells
    # Prose does not look like a table.
    assert not [c for c in recover_cells("d.txt", "これは文である。\n次も文である。\n三つ目。\n") if c.kind == "row"]


# ------------------------------------------------------------- value choice (pure)


def _cand(text: str, cell_label: str | None = None) -> Candidate:
    from assistant.chunking import Chunk
    from assistant.structure import Cell

    body = text if cell_label is None else f"{cell_label}：{text}"
    chunk = Chunk("d:1-1", "d.txt", "t", 1, 1, None, "", body, body, 0, len(body))
    spans = extract_spans(body) if cell_label is None else tuple(
        s.shifted(len(cell_label) + 1) for s in extract_spans(text))
    cell = None if cell_label is None else Cell("d.txt", "kv", cell_label, text, 1, 1, 1)
    return Candidate("sentence" if cell is None else "cell", 1, 0, chunk, 0, len(body), body, 0, 0, 0.9, 0.9,
                     1.0, 0.9, frozenset(mecab_tokenize(body)), tuple(spans), cell)


@pytest.mark.parametrize(
    ("question", "text", "value"),
    [
        # Two values in one sentence: the one whose own clause uses the question's words.
        ("小規模拠点は何か所程度整備するか。", "今後、大規模拠点を2か所程度、小規模拠点を6か所程度整備する。", "6か所程度"),
        ("特別会計はいくらか。", "このうち一般会計は500億円、特別会計は320億円である。", "320億円"),
        ("計画はいつの審議会で決定されるか。", "計画は、意見募集(令和8年2月)を経て、令和8年4月の審議会で決定する。", "令和8年4月"),
        # A change: the question asks what the value becomes, not what it was.
        ("補助上限額はいくらに引き上げられるか。", "補助上限額を、20万円から30万円に引き上げる。", "30万円"),
        ("補助上限額は現在いくらか。", "補助上限額を、現在の20万円から30万円に引き上げる。", "20万円"),
        # A count before 当たり is the unit of a per-unit figure, not the answer.
        ("補助上限額はいくらか。", "補助上限額は1台当たり30万円とする。", "30万円"),
        # A comparison figure in brackets after a value (this year's, then the previous year's):
        # it answers only a question about the previous year.
        ("緑化事業の予算額はいくらか。", "緑化事業 820百万円（ 760百万円)", "820百万円"),
        ("緑化事業の前年度予算額はいくらか。", "緑化事業 820百万円（ 760百万円)", "760百万円"),
        ("How much was the greening programme's budget in the previous year?", "緑化事業 820百万円（760百万円)",
         "760百万円"),
        ("緑化事業の前年度の予算はいくらか。", "予算額（案） 5億円（前年度予算額 4億円）", "4億円"),
        ("緑化事業の予算はいくらか。", "予算額（案） 5億円（前年度予算額 4億円）", "5億円"),
        # A deadline asked for is a range's end; a start, its start.
        ("2026年の応募締切日はいつか。", "ポスドク(2026年応募期間:1/15~2/28)", "2/28"),
        ("2026年の応募はいつから受け付けるか。", "ポスドク(2026年応募期間:1/15~2/28)", "1/15"),
        ("申請はいつまでか。", "申請受付は令和8年4月1日から令和8年5月31日まで。", "令和8年5月31日"),
        # A range written with its unit once is given whole.
        ("スクールは年に何回開くか。", "1回あたり1~2週間、年2~3回程度開催する。", "2~3回程度"),
        # Who holds a post may be another post.
        ("防災本部の本部長は誰が務めるか。", "防災本部 本部長:市長、副本部長:副市長", "市長"),
        ("設立を発表したのは誰か。", "発起人代表から協議会の設立が発表された。", "発起人代表"),
        # An ordinal asked for is answered as one.
        ("資料が改訂されたのは第何回の会議か。", "第71回会議(令和8年2月20日)で一部改訂", "第71回"),
        # Brackets that only explain the value hold no comparison figure.
        ("参加者は何名か。", "参加者は120名（うち学生30名）であった。", "120名"),
        ("参加者のうち学生は何名か。", "参加者は120名（うち学生30名）であった。", "30名"),
        # A part asked for (のうち) in other words than the source's: the figure after うち.
        ("集まった学生のうち地元からの参加は何人か。", "参加学生:8ヶ国から120人(うち県内40人)", "40人"),
        ("集まった学生は何人か。", "参加学生:8ヶ国から120人(うち県内40人)", "120人"),
        # …or in the part's own label (県内の学生): the question names the part, not the total.
        ("県内の学生は何人参加したか。", "参加学生:8ヶ国から120人(うち県内40人)", "40人"),
        ("県内で開いたスクールに学生は何人参加したか。", "参加学生:8ヶ国から120人(うち県内40人)", "120人"),  # where, not whose
        ("新たに加わった企業・団体はいくつか。", "設立会員15社のほか、新たに12の企業・団体が加入。", "12の企業・団体"),
        ("設立会員となった企業は何社か。", "設立会員である工務店など、計15社の企業のほか、新たに12の企業・団体が加入。", "計15社"),
        # A count of a noun after の keeps the nouns it lists (12の企業・団体).
        ("新たに加わったのは何団体か。", "設立会員15社のほか、新たに12の企業・団体が加入。", "12の企業・団体"),
        # …but not a part of a total stated elsewhere (このうち…は…、…は…): the clause decides.
        ("予算案のうち、エネルギー特別会計はいくらか。", "このうち一般会計は500億円、エネルギー特別会計は320億円である。",
         "320億円"),
        # A range answers whole unless one end is asked for; counts make a range only in one
        # counter or as lengths of time (8ヶ国から120人 is no range).
        ("応募の受付はいつからいつまでか。", "研究員(2026年応募期間:3/10~4/25)", "3/10~4/25"),
        ("研修の期間はどのくらいか。", "対象:高校生、大学生・6ヶ月~3年・技術系", "6ヶ月~3年"),
        ("定員は何名か。", "定員:各回5名~8名", "5名~8名"),
        ("講習会の日程はいつか。", "日程:2026年5月10日~12日(3日間)", "2026年5月10日~12日"),
        # 何年 asks a year or a number of years: a line stating no date but a number of years answers.
        ("研究員の任期は最大何年か。", "研究員(不定期公募、任期最大3年、出向制度)", "最大3年"),
        # A name whose help is received (甲省の協力を得て) is not the actor; unless that help is asked.
        ("窓口の運営はどこが担うか。", "窓口の運営は、北市企画課の協力を得て、南町振興公社が行う。", "南町振興公社"),
        ("窓口の運営に協力する部署はどこか。", "窓口の運営は、北市企画課の協力を得て、南町振興公社が行う。", "北市企画課"),
        # A place is given with the venue written after it.
        ("講演会はどこで開かれたか。", "3月2日、北海道札幌市の市民会館で講演会を開催", "北海道札幌市の市民会館"),
        # A count followed by the asked noun (15社の企業) is that noun's count.
        ("協議会の設立会員となった企業は何社か。",
         "設立会員である工務店、設計事務所など、計15社の企業のほか、新たに12の企業・団体が加入。", "計15社"),
    ],
)
def test_direct_value_is_the_one_whose_clause_the_question_names(question: str, text: str, value: str) -> None:
    span = direct_span(_analyse(question), _cand(text), DEFAULT_POLICY)
    assert span is not None and span.text == value


@pytest.mark.parametrize(
    ("question", "chosen"),
    [
        ("For up to how many years can an operator use the site?", 1),  # the bound asked: 最大20年間
        ("事業者は最大何年間、区域を使用できるか。", 1),
        ("事業者は何年間、区域を使用できるか。", 0),  # no bound asked: the better-scored line stands
    ],
)
def test_a_close_value_stating_the_asked_bound_wins(question: str, chosen: int) -> None:
    from assistant.reader.select import select_value

    cands = [_cand("今後5年間で拠点を整備する。"), _cand("選定された事業者は、最大20年間、区域を使用できる。")]
    sel = select_value(_analyse(question), cands, np.array([0.8, 0.6]), DEFAULT_POLICY)
    assert sel.units[0] is cands[chosen]


@pytest.mark.parametrize(
    ("question", "value"),
    [
        # A slide's dated rows read as one sentence: each date belongs to the words of its own line,
        # so the event after the first date is not the second date's, though it stands right before it.
        ("甲協会と共催したシンポジウムは何月何日に開かれたか。", "3月1日"),
        ("ウェブサイトを開設したのは何月何日か。", "4月2日"),
    ],
)
def test_a_value_on_a_line_of_its_own_belongs_to_that_line(question: str, value: str) -> None:
    from assistant.chunking import Chunk
    from assistant.normalize import normalize

    orig = "3月1日(金)甲協会と共催で、市民会館でシンポジウムを開催\n4月2日(火)ウェブサイトを開設、会員募集を開始"
    text = normalize(orig)
    assert "\n" not in text  # the two rows are one "sentence"
    chunk = Chunk("d:1-2", "d.txt", "t", 1, 2, None, "", orig, text, 0, len(orig))
    cand = Candidate("sentence", 1, 0, chunk, 0, len(orig), text, 0, 0, 0.9, 0.9, 1.0, 0.9,
                     frozenset(mecab_tokenize(text)), tuple(extract_spans(text)))
    span = direct_span(_analyse(question), cand, DEFAULT_POLICY)
    assert span is not None and span.text == value


@pytest.mark.parametrize(
    ("question", "name"),
    [
        # A roster's rows run together (field, body, post, name on each line): the person on the row
        # that holds the question's rarer word, not the first row's, which shares only 大学 with it.
        ("検討チームに北海の大学から加わっている委員はどなた？", "山田花子"),
        ("検討チームに湖南の大学から加わっている委員はどなた？", "佐藤一郎"),
    ],
)
def test_a_roster_rows_person_answers_from_the_row_the_question_names(question: str, name: str) -> None:
    from assistant.chunking import Chunk
    from assistant.normalize import normalize

    orig = ("安全政策湖南大学 名誉教授佐藤 一郎\n材料工学西方大学 研究科 教授鈴木 次郎\n"
            "放射線影響北海大学 医療研究所 教授山田 花子")
    text = normalize(orig)
    chunk = Chunk("d:1-3", "d.txt", "t", 1, 3, None, "", orig, text, 0, len(orig))
    cand = Candidate("sentence", 1, 0, chunk, 0, len(orig), text, 0, 0, 0.9, 0.9, 1.0, 0.9,
                     frozenset(mecab_tokenize(text)), tuple(extract_spans(text)))
    span = direct_span(_analyse(question), cand, DEFAULT_POLICY)
    assert span is not None and span.text == name


def test_direct_prefers_the_asked_unit() -> None:
    q = _analyse("説明会の参加者は何名か。")
    c = _cand("説明会は3回開かれ、延べ120名が参加した。")
    assert direct_span(q, c, DEFAULT_POLICY).text == "延べ120名"


@pytest.mark.parametrize(("question", "name"), [("港湾物流の専門家は誰か。", "森田寿規"), ("水質管理の専門家は誰か。", "高橋典子")])
def test_in_roster_rows_run_together_a_name_ends_its_own_row(question: str, name: str) -> None:
    from assistant.spans import TypedSpan

    text = "港湾物流海浜大学教授森田寿規水質管理湖北大学准教授高橋典子"
    # The people as the annotator types them (this test is of the choice, not of name finding).
    people = tuple(TypedSpan("person", text.index(n), text.index(n) + len(n), n, n) for n in ("森田寿規", "高橋典子"))
    cand = replace(_cand(text), spans=people)
    span = direct_span(_analyse(question), cand, DEFAULT_POLICY)
    assert span is not None and span.text == name


def test_direct_is_what_the_question_does_not_name() -> None:
    q = _analyse("2024年の説明会はいつ開かれたか。")
    c = _cand("2024年の説明会は2024年5月10日に開かれた。")
    assert direct_span(q, c, DEFAULT_POLICY).text == "2024年5月10日"


def test_direct_of_a_cell_is_its_value() -> None:
    q = _analyse("令和6年度の事業費はいくらか。")
    c = _cand("40億円", cell_label="令和6年度予算額")
    assert direct_span(q, c, DEFAULT_POLICY).text == "40億円"


def test_no_direct_for_questions_without_a_value_type() -> None:
    assert direct_span(_analyse("なぜ拡充するのか。"), _cand("需要が12%増えたため。"), DEFAULT_POLICY) is None


def _table_cands() -> list[Candidate]:
    """A table the PDF gave one cell a line, read as one long sentence, and its recovered row cells."""
    from assistant.chunking import Chunk
    from assistant.structure import Cell

    body = "区域名\n出力\n開始\n甲沖\n48万kW\n2028年12月\n乙沖\n36万kW\n2029年6月"
    chunk = Chunk("d:1-9", "d.txt", "t", 1, 9, None, "", body, body, 0, len(body))
    flat = body.replace("\n", "")

    def cand(text: str, start: int, end: int, cell: Cell | None) -> Candidate:
        spans = tuple(extract_spans(text))
        return Candidate("sentence" if cell is None else "cell", 1, 0, chunk, start, end, text, -1, 0, 0.9, 0.9,
                         1.0, 0.9, frozenset(mecab_tokenize(text)), spans, cell)

    out = [cand(flat, 0, len(body), None)]
    for key, first in (("甲沖", 4), ("乙沖", 7)):
        a = body.index(key)
        for col, off in (("出力", 1), ("開始", 2)):
            value = body.split("\n")[first - 1 + off]
            cell = Cell("d.txt", "row", f"{key} {col}", value, first, first + 2, first + off)
            out.append(cand(f"{key} {col}：{value}", a, a + len(key) + 12, cell))
    return out


def test_a_named_row_cell_answers_instead_of_the_flattened_table() -> None:
    from assistant.reader.select import select_value

    cands = _table_cands()
    scores = np.array([3.0, 1.0, 0.5, 0.8, 0.4])  # the whole table scores best: it has every word
    sel = select_value(_analyse("乙沖の出力はいくらか。"), cands, scores, DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "36万kW"
    assert sel.units[0].cell is not None and sel.units[0].cell.label == "乙沖 出力"
    # Without a named row the table keeps its first value: nothing tells the rows apart.
    sel = select_value(_analyse("出力はいくらか。"), cands, scores, DEFAULT_POLICY)
    assert sel.units[0].cell is None


def test_a_sentence_holding_two_rows_of_a_table_spans_them() -> None:
    from assistant.reader.candidates import table_rows_spanned

    table, *cells = _table_cands()
    assert table_rows_spanned(table, cells) == 2
    # A sentence on one row's lines (its key and values) spans that row only.
    one_row = replace(table, start=table.text.index("甲沖") + 6, end=table.text.index("乙沖") + 8)
    assert table_rows_spanned(one_row, cells) == 1
    assert table_rows_spanned(table, []) == 0


def test_the_named_row_answers_instead_of_another_rows_cell_of_its_column() -> None:
    from assistant.reader.select import select_value

    _, *cells = _table_cands()  # 甲沖 出力, 甲沖 開始, 乙沖 出力, 乙沖 開始
    scores = np.array([2.0, 1.0, 0.5, 0.4])  # the first row scores best: it shares the table's words
    sel = select_value(_analyse("乙沖の出力はいくらか。"), cells, scores, DEFAULT_POLICY)
    assert sel.units[0].cell is not None and sel.units[0].cell.label == "乙沖 出力"
    # A question naming no row (or the best one) keeps the best cell.
    for question in ("出力はいくらか。", "甲沖の出力はいくらか。"):
        assert select_value(_analyse(question), cells, scores, DEFAULT_POLICY).units[0] is cells[0]


def test_an_english_question_names_a_rows_column_through_its_translated_terms() -> None:
    from assistant.chunking import Chunk
    from assistant.reader.select import select
    from assistant.structure import Cell

    body = "指標 | 現状値 | 目標値 | 担当課\n窓口の待ち時間 | 40分 | 20分 | 市民課"
    chunk = Chunk("d:1-2", "d.txt", "t", 1, 2, None, "", body, body, 0, len(body))
    cands = []
    for col, value in (("現状値", "40分"), ("目標値", "20分"), ("担当課", "市民課")):
        text = f"窓口の待ち時間 {col}：{value}"
        cell = Cell("d.txt", "row", f"窓口の待ち時間 {col}", value, 1, 2, 2)
        cands.append(Candidate("cell", 1, 0, chunk, 0, len(body), text, -1, 0, 0.9, 0.9, 1.0, 0.9,
                               frozenset(mecab_tokenize(text)), tuple(extract_spans(value)), cell))
    scores = np.array([1.5, 1.2, 1.0])  # the ranker prefers the row's first cell
    q = _analyse("What is the target for the waiting time at the counters?")
    q = replace(q, terms={**q.terms, "目標": 1.0, "窓口": 1.0})  # what retrieval translated
    sel = select(q, None, cands, scores, DEFAULT_POLICY)  # type: ignore[arg-type]
    # The named column wins, and a text cell of the row does not displace the figure it names.
    assert sel.units[0].cell is not None and sel.units[0].cell.value == "20分"
    # Untranslated, nothing names a column: the figure yields to the row's description (担当課) when
    # no amount is asked ("target" asks for one).
    sel = select(_analyse("What is said about the waiting time at the counters?"), None, cands, scores,
                 DEFAULT_POLICY)  # type: ignore[arg-type]
    assert sel.units[0].cell is not None and sel.units[0].cell.value == "市民課"


def _row_cands() -> list[Candidate]:
    """One table row's two cells: an amount and a description, sharing their quote."""
    from assistant.chunking import Chunk
    from assistant.structure import Cell

    body = "事業名 予算案 概要\n甲事業 3,200 避難所となる施設への導入"
    chunk = Chunk("d:1-2", "d.txt", "t", 1, 2, None, "", body, body, 0, len(body))
    out = []
    for col, value in (("予算案", "3,200百万円"), ("概要", "避難所となる施設への導入")):
        text = f"甲事業 {col}：{value}"
        cell = Cell("d.txt", "row", f"甲事業 {col}", value, 1, 2, 2)
        spans = tuple(s.shifted(len(cell.label) + 1) for s in extract_spans(value))
        out.append(Candidate("cell", 1, 0, chunk, 0, len(body), text, -1, 0, 0.9, 0.9, 1.0, 0.9,
                             frozenset(mecab_tokenize(text)), spans, cell))
    return out


@pytest.mark.parametrize(("question", "expected"), [
    ("甲事業はどのような施設への導入を支援するか。", "避難所となる施設への導入"),  # asks what: the description
    ("甲事業の予算案は何百万円か。", "3,200百万円"),  # asks an amount in words the analyser has no type for
])
def test_a_question_for_no_value_takes_the_rows_description(question: str, expected: str) -> None:
    from assistant.reader.select import select

    cands = _row_cands()
    sel = select(_analyse(question), None, cands, np.array([3.0, 2.6]), DEFAULT_POLICY)  # type: ignore[arg-type]
    assert sel.units[0].cell is not None and sel.units[0].cell.value == expected


@pytest.mark.parametrize("question", ["甲事業の令和7年度の予算はいくらか。", "How much is budgeted for project A in FY2025?"])
def test_a_rows_cell_whose_column_names_the_asked_year(question: str) -> None:
    from assistant.chunking import Chunk
    from assistant.reader.select import select_value
    from assistant.structure import Cell

    body = "事業名 令和6年度 令和7年度\n甲事業 120 150"
    chunk = Chunk("d:1-2", "d.txt", "t", 1, 2, None, "", body, body, 0, len(body))
    cands = []
    for col, value in (("令和6年度", "120億円"), ("令和7年度", "150億円")):
        cell = Cell("d.txt", "row", f"甲事業 {col}", value, 1, 2, 2)
        text = f"{cell.label}：{value}"
        spans = tuple(s.shifted(len(cell.label) + 1) for s in extract_spans(value))
        cands.append(Candidate("cell", 1, 0, chunk, 0, len(body), text, -1, 0, 0.9, 0.9, 1.0, 0.9,
                               frozenset(mecab_tokenize(text)), spans, cell))
    sel = select_value(_analyse(question), cands, np.array([3.0, 2.0]), DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "150億円"


def test_a_key_with_a_qualifier_is_named_by_its_parts() -> None:
    from assistant.reader.select import key_named

    assert key_named(_analyse("浮体式の甲沖の想定出力はいくらか。"), "甲沖(浮体式)")
    assert not key_named(_analyse("甲沖の想定出力はいくらか。"), "甲沖(浮体式)")  # the qualifier is not named
    assert key_named(_analyse("甲沖の想定出力はいくらか。"), "甲沖")


def test_a_question_pinned_to_a_year_takes_that_column_of_a_text_row() -> None:
    from assistant.chunking import Chunk
    from assistant.reader.select import select
    from assistant.structure import Cell

    body = "施策 | 令和7年度 | 令和8年度\n窓口 | 本庁舎で開設 | 支所へ拡大"
    chunk = Chunk("d:1-2", "d.txt", "t", 1, 2, None, "", body, body, 0, len(body))
    cands = []
    for col, value in (("令和7年度", "本庁舎で開設"), ("令和8年度", "支所へ拡大")):
        cell = Cell("d.txt", "row", f"窓口 {col}", value, 1, 2, 2)
        text = f"{cell.label}：{value}"
        cands.append(Candidate("cell", 1, 0, chunk, 0, len(body), text, -1, 0, 0.9, 0.9, 1.0, 0.9,
                               frozenset(mecab_tokenize(text)), (), cell))
    sel = select(_analyse("窓口は令和8年度にどう展開される計画か。"), None, cands, np.array([3.0, 2.0]),  # type: ignore[arg-type]
                 DEFAULT_POLICY)
    assert sel.units[0].cell is not None and sel.units[0].cell.value == "支所へ拡大"


def test_a_signed_cell_value_keeps_its_sign_in_its_span() -> None:
    from assistant.annotate import cell_record
    from assistant.structure import Cell

    rec = cell_record(Cell("d.txt", "row", "甲事業 増減", "-7億円", 1, 2, 2), bigram_tokenize, names=False)
    assert [(k, a, b) for k, a, b, _, _ in rec["spans"]] == [("money", 0, 4)]


def test_a_candidate_with_the_asked_unit_wins_over_a_better_scored_one_without_it() -> None:
    from assistant.reader.select import select_value

    cands = [_cand("甲沖は20万kW、乙沖は15万kWを想定する。"), _cand("県内では5港を拠点港に選んだ。")]
    q = _analyse("How many ports have been chosen as hub ports?")
    sel = select_value(q, cands, np.array([1.5, 0.0]), DEFAULT_POLICY)  # 1.5 apart: within the unit margin
    assert sel.direct is not None and sel.direct.text == "5港"
    sel = select_value(q, cands, np.array([5.0, 0.0]), DEFAULT_POLICY)  # far apart: the best keeps its place
    assert sel.units[0] is cands[0]


@pytest.mark.parametrize(
    ("question", "scale"),
    [
        ("補助の上限は何万円か。", "万円"), ("総額は何億円か。", "億円"),
        ("How much is proposed, in millions of yen?", "百万円"), ("What is the cost in thousands of yen?", "千円"),
        ("事業費はいくらか。", ""), ("How much is the budget?", ""), ("参加者は何名か。", ""),
    ],
)
def test_asked_scale(question: str, scale: str) -> None:
    q = _analyse(question)
    assert q.scale == scale
    assert not scale or (q.answer_type == "number" and "money" in q.units)


def test_an_amount_in_the_asked_scale_wins_over_a_better_scored_one_in_another() -> None:
    from assistant.reader.select import select_value

    cands = [_cand("(2)省エネ化(30億円)窓の改修に1戸当たり最大50万円を補助する。"), _cand("900", cell_label="窓改修事業 予算案")]
    cands[1] = replace(cands[1], spans=tuple(extract_spans("窓改修事業 予算案：900百万円")))
    scores = np.array([1.5, 0.5])  # within the unit margin
    sel = select_value(_analyse("How much is proposed for the window project, in millions of yen?"), cands, scores,
                       DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "900百万円"
    # No scale asked: the better scored amount keeps its place.
    assert select_value(_analyse("窓の改修の予算はいくらか。"), cands, scores, DEFAULT_POLICY).units[0] is cands[0]


def test_unit_found_tells_whether_any_candidate_has_the_asked_unit() -> None:
    from assistant.reader.abstain import A, abstain_features

    cands = [_cand("説明会は3回開かれた。"), _cand("会場は市民会館である。")]
    X = featurize(_analyse("説明会の参加者は何名か。"), cands)

    def unit_found(question: str) -> float:
        q = _analyse(question)
        v = abstain_features(q, cands, X, np.zeros(len(cands)), [frozenset()], [0.9], lambda t: 1)
        return float(v[A["unit_found"]])

    assert unit_found("説明会の参加者は何名か。") == 0.0  # a count of 回 is no count of people
    assert unit_found("説明会は何回開かれたか。") == 1.0
    assert unit_found("会場はどこか。") == 1.0  # no unit asked: nothing to miss


@pytest.mark.parametrize(
    ("text", "western"),
    [
        ("令和5年4月に策定", "2023年4月"),
        ("R6年度から開始", "2024年度"),
        ("平成30年3月28日に決定", "2018年3月28日"),
        ("令和7年に完成", "2025年"),
        ("2023年4月に策定", None),  # already in Western years
    ],
)
def test_an_english_lead_gives_era_dates_in_western_years(text: str, western: str | None) -> None:
    from assistant.reader.shape import western_date
    from assistant.spans import date_spans

    assert western_date(date_spans(text)[0]) == western


def test_unit_best_and_focus_near_look_at_the_best_candidate_only() -> None:
    from assistant.reader.abstain import A, abstain_features

    # The best candidate (logit 2) states a count; a weaker one holds money elsewhere.
    cands = [_cand("整備済みのステーションは170か所である。"), _cand("支援の総額は3兆円規模とする。")]
    q = _analyse("ステーションの整備費用はいくらか。")
    X = featurize(q, cands)
    v = abstain_features(q, cands, X, np.array([2.0, -1.0]), [frozenset()], [0.9], lambda t: 1,
                         passage_texts=["整備済みのステーションは170か所である。支援の総額は3兆円規模とする。"])
    assert v[A["unit_found"]] == 1.0  # some candidate has money
    assert v[A["unit_best"]] == 0.0  # the one that would answer has none
    assert v[A["focus_near"]] == 0.0  # and its passage never names 整備費用
    q2 = _analyse("支援の総額はいくらか。")
    v2 = abstain_features(q2, cands, featurize(q2, cands), np.array([-1.0, 2.0]), [frozenset()], [0.9], lambda t: 1)
    assert v2[A["unit_best"]] == 1.0 and v2[A["focus_near"]] == 1.0


@pytest.mark.parametrize(
    ("question", "kinds"),
    [
        ("北市の避難所はいくつあるか。", {"count", "number"}),  # a count, not a share of them
        ("How many shelters does the city have?", {"count", "number"}),
        ("整備費用はいくらか。", {"money", "percent", "count", "number"}),  # a named unit: unit_matches judges it
        ("甲ガスの主な輸入先として想定されている国はどこか。", {"place"}),  # a country: no office, no venue
        ("Which country supplies the gas?", {"place"}),
        ("共同で建設中の施設は、どこの国にありますか。", {"place"}),
        ("説明会はどこで開かれたか。", {"place", "facility", "org"}),  # a venue may be a building
        ("委員長を務めるのは誰か。", {"person"}),
        ("計画の概要を説明して。", set()),
    ],
)
def test_strict_kinds_narrow_the_answer_type_where_the_question_says_more(question: str, kinds: set[str]) -> None:
    from assistant.reader.features import strict_kinds

    assert strict_kinds(_analyse(question)) == kinds


def test_type_best_checks_the_best_candidates_value_against_what_is_asked() -> None:
    from assistant.reader.abstain import A, abstain_features

    cands = [_cand("運営委員の3割以上を女性とする。"), _cand("市内の避難所は42か所である。")]

    def type_best(question: str, logits: list[float]) -> float:
        q = _analyse(question)
        v = abstain_features(q, cands, featurize(q, cands), np.array(logits), [frozenset()], [0.9], lambda t: 1)
        return float(v[A["type_best"]])

    assert type_best("避難所はいくつあるか。", [2.0, -1.0]) == 0.0  # the best states a share
    assert type_best("避難所はいくつあるか。", [-1.0, 2.0]) == 1.0
    assert type_best("女性の割合はどれだけか。", [2.0, -1.0]) == 1.0
    org = [_cand("事業は甲エネルギー政策室が所管する。")]
    q = _analyse("甲ガスの輸入先として想定されている国はどこか。")
    v = abstain_features(q, org, featurize(q, org), np.array([1.0]), [frozenset()], [0.9], lambda t: 1)
    assert v[A["type_best"]] == 0.0  # an office answers no country
    country = [_cand("夏季講座は日本が主催する。")]
    q = _analyse("夏季講座はどこの都市で開催されますか？")
    v = abstain_features(q, country, featurize(q, country), np.array([1.0]), [frozenset()], [0.9], lambda t: 1)
    assert v[A["type_best"]] == 0.0  # a country answers no city
    placed = [_cand("拠点には、企業と繋ぐ広報コーディネーターを置く。"), _cand("拠点は来年度に開所する。")]
    q = _analyse("拠点で企業との橋渡し役として置かれるのは誰か。")
    v = abstain_features(q, placed, featurize(q, placed), np.array([1.0, -1.0]), [frozenset()], [0.9], lambda t: 1)
    assert v[A["type_best"]] == 1.0  # who is placed, named by what they do
    v = abstain_features(q, placed, featurize(q, placed), np.array([-1.0, 1.0]), [frozenset()], [0.9], lambda t: 1)
    assert v[A["type_best"]] == 0.0


@pytest.mark.parametrize(
    ("question", "passage", "found"),
    [
        ("ステーション1か所当たりの整備費用はいくらか。", "整備済みのステーションは170か所、総額は3兆円である。", 0.0),
        ("ステーション1か所当たりの整備費用はいくらか。", "整備費用は1か所当たり4億円である。", 1.0),
        ("What is the cost per station?", "整備費用の単価は4億円である。", 1.0),
        ("供給コストは1Nm3当たりいくらか。", "供給コストは約100円/Nm3を目指す。", 1.0),  # a value over a unit
        ("1人当たりの費用はいくらか。", "ITER/BA活動の費用は40億円である。", 0.0),  # a slash between names is no rate
        ("前回の計画の修正はいつ行われたか。", "修正案は令和7年7月の会議で決定する。", 0.0),
        ("前回の計画の修正はいつ行われたか。", "前回の修正は令和2年3月に行った。", 1.0),
        ("次回の会議の議題は何か。", "議題:(1)取組状況について", 0.0),
        ("計画の修正はいつ行われたか。", "修正案は令和7年7月の会議で決定する。", 1.0),  # no qualifier asked
        # Next year's budget: the document names the year of its proposal, or lists this year's
        # amounts with last year's in brackets; a passage with neither says nothing of next year.
        ("甲事業の来年度の予算はいくらか。", "令和8年度予算額(案) 12億円", 1.0),
        ("甲事業の来年度の予算はいくらか。", "①甲事業の運営 480百万円(310百万円)", 1.0),
        ("甲事業の来年度の予算はいくらか。", "甲事業の令和7年度予算額は12億円である。", 0.0),
        ("来年の会議はいつ開かれるか。", "令和8年度予算額(案) 12億円", 0.0),  # a budget is not next year's meeting
    ],
)
def test_qualifier_found_needs_the_per_unit_or_relative_qualifier_in_the_passage(
        question: str, passage: str, found: float) -> None:
    from assistant.reader.abstain import qualifier_found

    assert qualifier_found(_analyse(question), passage) == found


def test_unknown_share_discounts_a_word_whose_corpus_synonym_the_passages_use() -> None:
    from assistant.reader.abstain import unknown_share

    df = {"会議": 3, "開催": 2, "結晶": 1}
    terms = {"会議": 1.0, "開く": 2.0, "天気": 1.0}
    syn = {"開く": {"開催": 0.5}, "天気": {"結晶": 0.5}}
    known = lambda t: df.get(t, 0)  # noqa: E731
    # 開く and 天気 are words the corpus never uses: 3 of 4 by weight ...
    assert unknown_share(terms, {}, known) == pytest.approx(0.75)
    # ... with 開く matched half by its synonym 開催, which a passage uses, 2 of 4; a synonym the
    # passages do not use (天気 -> 結晶, a table's stray link) discounts nothing.
    passages = [frozenset({"会議", "開催"}), frozenset({"予算"})]
    assert unknown_share(terms, syn, known, passages) == pytest.approx(0.5)
    assert unknown_share(terms, syn, known, [frozenset({"予算"})]) == pytest.approx(0.75)
    assert unknown_share({}, {}, known) == 0.0


def test_qualifier_near_looks_at_the_best_candidates_passage() -> None:
    from assistant.reader.abstain import A, abstain_features

    cands = [_cand("総額は3兆円である。"), _cand("整備費用は1か所当たり4億円である。")]
    q = _analyse("1か所当たりの整備費用はいくらか。")
    X = featurize(q, cands)
    v = abstain_features(q, cands, X, np.array([2.0, -1.0]), [frozenset()], [0.9], lambda t: 1)
    assert v[A["qualifier_near"]] == 0.0
    v = abstain_features(q, cands, X, np.array([-1.0, 2.0]), [frozenset()], [0.9], lambda t: 1)
    assert v[A["qualifier_near"]] == 1.0


def test_english_lead_does_not_take_a_unit_for_a_name() -> None:
    from assistant.reader.select import Selection
    from assistant.reader.shape import _english_lead

    c = _cand("政府は2030年までに10GW、ITERでは5MW、甲沖では20万kWを目標とする。")
    lead = _english_lead(Selection([c], None, None, 1.0), "What is the target?")
    assert "ITER" in lead and "GW" not in lead and "MW" not in lead and "kW" not in lead


def test_english_lead_leaves_out_the_abbreviation_of_a_name_the_question_spells_out() -> None:
    from assistant.reader.select import Selection
    from assistant.reader.shape import _english_lead

    c = _cand("・地域連携フェロー(RCF)(通年公募、任期最大2年、KEK共催)")
    lead = _english_lead(Selection([c], None, None, 1.0), "What is the maximum term for Regional Cooperation Fellows?")
    assert "RCF" not in lead and "KEK" in lead


def test_a_sentence_fragment_at_a_passage_edge_yields_to_the_whole_sentence() -> None:
    from assistant.reader.candidates import dedupe

    whole = _cand("これらに加え、補正予算と一体的に執行する。")
    frag = replace(whole, start=whole.start + 1, text=whole.text[1:])  # the passage began one character in
    other = replace(_cand("表1 主な事項"), start=whole.end + 1, end=whole.end + 8)
    assert dedupe([frag, other, whole]) == [other, whole]


def test_features_are_finite_and_named() -> None:
    q = _analyse("説明会の参加者は何名か。")
    X = featurize(q, [_cand("延べ120名が参加した。"), _cand("説明会の概要", None)])
    assert X.shape == (2, len(FEATURES)) and np.isfinite(X).all()
    assert X[0, F["unit_match"]] == 1 and X[1, F["unit_match"]] == 0


@pytest.mark.parametrize(
    ("focus", "text", "whole"),
    [
        ("主査", "※有識者会議構成員甲野花子主査", True),       # at the end of the line
        ("主査", "乙山太郎主査代理", False),                    # the head of a longer role
        ("主査", "乙山太郎主査代理、甲野花子主査", True),        # one of two occurrences stands alone
        ("補助率", "補助率は1/2とする。", True),
        ("会長", "会長代行：丙川", False),
        ("会長", "副会長：丙川", True),                        # a prefix is another test (claims)
    ],
)
def test_focus_whole_tells_a_role_from_a_longer_role(focus: str, text: str, whole: bool) -> None:
    assert focus_whole(focus, text) is whole


def test_focus_whole_feature_separates_glued_roster_rows() -> None:
    q = _analyse("作業部会の主査を務めるのは誰か。")
    X = featurize(q, [_cand("構成員甲野花子主査"), _cand("乙山太郎主査代理")])
    assert X[0, F["focus_chars"]] == X[1, F["focus_chars"]] == 1
    assert X[0, F["focus_whole"]] == 1 and X[1, F["focus_whole"]] == 0


def test_kanji_of_unknown_words_find_the_documents_word() -> None:
    """A word the corpus never uses shares its ideographs with the documents' word (建てる / 建設):
    ``kanji_unknown`` counts them, weighted by how rare each is among the question's lines."""
    from assistant.reader.features import kanji_share, kanji_weights

    q = replace(_analyse("新しい倉庫はどこに建てるのか。"), unknown=frozenset({"建てる"}))
    cands = [_cand("新しい倉庫は北町に建設する。"), _cand("倉庫の運営は組合が担う。"), _cand("倉庫の面積は広い。")]
    X = featurize(q, cands)
    assert X[0, F["kanji_unknown"]] == 1 and X[1, F["kanji_unknown"]] == X[2, F["kanji_unknown"]] == 0
    # An ideograph every line holds says nothing; a rarer one says the most.
    w = kanji_weights(["開会式"], ["会議を開く。", "会議は二日。", "式典を行う。"])
    assert w["会"] < w["開"] == w["式"]
    assert kanji_share(w, "式典を行う。") > kanji_share(w, "会議は二日。")
    assert kanji_weights([], ["会議"]) == {} and kanji_share({}, "会議") == 0.0


def test_lex_known_leaves_out_the_askers_own_words() -> None:
    """``lex`` divides by every term's weight, and a paraphrase's unknown words weigh the most by
    IDF; ``lex_known`` is the coverage of the words the corpus uses."""
    q = analyse("倉庫の建設費はいくらか。", mecab_tokenize, lambda t: 5.0 if t == "倉庫" else 1.0)
    cands = [_cand("倉庫の建設費は3億円である。"), _cand("事務所の建設費は1億円である。")]
    plain = featurize(q, cands)
    unknown = featurize(replace(q, unknown=frozenset({"倉庫"})), cands)
    assert plain[0, F["lex_known"]] == plain[0, F["lex"]]  # nothing unknown: the same coverage
    assert unknown[1, F["lex_known"]] == 1.0 > unknown[1, F["lex"]]
    assert unknown[0, F["lex_known"]] == 1.0


def test_analyse_marks_the_words_the_corpus_never_uses(tmp_path: Path, one_document) -> None:
    p = _fixture_pipeline(one_document, tmp_path, "倉庫の整備\n\n新しい倉庫は北町に建設する。\n", "倉庫")
    q = p.analyse("新しい倉庫はどこに建てるのか。")
    assert "建てる" in q.unknown and "倉庫" not in q.unknown
    assert not p.analyse("Where is the new warehouse built?").unknown  # English: translated terms


def test_a_markdown_heading_states_no_reason() -> None:
    from assistant.reader.select import _past_headings

    cands = [_cand("#防災計画の見直しの概要(令和7年度)"), _cand("-国の基本計画の修正を本市の計画に反映する。"),
             _cand("##2.被害想定")]
    assert _past_headings(cands, np.array([3.0, 1.0, 2.0]), 0) == 1
    assert _past_headings(cands, np.array([1.0, 3.0, 2.0]), 1) == 1
    only_titles = [cands[0], cands[2]]
    assert _past_headings(only_titles, np.array([3.0, 2.0]), 0) == 0


def test_tree_model_round_trips_through_json() -> None:
    t = Trees(("a", "b"), np.array([[0, -1, -1]]), np.array([[0.5, 0, 0]]), np.array([[1, 1, 2]]),
              np.array([[2, 1, 2]]), np.array([[0.0, -1.0, 1.0]]))
    X = np.array([[0.2, 9.0], [0.7, 9.0]])
    assert t.logits(X).tolist() == [-1.0, 1.0]
    assert Trees.from_json(t.to_json()).logits(X).tolist() == [-1.0, 1.0]
    # Files written before the node arrays were packed store them as nested lists.
    legacy = {"features": ["a", "b"], "feature": [[0, -1, -1]], "threshold": [[0.5, 0, 0]], "left": [[1, 1, 2]],
              "right": [[2, 1, 2]], "value": [[0.0, -1.0, 1.0]]}
    assert Trees.from_json(legacy).logits(X).tolist() == [-1.0, 1.0]
    lin = Linear(("a", "b"), np.array([1.0, 0.0], np.float32), 0.0, np.zeros(2, np.float32), np.ones(2, np.float32))
    model = ReaderModel(t, lin, 0.5, {"note": "test"})
    again = ReaderModel.from_json(model.to_json())
    assert again.abstain_threshold == 0.5 and again.candidate.logits(X).tolist() == [-1.0, 1.0]


def test_a_bag_of_rankers_scores_their_average() -> None:
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    X = rng.random((120, 3))
    y = (X[:, 0] + 0.3 * rng.random(120) > 0.8).astype(int)
    group = [12] * 10
    dumps, single = [], []
    for seed in (1, 2):
        m = lgb.LGBMRanker(objective="lambdarank", random_state=seed, verbose=-1, n_jobs=1, n_estimators=20,
                           num_leaves=4, min_child_samples=5, subsample=0.7, subsample_freq=1, colsample_bytree=0.7)
        m.fit(X, y, group=group)
        dumps.append(m.booster_.dump_model())
        single.append(Trees.from_lightgbm(dumps[-1], ("a", "b", "c")).logits(X))
        assert np.allclose(single[-1], m.predict(X))  # the flattened trees are LightGBM's
    bag = Trees.from_lightgbm_bag(dumps, ("a", "b", "c"))
    assert np.allclose(bag.logits(X), (single[0] + single[1]) / 2)


# ------------------------------------------------------- the reader on fixture files


_fixture_pipeline = hard_checks_pipeline


@pytest.fixture
def table_pipeline(tmp_path: Path, one_document):  # type: ignore[no-untyped-def]
    """A corpus with a flattened table, label/value lines and a list."""
    return _fixture_pipeline(
        one_document, tmp_path,
        "洋上風力導入計画の概要\n\n"
        "○ 各地域の導入目標(2030年)：\n\n"
        "   北海道 東北 九州\n"
        "   45% 30% 25%\n\n"
        "●推進体制\n"
        "議 長 ：風力推進株式会社\n"
        "副議長：海洋電力株式会社\n\n"
        "●主な支援策\n"
        "・系統整備の費用補助\n"
        "・港湾の拠点整備\n"
        "・人材育成の強化\n",
        "洋上風力導入計画",
    )


@pytest.mark.parametrize("connective", ["このため、", "そこで、", "ため、"])
def test_a_why_answer_quotes_the_reason_before_a_consequence(tmp_path: Path, connective: str, one_document) -> None:
    doc = ("地域交通の見直し\n\n"
           "山間部では路線バスの利用者が減り続け、運行の維持が難しくなっている。\n"
           f"{connective}乗合タクシーへの転換を進める。\n\n"
           "駅前広場の整備は令和8年度に完了する。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "地域交通")
    ans = p.ask("乗合タクシーへの転換を進めるのはなぜか。")
    assert "利用者が減り続け" in ans.answer and "乗合タクシー" in ans.answer
    c = ans.citations[0]
    assert (c.first_line, c.last_line) == (3, 4)


def test_a_why_answer_without_a_connective_is_its_own_sentence(tmp_path: Path, one_document) -> None:
    doc = ("地域交通の見直し\n\n"
           "駅前広場の整備は令和8年度に完了する。\n"
           "乗合タクシーへの転換は、路線バスの利用者が減り続けているため進める。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "地域交通")
    ans = p.ask("乗合タクシーへの転換を進めるのはなぜか。")
    assert "駅前広場" not in ans.answer and ans.citations[0].first_line == 4


def test_table_cell_is_cited_with_its_header(table_pipeline) -> None:  # type: ignore[no-untyped-def]
    ans = table_pipeline.ask("東北の導入目標は何%か。")
    assert not ans.abstained
    assert ans.direct == "30%"
    assert ans.answer.startswith("30%")
    c = ans.citations[0]
    assert (c.first_line, c.last_line) == (3, 6) and "東北" in c.quote and "30%" in c.quote


def test_label_value_line_answers_a_who_question(table_pipeline) -> None:  # type: ignore[no-untyped-def]
    ans = table_pipeline.ask("議長を務めるのはどの企業か。")
    assert ans.direct == "風力推進株式会社"
    assert ans.citations[0].first_line in (8, 9)


@pytest.mark.parametrize(
    ("text", "inline"),
    [
        ("・水素は、①安全②安価③大量供給といった特長を有する。", True),
        ("・(1)港湾整備、(2)系統増強を進める。", True),
        ("①港湾の拠点整備", False),  # one item of a list printed one a line
        ("・令和6年度予算額(案)1)参照", False),
        ("・系統整備の費用補助", False),
    ],
)
def test_inline_list(text: str, inline: bool) -> None:
    assert inline_list(text) is inline


def test_a_sentence_that_enumerates_its_items_is_the_whole_list(tmp_path: Path, one_document) -> None:
    doc = ("水素戦略の概要\n\n"
           "・国際的な燃料価格の変動が大きな課題。\n"
           "・水素は、①脱炭素②供給源の多様化③産業競争力といった利点を有することから期待。\n"
           "・各国で大規模な実証が進んでいる。\n")
    from assistant.reader.candidates import line_of
    from assistant.reader.select import select

    p = _fixture_pipeline(one_document, tmp_path, doc, "水素戦略")
    q, idx, ev = reader_evidence(p, "水素の利点として挙げられているものは何か。")
    # The enumerating line ranked first (set here: which line the ranker puts first, on the fake
    # embedder's similarity, is not what this tests): the bullets around it are other points.
    best = next(i for i, c in enumerate(ev.cands) if "①脱炭素" in c.text)
    scores = np.zeros(len(ev.cands))
    scores[best] = 1.0
    units = select(q, idx, ev.cands, scores, p.reader_policy).units
    assert [(line_of(u.chunk, u.start), line_of(u.chunk, u.end - 1)) for u in units] == [(4, 4)]
    assert not any("価格の変動" in u.text or "実証" in u.text for u in units)


def test_two_parts_do_not_share_one_value(tmp_path: Path, one_document) -> None:
    doc = ("港湾整備計画\n\n"
           "北港の整備費：120億円\n"
           "南港の整備費：80億円\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "港湾整備")
    ans = p.ask("北港と南港の整備費はそれぞれいくらか。")
    assert ans.answer.startswith("北港：120億円") and "南港：80億円" in ans.answer
    assert {c.first_line for c in ans.citations} == {3, 4}


def test_two_parts_share_a_value_stated_for_each(tmp_path: Path, one_document) -> None:
    doc = ("研修事業の概要\n\n"
           "参加者：東西、各6名（若手職員）\n"
           # A line on both parts without a count: which one the learned ranker puts first for a part
           # is not what this tests (a count of 30 here was taken by one refit's ranker).
           "講師陣：東西の専門家で構成\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "研修事業")
    ans = p.ask("研修の参加者数、東西それぞれ何名？")
    assert ans.direct == "6名／6名" and {c.first_line for c in ans.citations} == {3}


def test_the_named_column_of_a_named_row_answers() -> None:
    from assistant.chunking import Chunk
    from assistant.reader.select import select
    from assistant.structure import Cell

    body = "施策 | 令和7年度 | 令和8年度\n電子申請 | 本庁で開始 | 支所へ拡大"
    chunk = Chunk("d:1-2", "d.txt", "t", 1, 2, None, "", body, body, 0, len(body))
    cands = []
    for col, value in (("令和7年度", "本庁で開始"), ("令和8年度", "支所へ拡大")):
        text = f"電子申請 {col}：{value}"
        cell = Cell("d.txt", "row", f"電子申請 {col}", value, 1, 2, 2)
        cands.append(Candidate("cell", 1, 0, chunk, 0, len(body), text, -1, 0, 0.9, 0.9, 1.0, 0.9,
                               frozenset(mecab_tokenize(text)), (), cell))
    scores = np.array([1.5, 0.9])  # the ranker prefers the row's first cell
    for question, value in (("電子申請は令和8年度にどう展開されるか。", "支所へ拡大"),
                            ("電子申請は令和7年度にどう展開されるか。", "本庁で開始")):
        sel = select(_analyse(question), None, cands, scores, DEFAULT_POLICY)  # type: ignore[arg-type]
        assert sel.units[0].cell is not None and sel.units[0].cell.value == value


def test_a_table_read_as_one_sentence_yields_to_its_row_cells(tmp_path: Path, one_document) -> None:
    from assistant.reader.candidates import line_of

    doc = ("窓口改革の計画\n\n"
           "本庁舎の窓口は令和7年10月に開設する。\n"
           "表1 年次計画\n\n"
           "施策 | 令和7年度 | 令和8年度\n"
           "電子申請 | 本庁で開始 | 支所へ拡大\n"
           "窓口予約 | 試行 | 全庁で実施\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "窓口改革")
    _, _, ev = reader_evidence(p, "窓口はいつ開設するか。")
    spans = [(line_of(c.chunk, c.start), line_of(c.chunk, c.end - 1)) for c in ev.cands if c.kind == "sentence"]
    assert (3, 3) in spans  # the prose sentence stays
    # No sentence runs over two rows (the splitter joins the rows: they have no sentence ends) ...
    assert not any(a <= 7 and b >= 8 for a, b in spans)
    # ... their cells stand in for them.
    labels = {c.cell.label for c in ev.cands if c.cell is not None}
    assert {"電子申請 令和7年度", "窓口予約 令和8年度"} <= labels
    ans = p.ask("窓口はいつ開設するか。")
    assert ans.direct == "令和7年10月" and ans.citations[0].first_line == 3
    # The drafting check keeps the rows read together (a draft may sum up several rows at once).
    from assistant.reader.candidates import gather

    res = p._search("窓口はいつ開設するか。", 10, None, None)
    kept = gather(p.index(), res.hits, res.query_vector, 5, whole_tables=True)
    assert any(c.kind == "sentence" and line_of(c.chunk, c.start) <= 7 and line_of(c.chunk, c.end - 1) >= 8
               for c in kept)


def test_a_what_question_on_a_heading_is_answered_by_its_items(tmp_path: Path, one_document) -> None:
    from assistant.reader.select import select
    from assistant.reader.shape import _list_answer

    doc = ("地域交通計画\n\n"
           "●令和7年度の重点事業\n"
           "①バス路線の再編\n"
           "②デマンド交通の導入\n"
           "③駅前広場の整備\n\n"
           "計画期間は5年間とする。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "地域交通")
    q, idx, ev = reader_evidence(p, "令和7年度の重点事業は何か。")
    assert q.answer_type == "other"
    heading = next(i for i, c in enumerate(ev.cands) if c.text.startswith("●"))
    scores = np.zeros(len(ev.cands))
    scores[heading] = 1.0  # the heading restates the question best
    sel = select(q, idx, ev.cands, scores, p.reader_policy)
    assert [c.text for c in sel.units] == ["●令和7年度の重点事業", "①バス路線の再編", "②デマンド交通の導入", "③駅前広場の整備"]
    text, citations = _list_answer(sel.units, idx)
    # Numbered items keep their own numbers; the heading opens the answer.
    assert text.split("\n") == ["令和7年度の重点事業【1】", "①バス路線の再編", "②デマンド交通の導入【2】", "③駅前広場の整備【3】"]
    assert [c.first_line for c in citations] == [3, 5, 6]
    # A line that is not a heading (it ends its sentence) keeps its own answer.
    plain = next(i for i, c in enumerate(ev.cands) if c.text.startswith("計画期間"))
    scores[:] = 0.0
    scores[plain] = 1.0
    assert [c.text for c in select(q, idx, ev.cands, scores, p.reader_policy).units] == ["計画期間は5年間とする。"]


def test_a_sentence_announcing_items_heads_them_and_a_markdown_heading_is_no_item(tmp_path: Path, one_document) -> None:
    from assistant.reader.select import item_marker, select

    doc = ("# 交通計画\n\n"
           "本市は、次の二つの方針で進める。\n"
           "1. 歩ける街：歩道を広げる\n"
           "2. 乗れる街：路線を守る\n\n"
           "# 第3章 施策\n"
           "計画期間は5年間とする。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "交通計画")
    q, idx, ev = reader_evidence(p, "本市の方針は何か。")
    lead = next(i for i, c in enumerate(ev.cands) if c.text.startswith("本市は"))
    scores = np.zeros(len(ev.cands))
    scores[lead] = 1.0
    units = select(q, idx, ev.cands, scores, p.reader_policy).units
    assert [c.text[:4] for c in units] == ["本市は、", "1.歩け", "2.乗れ"]  # the next heading ends the list
    assert item_marker("#第3章施策") is None and item_marker("1.歩ける街") == "number"


def test_list_answer_one_item_a_line(table_pipeline) -> None:  # type: ignore[no-untyped-def]
    ans = table_pipeline.ask("主な支援策を挙げてください。")
    lines = ans.answer.split("\n")
    items = [x for x in lines if x.startswith("・")]
    assert len(items) == 3 and lines[-3:] == items  # the heading, when quoted, leads the list
    assert "港湾の拠点整備" in ans.answer
    for c in ans.citations:
        assert c.quote in (table_pipeline.settings.corpus_dir / c.doc).read_text(encoding="utf-8")


def test_question_pinned_to_an_absent_literal_abstains(table_pipeline) -> None:  # type: ignore[no-untyped-def]
    ans = table_pipeline.ask("2040年の導入目標は何%か。")
    assert ans.abstained and "2040年" in (ans.notice or "")
    assert ans.related


def test_bigram_tokenizer_has_no_pos_focus() -> None:
    q = analyse("洋上風力の補助率は何%か。", bigram_tokenize, lambda t: 1.0, pos_tags=False)
    assert q.answer_type == "number" and q.focus


def test_the_cell_of_the_named_column_is_chosen_among_its_siblings(table_pipeline) -> None:  # type: ignore[no-untyped-def]
    for region, value in (("北海道", "45%"), ("東北", "30%"), ("九州", "25%")):
        ans = table_pipeline.ask(f"{region}の導入目標の割合は？")
        assert ans.direct == value, (region, ans.answer)


def test_top1_spread_reports_one_figure_per_fold_split() -> None:
    from assistant.gold import GoldItem
    from assistant.reader.train import Example, top1_spread

    rng = np.random.default_rng(0)
    examples = []
    for q in range(30):
        # Six candidates a question; the answering one has the highest first feature, plus noise.
        X = rng.normal(size=(6, len(FEATURES))).astype(np.float32)
        y = np.zeros(6, np.int8)
        y[q % 6] = 1
        X[q % 6, 0] += 3.0
        item = GoldItem(f"Q{q}", "fact", "問い", ("答え",), False, "d.txt", (1, 1))
        examples.append(Example(item, [None] * 6, X, y, [], [], None))  # type: ignore[list-item]
    mean, std, per = top1_spread(examples, seeds=(1, 2))
    assert len(per) == 2 and 0.0 <= std <= 0.5
    assert mean == pytest.approx(float(np.mean(per))) and mean > 0.5  # the signal is learnt out of fold


@pytest.mark.parametrize(
    ("question", "chosen"),
    [
        # Prose about the whole table restates the question's common words; the numbered row whose
        # label is the question's rarest word answers.
        ("防災の項目で令和8年度に重点的に行う取組は何か。", 2),
        ("緑化の項目で令和8年度に重点的に行う取組は何か。", 1),
        # No row is labelled with it (a bullet is no numbered row), or the best line names it: unchanged.
        ("観光の項目で令和8年度に重点的に行う取組は何か。", 0),
        ("令和8年度に重点的に行う取組の選定方法は何か。", 0),
    ],
)
def test_the_numbered_row_labelled_with_the_rarest_word_answers(question: str, chosen: int) -> None:
    from assistant.reader.select import named_item

    lines = ["・令和8年度に重点的に行う取組を、各項目の進捗を踏まえて選定した。", "1.緑化 街路樹の植え替え計画 ◎",
             "2.防災 防波堤の点検 ◎", "・観光振興は別途検討する。"]
    cands = [_cand(t) for t in lines]
    query = analyse(question, mecab_tokenize, lambda t: 3.0 if t in ("緑化", "防災", "観光", "選定", "方法") else 1.0)
    scores = np.array([1.0, 0.4, 0.3, 0.2])
    assert named_item(query, cands, scores, 0, DEFAULT_POLICY) == chosen


def test_a_line_ending_on_a_comma_is_no_heading_over_the_lines_below() -> None:
    from assistant.reader.select import item_under_heading

    lines = ["ii.研究協力を強めるため、作業部会を設置し、", "北部地域連携会議の成果文書"]
    cands, offset = [], 0
    for text in lines:
        cands.append(replace(_cand(text), start=offset, end=offset + len(text)))
        offset += len(text) + 1
    query = _analyse("北部地域の会議で、研究協力を強めるために新しく置くものは？")
    assert item_under_heading(query, cands, np.array([1.0, 0.8]), 0, DEFAULT_POLICY) == 0
    # Without the comma the short line is a heading, and the line below naming what it lacks answers.
    cands[0] = replace(cands[0], text="ii.研究協力を強めるため作業部会を設置")
    assert item_under_heading(query, cands, np.array([1.0, 0.8]), 0, DEFAULT_POLICY) == 1


@pytest.mark.parametrize(
    ("question", "chosen"),
    [
        # The heading restates the question but for the item asked about: the item's line answers.
        ("令和8年度に重点実施する項目で、防災については何を行うのか。", 2),
        ("令和8年度に重点実施する項目で、緑化については何を行うのか。", 1),
        # Nothing under the heading names what the heading leaves out: the heading stands.
        ("令和8年度に重点実施する項目で、観光については何を行うのか。", 0),
        # An English question's terms are translations: the ranker's choice stands.
        ("What will be done for disaster prevention among the priority items?", 0),
    ],
)
def test_the_item_under_a_heading_that_names_what_the_heading_leaves_out(question: str, chosen: int) -> None:
    from assistant.reader.select import item_under_heading

    lines = ["令和8年度に重点的に実施する項目（案）", "1. 緑化 街路樹の植え替え計画の策定 ◎", "2. 防災 避難所の再点検 ◎"]
    cands, offset = [], 0
    for text in lines:
        cands.append(replace(_cand(text), start=offset, end=offset + len(text)))
        offset += len(text) + 1
    # An item above the heading (another table's) is never taken for one under it.
    cands.append(replace(_cand("防災 訓練の実施"), start=0, end=0))
    scores = np.array([1.0, 0.4, 0.3, 0.9])
    assert item_under_heading(_analyse(question), cands, scores, 0, DEFAULT_POLICY) == chosen


@pytest.mark.parametrize(
    ("question", "text", "phrase"),
    [
        # The question names the kind of its answer; the answer is the longer compound with that head.
        ("共同研究部会はどのような機能を持つか。", "共同研究部会(調整役的機能)を置く。", "調整役的機能"),
        ("両国の交流の根拠となっている協定は何か。", "日独科学技術協力協定に基づき交流を続ける。", "日独科学技術協力協定"),
        ("活用される基金は？", "新興技術の実装にはSBIRフェーズ3基金を活用する。", "SBIRフェーズ3基金"),
        ("例示されている装置は何か。", "・プラズマ制御装置など、運転に必要な経費を計上する。", "プラズマ制御装置"),
        ("提供するプログラムは何か。", "人材を獲得するため、フュージョン教育プログラムを提供する。", "フュージョン教育プログラム"),
        # A compound the question already says is no answer; nor is the head of a longer word.
        ("教育プログラムの対象は何か。", "教育プログラムを提供する。", None),
        ("締結した協定は何か。", "協定書を交わした。", None),
        # A verbal noun used as a verb names an act, not a kind of thing.
        ("どの会議に報告しながら進めるのか。", "検討状況は適宜報告する。", None),
        # A figure before the name belongs to another item.
        ("スクールのテーマは何か。", "講師:5ヶ国から15人・テーマ:「トカマク」", None),
        # A name asked for: the quoted title, else the compound with the named kind's head.
        ("委員会の報告書の名前は？", "委員会の「人材の育成について」を踏まえ検討する。", "人材の育成について"),
        ("設立される拠点の名前は？", "QSTを中心にテクノロジー・イノベーション拠点を設立する。", "テクノロジー・イノベーション拠点"),
        # The kind's own name in quotes right after it (its appositive) is the answer.
        ("改定中の文書は何か。", "遅延を受け、基本文書「ロードマップ2030」を改定中。", "ロードマップ2030"),
        # A one-character kind (…会) is read with the word before it; a slash joins two Latin names.
        ("乙フォーラムが開いている報告会は？", "乙フォーラムが開くABC/XY成果報告会を活用する。", "ABC/XY成果報告会"),
        ("どの研究科に所属している？", "甲大学大学院理工学研究科(理学野)教授", "甲大学大学院理工学研究科"),
        # A noun far before the interrogative is what the answer is for, not its kind.
        ("地域の連携を強めるために新しく立ち上げることになったものは？", "地域間連携を強化するため、連絡会議を設置し、",
         None),
    ],
)
def test_what_question_naming_the_kind_of_its_answer_gets_the_compound_with_that_head(
        question: str, text: str, phrase: str | None) -> None:
    from assistant.reader.select import named_phrase

    span = named_phrase(_analyse(question), _cand(text), DEFAULT_POLICY)
    assert (span.text if span else None) == phrase


# ------------------------------------------------------- list blocks: sections, bodies, wrapped items


def test_numbered_items_continue_across_their_bodies(tmp_path: Path, one_document) -> None:
    from assistant.reader.shape import _list_answer

    doc = ("港湾事業の計画\n\n"
           "令和7年度の主な事業\n"
           "(1)岸壁の改良\n"
           "老朽化した岸壁を改良し、耐震性を高める。\n"
           "・対象は北埠頭と南埠頭。\n"
           "・工期は3年とする。\n"
           "(2)航路の浚渫\n"
           "大型船が入れるよう航路を深くする。\n"
           "・浚渫土は埋立に使う。\n"
           "・漁業者と調整する。\n"
           "(3)荷役機械の更新\n"
           "電動の荷役機械に更新する。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "港湾事業")
    q, idx, sel, _ = select_with_best(p, "令和7年度の主な事業を挙げてください。", "令和7年度の主な事業")
    # Each item carries three sentences of body: the next number continues the list, the bodies stay out.
    assert [c.text[:5] for c in sel.units] == ["令和7年度", "(1)岸壁", "(2)航路", "(3)荷役"]
    text, _ = _list_answer(sel.units, idx)
    assert "耐震性" not in text and "浚渫土" not in text


def test_a_numbered_item_out_of_sequence_after_a_body_starts_another_list(tmp_path: Path, one_document) -> None:
    doc = ("施策の概要\n\n"
           "重点施策\n"
           "(1)駅前の再開発\n"
           "商業施設と広場を一体で整備する。\n"
           "・用地は市が取得する。\n"
           "・完成は令和10年度。\n"
           "(1)別表の注記\n"
           "金額は税込みで示す。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "施策")
    _, _, sel, _ = select_with_best(p, "重点施策を挙げてください。", "重点施策")
    assert not any(c.text.startswith("(1)別表") for c in sel.units)


def test_a_question_naming_a_sub_heading_gets_that_section(tmp_path: Path, one_document) -> None:
    doc = ("防災計画の見直し\n\n"
           "・見直しの方向性\n"
           "全体として\n"
           "・計画の構成を簡素にしてはどうか。\n"
           "・用語を統一してはどうか。\n"
           "各論として\n"
           "・避難所の運営訓練の実施\n"
           "・要配慮者名簿の更新\n"
           "・備蓄品の点検\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "防災計画")
    # A list question: the run's first line scores best, the question names the sub-heading 各論.
    q, _, sel, _ = select_with_best(p, "見直しの方向性として、各論で挙げられている取組は何か。", "・見直しの方向性")
    assert q.answer_type == "list"
    assert [c.text for c in sel.units] == ["各論として", "・避難所の運営訓練の実施", "・要配慮者名簿の更新", "・備蓄品の点検"]
    # A what-question whose best line is one item of the section: the section answers.
    q, _, sel, _ = select_with_best(p, "見直しの方向性について、各論ではどのような提案がされているか。", "・要配慮者")
    assert q.answer_type == "other"
    assert [c.text[:5] for c in sel.units] == ["各論として", "・避難所の", "・要配慮者", "・備蓄品の"]
    # A question naming no sub-heading keeps the whole run.
    _, _, sel, _ = select_with_best(p, "見直しの方向性として挙げられている取組は何か。", "・見直しの方向性")
    assert any(c.text.startswith("・計画の構成") for c in sel.units)


def test_a_sentence_stating_more_of_the_question_than_a_named_section_keeps_its_list(tmp_path: Path, one_document) -> None:
    doc = ("港湾計画の概要\n\n"
           "・港湾の耐震化は令和9年度までに完了させる。\n"
           "・費用は国と県で分担する。\n"
           "<主な検討事項>\n"
           "・岸壁の補強方法\n"
           "・航路の確保\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "港湾計画")
    q, _, sel, _ = select_with_best(p, "港湾の耐震化を令和9年度までに完了させる主な取組を挙げてください。", "・港湾の耐震化")
    assert q.answer_type == "list"
    # 主な names the sub-heading, but the best line states far more of the question: it stays.
    assert sel.units[0].text.startswith("・港湾の耐震化")


def test_a_bracketed_sub_title_under_a_heading_heads_the_items(tmp_path: Path, one_document) -> None:
    doc = ("人材育成の取組\n\n"
           "〇夏季スクールを実施\n"
           "【概要】\n"
           "・若手研究者に講義を行う。\n"
           "・企業の技術者も受け入れる。\n"
           "【体制】\n"
           "・運営委員会を置く。\n"
           "・大学が講師を派遣する。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "人材育成")
    q, _, sel, _ = select_with_best(p, "夏季スクールの概要として書かれている内容は何か。", "〇夏季スクール")
    assert q.answer_type == "other"
    assert [c.text for c in sel.units] == ["【概要】", "・若手研究者に講義を行う。", "・企業の技術者も受け入れる。"]


def test_an_items_wrapped_tail_after_a_blank_line_joins_the_item(tmp_path: Path, one_document) -> None:
    doc = ("研修の概要\n\n"
           "研修の内容\n"
           "・受講者が各自の研究を発表する。\n"
           "・他分野の研究者にもわかるように分節化したテーマを\n\n"
           "用意する。\n"
           "・施設の見学を行う。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "研修")
    _, idx, sel, _ = select_with_best(p, "研修の内容を挙げてください。", "研修の内容")
    assert [c.text[:4] for c in sel.units] == ["研修の内", "・受講者", "・他分野", "・施設の"]
    assert sel.units[2].text.endswith("テーマを用意する。")
    from assistant.reader.shape import _list_answer

    _, citations = _list_answer(sel.units, idx)
    assert (citations[1].first_line, citations[1].last_line) == (5, 7)


def test_a_long_list_item_is_cut() -> None:
    from assistant.reader.shape import _item_line

    long_item = _cand("・" + "あ" * 150)
    assert len(_item_line(long_item, DEFAULT_POLICY.max_item_chars)) <= DEFAULT_POLICY.max_item_chars + 1
    assert _item_line(_cand("・短い項目")) == "・短い項目"


def test_a_cell_under_a_heading_label_answers_a_what_question_with_all_its_items(tmp_path: Path, one_document) -> None:
    doc = ("研修事業の評価\n\n"
           "【成果】\n"
           "・新しい研究者が分野に参入することが期待される。\n"
           "・共同研究の芽が生まれる。\n"
           "・受講者の進路の選択肢が広がる。\n\n"
           "計画期間は5年間とする。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "研修事業")
    # The label's first item, read as the label's value, scores best.
    q, _, sel, _ = select_with_best(p, "研修事業の成果として期待されていることは？",
                                  lambda c: c.cell is not None and c.cell.kind == "below")
    assert q.answer_type == "other"
    units = sel.units
    assert [c.text[:4] for c in units] == ["【成果】", "・新しい", "・共同研", "・受講者"]


def test_a_label_heads_only_the_lines_under_it(tmp_path: Path, one_document) -> None:
    doc = ("交通会議(第2回)議事要旨\n\n"
           "日時：令和7年5月12日\n"
           "場所：市役所会議室\n\n"
           "議題：\n"
           "(1)バス路線の再編について\n"
           "(2)駅前広場の整備について\n"
           "(3)自転車道の延伸について\n\n"
           "議事概要：\n"
           "(1)バス路線の再編について\n"
           "事務局から再編案を説明した。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "交通会議")
    _, _, sel, _ = select_with_best(p, "交通会議の議題は何だったか。", lambda c: c.cell is not None
                                  and c.cell.kind == "below" and c.cell.label.startswith("議題"))
    units = sel.units
    # Not the label lines above it (日時：, 場所：), nor the next label's numbered lines (議事概要：/ (1)…).
    assert [c.text[:3] for c in units] == ["議題:", "(1)", "(2)", "(3)"]


def test_a_title_printed_under_its_items_takes_them_across_a_note_line(tmp_path: Path, one_document) -> None:
    doc = ("資料2\n\n"
           "・岸壁の補強\n"
           "・航路の確保\n"
           "※詳細は別紙で示す。\n"
           "・荷役機械の更新\n\n"
           "港湾事業の主な取組\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "港湾事業")
    # The slide's title sits under its content; a ※ note line sits among the items.
    _, _, sel, _ = select_with_best(p, "港湾事業の主な取組を挙げてください。", "港湾事業の主な取組")
    assert [c.text[:4] for c in sel.units] == ["・岸壁の", "・航路の", "※詳細は", "・荷役機"]


def test_a_sentence_takes_no_list_from_across_a_markdown_heading(tmp_path: Path, one_document) -> None:
    doc = ("# 防災計画の見直し\n\n"
           "## 1. 背景\n\n"
           "- 避難所の課題が明らかになった。\n"
           "- 国の計画の修正を反映する。\n\n"
           "## 2. 被害想定\n\n"
           "市の直下を震源とするマグニチュード7.3の地震を想定している。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "防災計画")
    # The other lines score far lower: the best sentence's own list (none) is the answer.
    _, _, sel, _ = select_with_best(p, "想定している地震のマグニチュードを挙げてください。", "市の直下", rest=-5.0)
    assert [c.text[:4] for c in sel.units] == ["市の直下"]


@pytest.mark.parametrize(
    ("question", "chosen"),
    [
        ("第2回スクールの参加者はどのような人たちだったか。", 2),  # the item labelled 参加者
        ("第2回スクールの主催はどこか。", 1),
        ("第2回スクールはどのようなものだったか。", None),  # no label named: the whole block
    ],
)
def test_the_item_of_a_block_whose_label_the_question_names(question: str, chosen: int | None) -> None:
    from assistant.reader.select import labelled_item

    block = [_cand("【参考】第2回スクールの概要"), _cand("・主催:市、県"), _cand("・参加者:市内外、各10名(大学院生)"),
             _cand("・内容:講義や実習")]
    item = labelled_item(_analyse(question), block)
    assert (block.index(item) if item is not None else None) == chosen


@pytest.mark.parametrize(
    ("question", "chosen"),
    [
        ("常任委員に就いている会社をすべて教えてください。", 3),  # 委員 is named only inside 常任委員
        ("副会長を務める会社はどこか。", 2),  # 会長 only inside 副会長
        ("会長を務める会社はどこか。", 1),
    ],
)
def test_a_label_named_only_inside_a_longer_named_label_is_not_named(question: str, chosen: int) -> None:
    from assistant.reader.select import labelled_item

    block = [_cand("●役員"), _cand("・会長:甲社"), _cand("・副会長:乙社、丙社"), _cand("・常任委員:丁社、戊社"),
             _cand("・委員:己社、庚社")]
    item = labelled_item(_analyse(question), block)
    assert item is block[chosen]


@pytest.mark.parametrize(
    ("question", "scores", "chosen"),
    [
        ("会長を務める会社は？", [1.0, 0.5], 1),  # the best line's label (副会長) only contains the named one
        ("会長を務める会社はどこか。", [1.0, 0.5], 1),  # the same for a value question
        ("会長を務める会社は？", [1.0, -0.5], 0),  # too far below the best line's score
        ("役員を務める会社は？", [1.0, 0.5], 0),  # no label named: the scorer's choice stands
    ],
)
def test_a_nearby_line_whose_label_the_question_names_replaces_the_best(question: str, scores: list[float],
                                                                        chosen: int) -> None:
    from assistant.reader.select import select

    cands = [_cand("・副会長:乙社、丙社"), _cand("・会長:甲社")]
    sel = select(_analyse(question), None, cands, np.array(scores), DEFAULT_POLICY)  # type: ignore[arg-type]
    assert sel.units[0] is cands[chosen]


def test_a_list_question_naming_one_labelled_item_of_a_block_gets_that_item(tmp_path: Path, one_document) -> None:
    doc = ("地域水素事業の推進\n\n"
           "・協定:2020年4月発効\n"
           "・実施主体:県、市\n"
           "・実施地:北浜市、南山町\n"
           "・進捗:2023年に運転開始\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "水素事業")
    # The block's heading scores best, as a title restating the question does.
    _, _, sel, _ = select_with_best(p, "地域水素事業の実施地をすべて挙げてください。", "地域水素事業")
    assert [c.text for c in sel.units] == ["・実施地:北浜市、南山町"]
    # A list question naming no label gets the whole block.
    _, _, sel, _ = select_with_best(p, "地域水素事業について示されている事項をすべて挙げてください。", "地域水素事業")
    assert len(sel.units) == 5


def test_a_value_asked_in_a_unit_no_passage_states_is_not_answered(tmp_path: Path, one_document) -> None:
    doc = "港湾整備計画\n\n北埠頭の岸壁を3か所整備する。\n整備は令和8年度に完了する。\n"
    p = _fixture_pipeline(one_document, tmp_path, doc, "港湾整備")
    a = p.ask("岸壁の整備費はいくらか。")
    # A count and a date are all the passage holds: no amount of money answers a cost.
    assert a.abstained and a.notice and "金額" in a.notice
    assert not p.ask("岸壁は何か所整備するか。").abstained
    p.reader_policy = p.reader_policy.without_abstention()
    assert not p.ask("岸壁の整備費はいくらか。").abstained


def test_a_length_of_time_not_stated_as_one_is_no_hard_stop(tmp_path: Path, one_document) -> None:
    doc = "港湾整備計画\n\n北埠頭の岸壁は令和8年4月から令和9年3月まで整備する。\n"
    p = _fixture_pipeline(one_document, tmp_path, doc, "港湾整備")
    # A duration may be stated as the dates it runs between: no unit notice, the model decides.
    a = p.ask("岸壁の整備期間はどのくらいか。")
    assert not (a.notice and "数" in a.notice)
    # A counter named outright and not found still stops it.
    b = p.ask("岸壁は何か所整備するか。")
    assert b.abstained and b.notice


def test_an_output_asked_in_kilowatts_is_not_answered_with_a_budget(tmp_path: Path, one_document) -> None:
    doc = "発電所の整備\n\n発電所の建設費は120億円。\n運転開始は令和9年度を予定。\n"
    p = _fixture_pipeline(one_document, tmp_path, doc, "発電所")
    a = p.ask("発電所の出力は何万キロワットか。")
    assert a.abstained and a.notice and "kW" in a.notice
    # An output stated in the other spelling of the unit answers it.
    (tmp_path / "b").mkdir()
    q = _fixture_pipeline(one_document, tmp_path / "b", doc + "発電所の出力は40万kW。\n", "発電所")
    assert q.ask("発電所の出力は何万キロワットか。").direct == "40万kW"


def test_a_sentence_announcing_items_heads_them_across_a_second_sentence(tmp_path: Path, one_document) -> None:
    doc = ("協議会の設置要綱\n\n"
           "２．構成\n"
           "協議会は以下の団体の代表をもって組織する。協議会には、必要に応じ、その他の関係者の参加を求めることができる。\n"
           "①北浜市港湾振興会\n"
           "②南山町商工会\n"
           "③県漁業協同組合連合会\n\n"
           "３．運営\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "協議会")
    for question in ("協議会を構成する団体を一通り教えてください。", "協議会はどのような団体で組織されるか。"):
        _, _, sel, _ = select_with_best(p, question, "協議会は以下の団体")
        assert [c.text[:1] for c in sel.units if c.text.startswith(("①", "②", "③"))] == ["①", "②", "③"], question


@pytest.mark.skipif(dictionary_path() is None, reason="the JMdict database is not installed (the [en] extra)")
@pytest.mark.parametrize("question", ["催しの予算はいくら？", "催しにかける予算は？"])
def test_a_question_in_everyday_words_reads_the_line_in_official_ones(tmp_path: Path, one_document,
                                                                      question: str) -> None:
    """催し (the question's word, unknown to the corpus) finds イベント through JMdict ("event"):
    three budget lines share 予算, and only the synonym says which one is asked for."""
    text = ("市民交流事業の概要\n\n"
            "・図書館の改修の予算は300万円。\n"
            "・地域イベントの予算は50万円。\n"
            "・清掃活動の予算は20万円。\n")
    p = _fixture_pipeline(one_document, tmp_path, text, "市民交流")
    answer = p.ask(question)
    assert answer.direct == "50万円"
    assert answer.evidence is not None and "イベント" in answer.evidence["synonyms"]["催し"]
    # The evidence it rests on is the synonym's: without it, the line covers less of the question.
    from assistant.reader.features import F

    def coverage_of_the_line() -> float:
        _, _, ev = reader_evidence(p, question)
        return float(next(ev.X[i, F["lex"]] for i, c in enumerate(ev.cands) if "イベント" in c.text))

    with_synonym = coverage_of_the_line()
    p.settings = replace(p.settings, synonyms=0)
    off = p.ask(question)
    assert off.evidence is not None and off.evidence["synonyms"] == {}
    assert coverage_of_the_line() < with_synonym


def test_only_a_word_the_corpus_never_uses_reads_the_term_table(tmp_path: Path, one_document) -> None:
    """A cold ``ask`` reads crosslingual.json for a Japanese question only to look up such a word."""
    p = _fixture_pipeline(one_document, tmp_path, "市民交流事業の概要\n\n・清掃活動の予算は20万円。\n", "市民交流")
    p.ask("清掃活動の予算は？")
    assert p.index()._crosslingual is None
    p.ask("清掃の催しの予算は？")
    assert p.index()._crosslingual is not None


@pytest.mark.parametrize(
    ("question", "text", "direct"),
    [
        # The one Latin name of the quoted line is the direct value the lead shows.
        ("Which scheme will the town use for the rooftop panels?",
         "・市は初期費用なしで導入できるTPO方式を採用し、屋上に太陽光パネルを設置する。\n", "TPO"),
        # Several names: the lead lists them, none is the direct value.
        ("Which scheme will the town use for the rooftop panels?",
         "・市は初期費用なしで導入できるTPO方式またはQRS方式を採用し、屋上に太陽光パネルを設置する。\n", None),
        # A lower-case English word of the line names nothing.
        ("Which scheme will the town use for the rooftop panels?",
         "・市は初期費用なしで導入できる方式(leasing)を採用し、屋上に太陽光パネルを設置する。\n", None),
    ],
)
def test_an_english_answers_one_latin_name_is_its_direct_value(tmp_path: Path, one_document, question: str,
                                                               text: str, direct: str | None) -> None:
    # The line alone, no heading above it: which line the learned ranker puts first is not what this tests.
    p = _fixture_pipeline(one_document, tmp_path, text, "屋上太陽光")
    answer = p.ask(question)
    assert not answer.abstained and answer.direct == direct
    if direct is None:
        assert not answer.answer.startswith("leasing")  # no lead names it


@pytest.mark.parametrize(
    ("question", "direct"),
    [
        ("What is the title of the plan adopted in 2023?", "港湾脱炭素化推進計画"),
        ("What is the official name of the plan adopted in 2023?", "港湾脱炭素化推進計画"),
        # Its English name: the one Latin name of the line, which the lead gives, is the direct value.
        ("What is the English name of the plan?", "Port Decarbonisation Plan"),
    ],
)
def test_an_english_question_for_a_title_gets_the_quoted_name(tmp_path: Path, one_document, question: str,
                                                             direct: str | None) -> None:
    # The line alone, no heading above it: which line the learned ranker puts first is not what this tests.
    text = "・2023年、市は「港湾脱炭素化推進計画」(Port Decarbonisation Plan)を策定した。\n"
    p = _fixture_pipeline(one_document, tmp_path, text, "港湾計画")
    answer = p.ask(question)
    assert answer.direct == direct


@pytest.mark.parametrize(("question", "text", "direct"), [
    # An abbreviation asked for: the bracketed Latin abbreviation after the name.
    ("日英の調整を担う委員会は、英語の略で何と呼ばれるか。", "乙協定に基づく日英調整委員会(JUCC)を活用する。", "JUCC"),
    ("What is the acronym of the coordinating committee?", "乙協定に基づく日英調整委員会(JUCC)を活用する。", "JUCC"),
    # A title asked for: the quoted title of the line, though the line heads a block.
    ("2026年5月1日の共同声明のタイトルは何ですか？", "◆共同声明「明日への架け橋」(2026年5月1日)", "明日への架け橋"),
])
def test_a_name_asked_is_the_lines_quoted_title_or_abbreviation(question: str, text: str, direct: str) -> None:
    from assistant.reader.select import select

    cand = _cand(text)
    # No index: a name found in the line answers before any block under it is looked for.
    sel = select(_analyse(question), None, [cand], np.array([1.0]), DEFAULT_POLICY)  # type: ignore[arg-type]
    assert sel.direct is not None and sel.direct.text == direct and sel.units == [cand]


@pytest.mark.parametrize(("name", "country"), [("日本", True), ("米国", True), ("フランス", True), ("欧州", False),
                                              ("北見市", False), ("トリノ", False), ("日本国大使公邸", False)])
def test_is_country(name: str, country: bool) -> None:
    from assistant.spans import is_country

    assert is_country(name) is country


def test_a_country_does_not_answer_which_city() -> None:
    from assistant.reader.select import select

    cand = _cand("2026年の夏季講座は日本が主催し、札幌で開催予定。")
    for question in ("夏季講座はどこの都市で開催されますか？", "In which city will the summer course be held?"):
        sel = select(_analyse(question), None, [cand], np.array([1.0]), DEFAULT_POLICY)  # type: ignore[arg-type]
        assert sel.direct is not None and sel.direct.text == "札幌", question
    # Asked which country, the country answers.
    sel = select(_analyse("夏季講座はどこの国が主催しますか？"), None, [cand], np.array([1.0]),  # type: ignore[arg-type]
                 DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "日本"


def test_a_length_of_time_asked_is_answered_by_a_duration_not_another_count() -> None:
    from assistant.reader.select import select

    cand = _cand("第1回甲スクールを開催(参加者40名、日程:2026年9月1日~12日(2週間))")
    sel = select(_analyse("How long did the first school last?"), None, [cand], np.array([1.0]),  # type: ignore[arg-type]
                 DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "2週間"
    sel = select(_analyse("甲スクールの期間はどのくらいか。"), None, [cand], np.array([1.0]),  # type: ignore[arg-type]
                 DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "2週間"


def test_an_english_question_does_not_get_the_person_it_names_back() -> None:
    # Retrieval derived スミス from "Smith": the minister asked for is the other person of the line.
    query = replace(_analyse("Which minister met Deputy Secretary Smith?"), search_terms=("スミス", "大臣"))
    span = direct_span(query, _cand("この度、山田大臣とスミス副長官との会談において共同声明を発表した。"), DEFAULT_POLICY)
    assert span is not None and span.text == "山田"


def _source_cand(original: str) -> Candidate:
    """A one-line candidate whose document text is ``original`` (its normalised text, spans and tokens)."""
    from assistant.chunking import Chunk
    from assistant.normalize import normalize

    text = normalize(original)
    chunk = Chunk("d:1-1", "d.txt", "t", 1, 1, None, "", original, text, 0, len(original))
    return Candidate("sentence", 1, 0, chunk, 0, len(original), text, 0, 0, 0.9, 0.9, 1.0, 0.9,
                     frozenset(mecab_tokenize(text)), tuple(extract_spans(text)))


@pytest.mark.parametrize(("original", "name", "written"), [
    ("主査　山田 太郎（北大学 教授）", "山田太郎", "山田 太郎"),  # a roster writes the name with a space
    ("主査 山田太郎（北大学教授）", "山田太郎", "山田太郎"),  # written without one: nothing to restore
])
def test_a_persons_name_is_shown_as_the_document_spaces_it(original: str, name: str, written: str) -> None:
    from assistant.reader.shape import shown_direct

    cand = _source_cand(original)
    span = next(s for s in cand.spans if s.kind == "person" and s.text == name)
    assert shown_direct(Selection([cand], span, cand, 1.0)) == written


@pytest.mark.parametrize(("original", "value", "shown"), [
    ("予算額：１,２３４ 百万円（前年 987百万円）", "1,234百万円", "1,234 百万円"),  # a space before the unit
    ("７⽉ ３⽇（⽊） 窓口の開設", "7月3日", "7月 3日"),  # a space inside a date
    ("期限は令和7年3月まで", "令和7年3月", "令和7年3月"),  # no space: as it is
])
def test_a_value_is_shown_with_the_spaces_the_document_writes(original: str, value: str, shown: str) -> None:
    from assistant.reader.shape import _value_text, shown_direct

    cand = _source_cand(original)
    span = next(s for s in cand.spans if s.text == value)
    sel = Selection([cand], span, cand, 1.0)
    assert shown_direct(sel) == shown
    text = _value_text(sel, shown, DEFAULT_POLICY)
    assert text.startswith(shown) and shown in text[len(shown):]  # the quote after it has it too


def test_a_cells_quote_shows_its_label_and_the_value_as_written() -> None:
    from assistant.reader.shape import _value_text, shown_direct
    from assistant.structure import Cell

    cand = _source_cand("参加者：東西、各５名（学生）")
    cell = Cell("d.txt", "kv", "参加者", "東西、各5名(学生)", 1, 1, 1)
    cand = replace(cand, kind="cell", cell=cell, text=cell.text, sent_index=-1,
                   spans=tuple(extract_spans(cell.text)))
    span = next(s for s in cand.spans if s.text.endswith("5名"))
    sel = Selection([cand], span, cand, 1.0)
    shown = shown_direct(sel)
    assert shown is not None and shown.endswith("5名")
    # The value says more than the count (each of two): the quote gives the label and the value.
    assert _value_text(sel, shown, DEFAULT_POLICY) == f"{shown}（参加者：東西、各5名(学生)）"
    # A cell whose value is the direct value: the label alone.
    cell2 = Cell("d.txt", "kv", "参加者", "5名", 1, 1, 1)
    cand2 = replace(_source_cand("参加者：５名"), kind="cell", cell=cell2, text=cell2.text, sent_index=-1)
    span2 = next(s for s in extract_spans(cell2.text) if s.text == "5名")
    assert _value_text(Selection([cand2], span2, cand2, 1.0), "5名", DEFAULT_POLICY) == "5名（参加者）"


def test_a_place_the_question_names_in_everyday_words_is_not_the_answer() -> None:
    # ヨーロッパ is a word the corpus never uses; its corpus word 欧州 is named by the question too.
    query = replace(_analyse("ヨーロッパで説明会を開いた都市はどこか。"), synonyms={"ヨーロッパ": {"欧州": 0.5}})
    span = direct_span(query, _cand("欧州のパリで説明会を開催した。"), DEFAULT_POLICY)
    assert span is not None and span.text == "パリ"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("計画の3段階とは？", "list"),  # a count of things asked what they are
        ("基本方針の4分野は何か。", "list"),
        ("計画の第3段階とは？", "other"),  # one of them, by its ordinal
        ("協議会の3社は何か。", "other"),  # a count of companies is no announced list
        ("参加者は何段階に分かれるか。", "number"),
        ("作業部会の主査を務めているのは？", "person"),  # a role held: its holder
        ("会議の議長国を務めるのは？", "other"),  # a country holding the chair: not a person
        ("共同声明に署名した欧州側の担当者は？", "person"),  # a post held by one person
        ("研修の対象者は？", "other"),  # people described, not one named
        ("協議会はどの団体で構成されているか。", "list"),  # what a body is made up of: all its members
        ("委員会は何名で構成されているか。", "number"),  # how many it is made up of: a count
        ("連合は何か国で構成されているか。", "number"),
        ("計画の4段階(案)はそれぞれ何か。", "list"),  # a count of things with a note, each asked
    ],
)
def test_answer_type_of_counted_things_and_held_roles(question: str, expected: str) -> None:
    assert _analyse(question).answer_type == expected


def test_a_held_role_is_the_focus() -> None:
    assert _analyse("安全検討TFで、取りまとめ役の主査を務めているのは？").focus == ("主査",)


def test_a_heading_announcing_a_count_heads_that_many_unmarked_lines(tmp_path: Path, one_document) -> None:
    doc = ("地域交流の進め方\n\n"
           "交流推進までの3段階\n\n"
           "住民との\n対話の場づくり\n\n"
           "住民との\n課題の共有\n\n"
           "住民との\n合意の形成\n\n"
           "今後の予定は別途示す。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "地域交流")
    _, idx, sel, _ = select_with_best(p, "交流推進までの3段階とは何か。", "交流推進までの3段階")
    assert [c.text for c in sel.units] == ["交流推進までの3段階", "住民との対話の場づくり", "住民との課題の共有",
                                           "住民との合意の形成"]
    from assistant.reader.select import counted_items

    # A heading that counts no items, or more items than follow unmarked, heads nothing this way.
    head = sel.units[0]
    assert counted_items(idx, replace(head, text="交流推進までの段階"), p.reader_policy) is None
    assert counted_items(idx, replace(head, text="交流推進までの5段階"), p.reader_policy) is None


@pytest.mark.parametrize(
    ("text", "announces"),
    [("(案)計画までの3段階", True), ("基本方針の4つの柱", True), ("主な取組の3本柱：", True),
     ("計3回開催", False), ("令和6年度", False), ("計21社", False), ("第2段階", False)],
)
def test_announces_count(text: str, announces: bool) -> None:
    from assistant.reader.select import announces_count

    assert announces_count(text) is announces


def test_a_persons_organisation_is_the_one_of_their_roster_row(tmp_path: Path, one_document) -> None:
    doc = ("検討会構成員一覧\n\n"
           "分野 所属 氏名\n\n"
           "産業界 北海電力協会 理事\n"
           "※推進会議構成員 南川 一郎\n\n"
           "材料 東都大学 教授 西田 花子\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "検討会")
    # The remark's organisation (推進会議) on the name's line is a note on the person.
    _, _, sel, _ = select_with_best(p, "南川一郎氏の所属団体は？", "※推進会議構成員")
    assert sel.direct is not None and sel.direct.text.endswith("北海電力協会")
    assert sel.units[0].text.startswith("産業界")
    # A row on one line: its own organisation, before the name.
    _, _, sel, _ = select_with_best(p, "西田花子氏の所属機関は？", "材料")
    assert sel.direct is not None and sel.direct.text.endswith("東都大学")


def test_an_english_abbreviation_the_documents_spell_out_is_no_missing_literal() -> None:
    from assistant.crosslingual import spelled_out

    table = {"task forc": ["タスク フォース", "作業 部会"], "task": ["タスク"], "tax fund": ["税 基金"]}
    assert spelled_out("TF", table) == ["タスクフォース", "作業部会", "税基金"]
    assert spelled_out("tf", table) == []  # not an abbreviation
    q = _analyse("安全検討TFの主査は誰か。")
    passages = ["安全検討タスクフォースの主査は甲山乙男。"]
    assert missing_literals(q, passages) == ("TF",)
    assert missing_literals(q, passages, lambda lit: spelled_out(lit, table)) == ()
    assert missing_literals(q, ["安全検討会の主査は甲山乙男。"], lambda lit: spelled_out(lit, table)) == ("TF",)


@pytest.mark.parametrize(("original", "shown"), [
    ("研究センター\u2ed1 山田 太郎", "研究センター\u2ed1 山田 太郎"),  # ⻑ and the spaces as the document writes them
    ("\u2ea0間企業の参画を促す。", "\u2ea0間企業の参画を促す。"),  # ⺠
    ("研究センター長山田太郎", "研究センター長山田太郎"),  # nothing to give back
])
def test_an_answer_quotes_the_radicals_the_document_writes(original: str, shown: str) -> None:
    from assistant.reader.shape import document_chars

    cand = _source_cand(original)
    text = cand.text
    assert "\u2ed1" not in text and "\u2ea0" not in text  # the normaliser folds them for search
    assert document_chars(cand) == shown
    # A text that is not the normalised source (a cell's label：value) is shown as it is.
    assert document_chars(replace(cand, text=text + "。")) == text + "。"


@pytest.mark.parametrize(
    ("question", "text", "direct"),
    [
        # Where something is held: a body of people is no venue.
        ("夏の学校はどこで開かれたか。", "※北方物理学会の「夏の学校」との合同開催", None),
        ("夏の学校はどこで開かれたか。", "夏の学校は北方大学で開催した。", "北方大学"),
        # Where a matter is discussed may well be a body.
        ("他にどこで議論が始まる予定か。", "※北方物理学会においても議論を開始予定。", "北方物理学会"),
    ],
)
def test_a_body_of_people_is_no_venue(question: str, text: str, direct: str | None) -> None:
    span = direct_span(_analyse(question), _cand(text), DEFAULT_POLICY)
    assert (span.text if span else None) == direct


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("今年度中に取りまとめ予定。", ["今年度中"]),
        ("来年度末までに策定する。", ["来年度末"]),
        ("年内に公表する。", ["年内"]),
        ("来春に開始する。", ["来春"]),
        ("前年度予算額と比べる。", []),  # relative to another year the text names
        ("今年度中、来年度以降の二段階。", ["今年度中", "来年度以降"]),
    ],
)
def test_relative_time_spans(text: str, found: list[str]) -> None:
    from assistant.spans import relative_time_spans

    assert [s.text for s in relative_time_spans(text)] == found


def test_a_when_question_is_answered_by_a_relative_time_when_the_line_states_no_date() -> None:
    query = _analyse("基本方針のまとめはいつごろ出る予定か。")
    span = direct_span(query, _cand("・意見募集を経て、今年度中に取りまとめ予定。"), DEFAULT_POLICY)
    assert span is not None and span.text == "今年度中"
    # A date the line states wins over a relative time.
    span = direct_span(query, _cand("・令和7年3月に取りまとめ、今年度中に公表予定。"), DEFAULT_POLICY)
    assert span is not None and span.text == "令和7年3月"


def test_a_country_asked_is_answered_by_a_place_name_not_an_organisation() -> None:
    query = _analyse("共同で建設中の実験施設は、どこの国にありますか。")
    assert direct_span(query, _cand("北方機構(NRI)を中心に企業と協力した体制を構築し、"), DEFAULT_POLICY) is None
    span = direct_span(query, _cand("(フランスに建設中)"), DEFAULT_POLICY)
    assert span is not None and span.text == "フランス"


@pytest.mark.parametrize(
    ("text", "people"),
    [
        ("文部科学大臣とエネルギー担当欧州委員の共同声明", []),  # a portfolio (…担当), no name
        ("G7気候・エネルギー・環境大臣会合の成果文書", []),  # portfolios joined by ・
        ("山田文部科学大臣とシムソン欧州委員が署名", ["山田", "シムソン"]),
        ("グラナム副大臣と会談した。", ["グラナム"]),
    ],
)
def test_a_ministers_portfolio_in_katakana_is_no_name(text: str, people: list[str]) -> None:
    assert [s.text for s in extract_spans(text) if s.kind == "person"] == people
def test_a_list_question_quoting_a_heading_gets_that_sections_items(tmp_path: Path, one_document) -> None:
    doc = ("地域産業の振興策\n\n"
           "【集める】\n"
           "・企業誘致の説明会を開催\n"
           "・工業団地の区画を整備\n"
           "【広げる】\n"
           "・販路開拓の商談会を支援\n"
           "・海外見本市への出展を補助\n"
           "・地域ブランドの認証制度を創設\n\n"
           "観光振興の方向性\n"
           "・周遊ルートの整備\n"
           "・宿泊施設の改修支援\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "振興策")
    # An item of another section scores best, as its words are the question's too.
    q, _, sel, _ = select_with_best(p, "地域産業の振興策の【広げる】として挙げられている取組は？", "・企業誘致")
    assert q.answer_type == "list"
    assert [c.text for c in sel.units] == ["【広げる】", "・販路開拓の商談会を支援", "・海外見本市への出展を補助",
                                           "・地域ブランドの認証制度を創設"]
    # Naming no heading line, the list of the best line answers.
    _, _, sel, _ = select_with_best(p, "地域で挙げられている取組をすべて挙げてください。", "・企業誘致")
    assert sel.units[0].text == "・企業誘致の説明会を開催"


def test_a_list_question_asking_a_count_gets_the_heading_counting_it(tmp_path: Path, one_document) -> None:
    doc = ("地域交流の進め方\n\n"
           "今後の論点\n"
           "・住民アンケートの実施\n"
           "・交流拠点の運営体制の見直し\n\n"
           "交流推進までの3段階\n\n"
           "住民との\n対話の場づくり\n\n"
           "住民との\n課題の共有\n\n"
           "住民との\n合意の形成\n\n"
           "今後の予定は別途示す。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "地域交流")
    _, _, sel, _ = select_with_best(p, "地域交流で示された、交流推進までの3段階は何か。", "・交流拠点")
    assert [c.text for c in sel.units] == ["交流推進までの3段階", "住民との対話の場づくり", "住民との課題の共有",
                                           "住民との合意の形成"]
    # Another count (or none) leaves the best line's list.
    _, _, sel, _ = select_with_best(p, "地域交流で示された、交流推進までの4段階は何か。", "・交流拠点")
    assert sel.units[0].text == "・住民アンケートの実施"


def test_a_best_item_enumerating_nouns_past_the_cut_is_answered_whole(tmp_path: Path, one_document) -> None:
    from assistant.reader.select import enumerated_inline

    assert enumerated_inline("支援するため、大学、研究所、学会、企業等における企画を募る。")
    assert not enumerated_inline("事業を見直し、予算を確保し、体制を整える。")
    doc = ("普及啓発の活動内容\n\n"
           "(1)専門家による助言(随時)地域の団体の求めに応じて、普及啓発の進め方について助言を行うため、専門家を派遣する。\n"
           "(2)公募による新規企画(年数回)地域の普及啓発活動を支援するとともに、県全体の活動の活性化を図るため、"
           "大学、研究所、学会、企業等における、各団体の普及啓発に関する企画を公募し、費用の一部を支援する。\n"
           "(3)意識調査の実施(数年に1回)住民の認識を把握するための調査を行い、活動の見直しに用いる。\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "普及啓発")
    q, _, sel, _ = select_with_best(p, "公募による新規企画で企画を募集する団体をすべて挙げてください。", "(2)")
    assert q.answer_type == "list"
    assert len(sel.units) == 1 and sel.units[0].text.startswith("(2)")
    # Not far ahead of the others, it stays one item of its list.
    _, _, sel, _ = select_with_best(p, "公募による新規企画で企画を募集する団体をすべて挙げてください。", "(2)", rest=0.5)
    assert len(sel.units) == 3


def test_a_numbered_row_heading_named_by_a_list_question_heads_its_unmarked_lines(tmp_path: Path, one_document) -> None:
    doc = ("令和7年度の重点項目\n\n"
           "項目 重点内容\n\n"
           "1. 港湾設計\n\n"
           "岸壁の耐震化検討\n\n"
           "航路の浚渫計画\n\n"
           "2. 物流拠点\n\n"
           "倉庫の集約\n\n"
           "3. 臨海道路の整備と維持管理 橋梁の補修、舗装の更新、照明の省エネ化\n\n"
           "4. 環境対策\n\n"
           "緑地の拡張\n")
    p = _fixture_pipeline(one_document, tmp_path, doc, "重点項目")
    q, _, sel, _ = select_with_best(p, "港湾設計について、令和7年度に重点的に行う内容を挙げてください。", "倉庫")
    assert q.answer_type == "list"
    assert [c.text for c in sel.units] == ["1.港湾設計", "岸壁の耐震化検討", "航路の浚渫計画"]
    # Named but not quoted, a heading over no line scoring close to the best heads nothing asked.
    _, _, sel, _ = select_with_best(p, "港湾設計について、令和7年度に重点的に行う内容を挙げてください。", "倉庫", rest=-5.0)
    assert sel.units[0].text != "1.港湾設計"
    # A row the extractor ran into one line answers by itself when the question quotes its heading.
    _, _, sel, _ = select_with_best(p, "「臨海道路の整備と維持管理」で令和7年度に重点的に行う内容を挙げてください。", "倉庫")
    assert [c.text for c in sel.units] == ["3.臨海道路の整備と維持管理橋梁の補修、舗装の更新、照明の省エネ化"]


# ------------------------------------------------------------------ posts asked


@pytest.mark.parametrize(
    ("question", "text", "post"),
    [
        # A roster row reads organisation, post, name: the post after the question's words.
        ("南海大学から加わっている委員の職名は？", "甲製作所部長甲野一郎南海大学工学部准教授乙川花子", "准教授"),
        ("甲製作所から参加している委員の肩書きは？", "甲製作所部長甲野一郎南海大学工学部准教授乙川花子", "部長"),
        # The post before the question's words when none follows (氏名 then 所属 order).
        ("丙研究所の委員の役職は？", "委員長丁山三郎丙研究所", "委員長"),
        # The question's own post words are no answer.
        ("理事を務める会社の代表の役職は？", "理事：戊商事代表取締役社長", "社長"),
        # No post in the line: no direct value.
        ("甲会議の委員の職名は？", "甲会議は年4回開催する。", None),
    ],
)
def test_post_asked_is_the_post_after_the_question_words(question: str, text: str, post: str | None) -> None:
    from assistant.reader.select import post_asked, post_phrase

    query = _analyse(question)
    assert post_asked(query)
    span = post_phrase(query, _cand(text))
    assert (span.text if span else None) == post


@pytest.mark.parametrize(
    ("question", "asked"),
    [("委員の職名は？", True), ("委員の肩書を教えて", True), ("What position does the member hold?", True),
     ("委員の名前は？", False), ("What is the title of the plan?", False)],
)
def test_post_asked(question: str, asked: bool) -> None:
    from assistant.reader.select import post_asked

    assert post_asked(_analyse(question)) is asked


# ------------------------------------------------------------------ web addresses asked


@pytest.mark.parametrize(
    ("question", "asked"),
    [("募集要項はどのウェブサイトに載っている？", True), ("申請書の掲載先のURLは？", True),
     ("What web page lists the vacancies?", True), ("Which website publishes the call?", True),
     # A web page as the subject of a date question is no address asked for.
     ("ホームページを開設したのはいつ？", False), ("When did the council open its website?", False)],
)
def test_url_asked(question: str, asked: bool) -> None:
    from assistant.reader.select import url_asked

    assert url_asked(_analyse(question)) is asked


@pytest.mark.parametrize(
    ("text", "url"),
    [("詳細はhttps://www.example.go.jp/koubo/index.htmlを参照。", "https://www.example.go.jp/koubo/index.html"),
     ("募集要項(www.example.or.jp/boshu)", "www.example.or.jp/boshu"),
     ("掲載先: example.ac.jp/news.", "example.ac.jp/news"),
     ("公募は年2回行う。", None)],
)
def test_url_span_is_the_address_without_trailing_punctuation(text: str, url: str | None) -> None:
    from assistant.reader.select import url_span

    span = url_span(_cand(text))
    assert (span.text if span else None) == url


def test_an_address_asked_for_is_the_close_line_that_prints_it() -> None:
    from assistant.reader.select import select

    cands = [_cand("・甲機構職員(不定期公募、任期5年)"), _cand("https://www.example.go.jp/staff/jobs.html")]
    sel = select(_analyse("What web page lists the staff vacancies?"), None, cands,  # type: ignore[arg-type]
                 np.array([1.0, 0.4]), DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "https://www.example.go.jp/staff/jobs.html"
    assert sel.units == [cands[1]]


@pytest.mark.parametrize(
    ("question", "text", "value"),
    [
        # The kind of body asked for (a university, an institute) is the value, not another body of the line.
        ("Which university hosts the school?", "スクールは甲乙研究機構が主催し、会場は丙川大学とする。", "丙川大学"),
        ("Which institute hosts the school?", "主催:丙川大学(甲乙研究所と共催)", "甲乙研究所"),
        # No kind named: the usual choice.
        ("Which organisation hosts the school?", "スクールは甲乙研究機構が主催し、会場は丙川大学とする。", "甲乙研究機構"),
    ],
)
def test_an_english_question_naming_a_kind_of_body_gets_a_body_of_that_kind(question: str, text: str,
                                                                             value: str) -> None:
    from assistant.reader.query import asked_org_heads

    assert direct_span(_analyse(question), _cand(text), DEFAULT_POLICY).text == value
    assert asked_org_heads("どの大学が主催するか。") == ()  # Japanese questions: the focus does this


def test_a_close_line_with_the_kind_of_body_asked_wins_over_a_line_without_one() -> None:
    from assistant.reader.select import select_value

    q = _analyse("Which university runs the summer school?")
    cands = [_cand("夏季スクールは甲乙研究機構が運営する。"), _cand("夏季スクールの運営には丙川大学が協力する。")]
    sel = select_value(q, cands, np.array([2.0, 1.5]), DEFAULT_POLICY)
    assert sel.direct is not None and sel.direct.text == "丙川大学"
    far = select_value(q, cands, np.array([2.0, -3.0]), DEFAULT_POLICY)  # not within the margin
    assert far.direct is not None and far.direct.text == "甲乙研究機構"


def test_english_lead_does_not_take_an_item_number_for_a_name() -> None:
    from assistant.reader.select import Selection
    from assistant.reader.shape import _english_lead

    c = _cand("II 甲乙制度の見直し(KEK担当)")
    lead = _english_lead(Selection([c], None, None, 1.0), "What is reviewed?")
    assert "KEK" in lead and "II" not in lead


def test_english_lead_names_the_post_a_which_post_question_asks_for() -> None:
    from assistant.reader.query import asks_post
    from assistant.reader.select import Selection, post_phrase, select
    from assistant.reader.shape import _english_lead

    c = _cand("甲乙研究機構 副センター長 山田太郎(KEK兼務)")
    q = "Which post does Yamada Taro hold at the institute?"
    assert asks_post(q) and not asks_post("What is the title of the plan?") and not asks_post("どの役職か。")
    sel = select(_analyse(q), None, [c], np.array([1.0]), DEFAULT_POLICY)  # type: ignore[arg-type]
    assert sel.direct is not None and sel.direct.text == "副センター長"
    assert "副センター長" in _english_lead(sel, q) and "KEK" not in _english_lead(sel, q)
    # A post the question names (through its translated terms) is not the answer.
    c2 = _cand("理事 山田太郎、理事長 佐藤花子")
    named = _analyse("What position does Sato hold?").with_search_terms(("理事",), lambda t: 1.0)
    span = post_phrase(named, c2)
    assert span is not None and span.text == "理事長"
    assert "KEK" in _english_lead(Selection([c], None, None, 1.0), "What is reviewed?")


# ------------------------------------------------------------------ the extreme of a table asked


def _table(pairs: list[tuple[str, str]]) -> list[Candidate]:
    """Cells of one header-line table (a caption, a header per column, one value each)."""
    from assistant.structure import Cell

    return [replace(_cand(value, cell_label=label), cell=Cell("d.txt", "table", label, value, 3, 5, 5))
            for label, value in pairs]


_SHARES = [("分担割合 北国", "40%"), ("分担割合 南国", "25%"), ("分担割合 東国", "20%"), ("分担割合 西国", "15%")]


@pytest.mark.parametrize(
    ("question", "header"),
    [
        ("甲計画の分担割合が最も大きい国はどこ？", "北国"),
        ("甲計画で分担割合が最も小さいのはどの国？", "西国"),
        ("Which country bears the largest share of the plan?", "北国"),
    ],
)
def test_the_extreme_of_a_header_line_table_is_its_columns_header(question: str, header: str) -> None:
    from assistant.reader.select import extreme_cell

    cands = _table(_SHARES)
    sel = extreme_cell(_analyse(question), cands, np.array([0.5, 0.9, 0.6, 0.4]), DEFAULT_POLICY)
    assert sel is not None and sel.direct is not None and sel.direct.text == header
    assert sel.units[0].cell is not None and sel.units[0].cell.label.endswith(header)  # the quote shows the value


def test_columns_sharing_the_extreme_are_listed_and_no_extreme_asked_is_no_pick() -> None:
    from assistant.reader.select import extreme_cell

    cands = _table([("分担割合 北国", "40%"), ("分担割合 南国", "20%"), ("分担割合 東国", "20%"), ("分担割合 西国", "20%")])
    scores = np.array([0.5, 0.9, 0.6, 0.4])
    tied = extreme_cell(_analyse("分担割合が最も小さい国はどこ？"), cands, scores, DEFAULT_POLICY)
    assert tied is not None and tied.listed and [u.cell.label[-2:] for u in tied.units] == ["南国", "東国", "西国"]
    assert extreme_cell(_analyse("南国の分担割合は何%？"), cands, scores, DEFAULT_POLICY) is None
    assert extreme_cell(_analyse("分担割合が20%の国はどこ？"), cands, scores, DEFAULT_POLICY) is None


def test_a_table_far_below_the_best_line_or_of_mixed_values_picks_nothing() -> None:
    from assistant.reader.select import extreme_cell

    q = _analyse("分担割合が最も大きい国はどこ？")
    other = _cand("甲計画は北国が主導する。")
    cands = [*_table(_SHARES), other]
    assert extreme_cell(q, cands, np.array([-3.0, -3.0, -3.0, -3.0, 2.0]), DEFAULT_POLICY) is None
    mixed = _table([("実績 北国", "40%"), ("実績 南国", "12名"), ("実績 東国", "20%")])
    assert extreme_cell(q, mixed, np.array([0.5, 0.9, 0.6]), DEFAULT_POLICY) is None


# ------------------------------------------------------------------ an item asked by its number


@pytest.mark.parametrize(
    ("question", "item"),
    [
        ("甲計画の項目9は何ですか。", "安全審査"),  # a column of a flattened list line
        ("甲計画の項目2は？", "運転計画"),
        ("甲計画で6番目の項目は何か。", "人材確保"),
        ("What is item 5 of the plan?", "地域連携"),
    ],
)
def test_an_item_asked_by_its_number_is_read_from_a_numbered_row(question: str, item: str) -> None:
    from assistant.reader.select import numbered_item

    cands = [_cand("甲計画は、項目別に公募を行う。"), _cand("1.設計5.地域連携9.安全審査"),
             _cand("2.運転計画6.人材確保10.広報")]
    # The rows score far below the sentence that names the list: a row is read all the same.
    sel = numbered_item(_analyse(question), cands, np.array([2.0, -1.0, -1.5]), DEFAULT_POLICY)
    assert sel is not None and sel.direct is not None and sel.direct.text == item


def test_a_number_in_prose_far_below_the_best_line_or_no_number_asked_is_no_item() -> None:
    from assistant.reader.select import numbered_item

    cands = [_cand("甲計画は2段階で進める。"), _cand("予算は45.5億円、うち9.1億円を充てる。")]
    assert numbered_item(_analyse("甲計画の項目9は何ですか。"), cands, np.array([2.0, -1.0]), DEFAULT_POLICY) is None
    rows = [_cand("1.設計5.地域連携9.安全審査")]
    assert numbered_item(_analyse("甲計画の項目は何か。"), rows, np.array([1.0]), DEFAULT_POLICY) is None


# ------------------------------------------------------------------ who, named by what they do


@pytest.mark.parametrize(
    ("text", "agents"),
    [
        ("拠点には、企業と繋ぐ広報コーディネーターを置く。", ["広報コーディネーター"]),
        ("委員は技術者や法務の専門家とする。", ["技術者", "法務の専門家"]),
        ("広報アドバイザー等の外部専門家を活用する。", ["広報アドバイザー", "外部専門家"]),  # not 等の…
        ("甲大学の山田教授が講演した。", []),  # a post and a name are no agent noun
    ],
)
def test_agent_spans(text: str, agents: list[str]) -> None:
    from assistant.spans import agent_spans

    assert [s.text for s in agent_spans(text)] == agents


def test_a_who_question_over_a_line_naming_no_one_gets_the_agent_noun() -> None:
    q = _analyse("甲拠点では企業との橋渡し役として誰を置くか。")
    span = direct_span(q, _cand("甲拠点においては、企業と繋ぐ広報コーディネーターの設置に取り組む。"), DEFAULT_POLICY)
    assert span is not None and span.text == "広報コーディネーター"
    # A name, when the line has one, is still the answer.
    named = direct_span(q, _cand("甲拠点には広報コーディネーターとして山田太郎氏を置く。"), DEFAULT_POLICY)
    assert named is not None and named.text == "山田太郎"


def test_the_previous_figure_asked_of_the_same_item_takes_this_periods_figure_before_its_bracket() -> None:
    from assistant.reader.shape import _bracket_partner

    q = _analyse("甲事業の令和6年度予算額と、その前年度の額はそれぞれいくらか。")
    total, row = _cand("令和6年度予算額 900億円"), _cand("・甲事業 800百万円(650百万円)")
    prev = next(s for s in row.spans if s.value == "650000000円")
    other = next(s for s in total.spans if s.kind == "money")
    chosen = [Selection([total], other, total, 0.9), Selection([row], prev, row, 0.8)]
    first = _bracket_partner(q.parts, chosen)
    assert first.direct is not None and first.direct.text == "800百万円" and first.units[0] is row
    # A second part that asks no previous figure leaves the first part's choice alone.
    q2 = _analyse("甲事業の予算額と、乙事業の予算額はそれぞれいくらか。")
    assert _bracket_partner(q2.parts, chosen) is chosen[0]


def test_an_era_date_answer_reads_its_western_year_beside_it(tmp_path: Path, one_document) -> None:
    doc = "甲装置の概要\n\n○ 甲装置は令和4年8月に運転を開始した。\n○ 乙施設は2021年5月に完成した。\n"
    p = _fixture_pipeline(one_document, tmp_path, doc, "甲装置")
    era = p.ask("甲装置が運転を開始したのはいつか。")
    assert era.answer.startswith("令和4年8月＝2022年8月（") and era.direct == "令和4年8月"
    western = p.ask("乙施設が完成したのはいつか。")
    assert western.answer.startswith("2021年5月（")  # a Western date is given as it is
