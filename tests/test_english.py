"""English questions on any corpus, and abstention that carries across corpora.

Hand-made term tables and evidence rows (no JMdict, no model download): the asked
attribute of an English question, the off-topic guard, and the abstention model's
inputs (what it learns from, and the asked attribute found as written).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from assistant.crosslingual import english_focus, fold
from assistant.reader import Evidence
from assistant.reader.abstain import ABSTAIN_FEATURES, MODEL_FEATURES, A, focus_found, model_columns
from assistant.reader.policy import DEFAULT_POLICY
from assistant.reader.query import Query
from assistant.reader.scorer import Linear, load_model
from assistant.reader.shape import off_topic

#: English word -> corpus terms, best first (as ``crosslingual.build_table`` stores them), on a
#: made-up topic (a city's library services) no glossary covers.
TABLE = {fold(k): v for k, v in {
    "port": ["港", "港湾"], "book": ["図書", "本"], "loan": ["貸出"], "period": ["期間", "期"],
    "branch": ["分館", "支所"], "library": ["図書館"], "minute": ["分"], "open": ["開館", "開く"],
    "reader": ["利用者", "読者"], "card": ["カード"], "limit": ["上限", "限度"],
}.items()}


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("How many branch libraries does the city run?", ("分館", "支所", "図書館")),  # in question order
        ("How many books can a reader borrow at once?", ("図書", "本")),
        ("What is the loan period for books?", ("貸出", "期間", "期")),
        ("About how many minutes after opening can cards be issued?", ("分",)),
        ("What limit applies to loans per card?", ("上限", "限度")),
        # A word the table does not know adds nothing; no wh-phrase, no focus.
        ("What colour are the shelves?", ()),
        ("When does the library open?", ()),
        ("Who chairs the council?", ()),
    ],
)
def test_english_focus_is_the_phrase_after_the_interrogative(question: str, focus: tuple[str, ...]) -> None:
    assert english_focus(question, TABLE) == focus


def test_english_focus_keeps_only_terms_of_the_index() -> None:
    assert english_focus("What is the loan period?", TABLE, vocab={"貸出", "期間"}) == ("貸出", "期間")
    assert english_focus("What is the loan period?", TABLE, per_word=1) == ("貸出", "期間")


def _query(focus: tuple[str, ...], language: str = "ja") -> Query:
    return Query(text="q", normalized="q", language=language, answer_type="number", focus=focus)


def test_focus_found_needs_the_compound_as_written() -> None:
    passages = ["令和7年度予算案の総額は3,842億円。", "窓口の人員を増やす。"]
    # Its words occur one by one (人, 費 ...) but the asked attribute 人件費 is nowhere.
    assert focus_found(_query(("人件", "費")), passages) == 0.0
    assert focus_found(_query(("予算", "案")), passages) == 1.0
    assert focus_found(_query(("予算", "案")), ["令和７年度 予算　案"]) == 1.0  # width and spaces do not matter
    # No focus, a one-character one, English (translated word by word) or no passage: no evidence.
    assert focus_found(_query(()), passages) == 1.0
    assert focus_found(_query(("額",)), passages) == 1.0
    assert focus_found(_query(("人件", "費"), "en"), passages) == 1.0
    assert focus_found(_query(("人件", "費")), []) == 1.0


def test_a_kind_of_body_asked_is_found_where_the_passages_name_bodies_of_that_kind() -> None:
    named = ["<オブザーバー> 甲務省、乙庁、丙研究所"]
    assert focus_found(_query(("省庁",)), named) == 1.0  # the documents name ministries, not 省庁
    assert focus_found(_query(("企業",)), ["参画:北海株式会社、南洋工業株式会社"]) == 1.0
    assert focus_found(_query(("企業",)), named) == 0.0  # no company named
    assert focus_found(_query(("省庁",)), ["省エネルギーの推進"]) == 0.0  # 省 starting a word is no ministry


def test_focus_found_through_a_synonym_of_a_word_the_corpus_never_uses() -> None:
    passages = ["地域交流イベントを年2回開催する。", "窓口の人員を増やす。"]
    asked = replace(_query(("催し", "回数")), synonyms={"催し": {"イベント": 0.5}})
    assert asked.focus_forms() == ("催し回数", "イベント回数")
    assert focus_found(replace(asked, focus=("催し",)), passages) == 1.0
    # Without the synonym, or with one the passages do not use, the attribute is not found.
    assert focus_found(_query(("催し",)), passages) == 0.0
    assert focus_found(replace(asked, focus=("催し",), synonyms={"催し": {"祭典": 0.5}}), passages) == 0.0


@pytest.mark.parametrize(
    ("tokens", "hit", "cov"),
    [
        ({"予算", "催し"}, 1.0, 1.0),  # the question's own words
        ({"予算", "イベント"}, 0.5, 0.75),  # the synonym earns its share of the word's weight
        ({"予算", "祭典", "行事"}, 0.8, 0.9),  # the best-weighted synonym found counts
        ({"予算"}, 0.0, 0.5),
    ],
)
def test_term_hit_and_coverage_count_synonyms_at_their_share(tokens: set[str], hit: float, cov: float) -> None:
    from assistant.reader.features import coverage, term_hit

    synonyms = {"催し": {"イベント": 0.5, "行事": 0.8, "祭典": 0.3}}
    assert term_hit("催し", tokens, synonyms) == pytest.approx(hit)
    assert coverage({"予算": 1.0, "催し": 1.0}, tokens, synonyms) == pytest.approx(cov)
    assert coverage({"予算": 1.0, "催し": 1.0}, tokens) == pytest.approx(0.5 + 0.5 * ("催し" in tokens))

def _evidence(language: str, dense: float, translated: float) -> Evidence:
    x = np.zeros(len(ABSTAIN_FEATURES), np.float32)
    x[A["max_passage_dense"]] = dense
    x[A["translated"]] = translated
    return Evidence(_query((), language), [], np.zeros((0, 0)), np.zeros(0), x, 0.9, ())


@pytest.mark.parametrize(
    ("dense", "translated", "off"),
    [
        (0.78, 1.0, False),  # English is less similar to Japanese passages: no seed-tuned floor
        (0.83, 0.5, True),  # half its words untranslated: about something the documents do not discuss
        (0.83, 0.33, True),
        (0.80, 0.57, False),
        (0.70, 1.0, True),  # nothing is even close
        (0.0, 0.0, False),  # bm25-only mode has no similarity to judge by
    ],
)
def test_english_off_topic_guard(dense: float, translated: float, off: bool) -> None:
    assert off_topic(_evidence("en", dense, translated), DEFAULT_POLICY) is off


@pytest.mark.parametrize(
    ("dense", "unknown", "off"),
    [
        (0.82, 0.9, True),  # far from every passage, its words unknown to the corpus (a recipe)
        (0.84, 0.75, True),
        (0.84, 0.3, False),  # as far, but in the documents' words: an answerable question put apart
        (0.85, 0.0, False),  # an abbreviation and a role the documents use, in a short question
        (0.87, 1.0, False),  # close in meaning though worded apart: the learned model decides
        (0.0, 1.0, False),  # bm25-only mode has no similarity to judge by
    ],
)
def test_japanese_off_topic_guard_needs_distance_and_unknown_words(dense: float, unknown: float, off: bool) -> None:
    ev = _evidence("ja", dense, 0.0)
    ev.abstain_x[A["unknown"]] = unknown
    assert off_topic(ev, DEFAULT_POLICY) is off


def test_without_abstention_turns_the_english_guard_off() -> None:
    policy = DEFAULT_POLICY.without_abstention()
    assert not off_topic(_evidence("en", 0.5, 0.0), policy)
    assert not off_topic(_evidence("ja", 0.5, 1.0), policy)


def test_the_abstention_model_reads_its_own_columns() -> None:
    """The translated share is evidence for the guard, not an input of the learned model."""
    assert "translated" not in MODEL_FEATURES and "focus_found" in MODEL_FEATURES
    shipped = load_model().abstain
    assert set(shipped.features) <= set(ABSTAIN_FEATURES) and "translated" not in shipped.features
    cols = model_columns(MODEL_FEATURES)
    model = Linear(MODEL_FEATURES, np.ones(len(cols), np.float32), 0.0, np.zeros(len(cols), np.float32),
                   np.ones(len(cols), np.float32))
    row = _evidence("en", 0.82, 1.0).abstain_x
    low = row.copy()
    low[A["translated"]] = 0.2
    assert model.proba(row[None, cols])[0] == model.proba(low[None, cols])[0]
    # An older model that did take it still reads the right columns, by name.
    old = replace(model, features=tuple(ABSTAIN_FEATURES))
    assert model_columns(old.features) == list(range(len(ABSTAIN_FEATURES)))


def test_pipeline_gives_a_number_question_in_english_its_focus(tmp_corpus, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On a fixture index (fake embedder) with a hand-made term table of its own vocabulary."""
    from assistant.config import Settings
    from assistant.crosslingual import save_table
    from assistant.embedding import FakeEmbedder
    from assistant.pipeline import Pipeline
    from assistant.store import build_index

    settings = Settings.from_env(environ={}, corpus_dir=tmp_corpus, index_dir=tmp_path / "index", embedder="fake",
                                 tokenizer="bigram", chunk_chars=120, chunk_overlap=20, auto_rebuild=False)
    build_index(settings, FakeEmbedder(), progress=False)
    table = {fold("budget"): ["予算"], fold("amount"): ["算額"], fold("council"): ["協議"]}
    save_table(settings.index_dir, table, "hand-made")  # in place of the JMdict one (not installed in CI)
    pipe = Pipeline(replace(settings, english_focus=2), FakeEmbedder(), progress=False)
    index = pipe.index()
    assert index.crosslingual == table
    assert all(t in index.bm25.vocab for items in table.values() for t in items)
    assert pipe.analyse("How much is the budget amount?").focus == ("予算", "算額")
    # Only number and date questions: the wh-noun of others often names something else.
    assert pipe.analyse("Which council was set up?").focus == ()
    assert pipe.analyse("予算額はいくらか。").language == "ja"
    off = Pipeline(settings, FakeEmbedder(), progress=False)  # off by default
    off._index = index
    assert off.analyse("How much is the budget amount?").focus == ()



def test_pipeline_weighs_a_words_later_translations_less(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two passages, each holding one translation of "party": the table's first one ranks first
    in BM25 (a rare sense no longer ties with the usual one), and the weights reach the search."""
    from assistant.config import Settings
    from assistant.corpus import add_document
    from assistant.crosslingual import save_table
    from assistant.embedding import FakeEmbedder
    from assistant.pipeline import Pipeline
    from assistant.store import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.json").write_text('{"schema": 1, "documents": []}', encoding="utf-8")
    for name, text in (("a.txt", "図書館の陣営について記す。\n"), ("b.txt", "図書館の会合について記す。\n")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        add_document(corpus, tmp_path / name, title=name)
    settings = Settings.from_env(environ={}, corpus_dir=corpus, index_dir=tmp_path / "index", embedder="fake",
                                 tokenizer="bigram", chunk_chars=120, chunk_overlap=20, auto_rebuild=False,
                                 glossary=False, mode="bm25")
    build_index(settings, FakeEmbedder(), progress=False)
    save_table(settings.index_dir, {fold("party"): ["会合", "陣営"]}, "hand-made")
    pipe = Pipeline(settings, FakeEmbedder(), progress=False)
    hits = pipe.search("Which party?", k=2).hits
    assert ["会合" in h.chunk.text for h in hits] == [True, False]
    assert hits[0].bm25_score == pytest.approx(2 * hits[1].bm25_score, rel=0.05)
    flat = Pipeline(replace(settings, translation_decay=1.0), FakeEmbedder(), progress=False)
    s = [h.bm25_score for h in flat.search("Which party?", k=2).hits]
    assert s[0] == pytest.approx(s[1], rel=0.05)


def test_glossary_phrases_give_each_entrys_alternatives_in_order() -> None:
    from assistant.glossary import glossary_phrases

    assert glossary_phrases("Who is the deputy director of the institute?") == ["次長 副所長 部長代理", "研究所 機構"]


@pytest.mark.parametrize(
    ("question", "phrases"),
    [
        ("Which firms hold the two vice-chairs?", ["企業", "副会長"]),  # a phrase's plural
        ("How many task forces were set up?", ["タスクフォース"]),
        ("What uses does the plan name?", []),  # a short key (us) has no plural: uses is no entry
    ],
)
def test_glossary_phrases_stand_for_their_plurals(question: str, phrases: list[str]) -> None:
    from assistant.glossary import glossary_phrases

    assert glossary_phrases(question) == phrases
