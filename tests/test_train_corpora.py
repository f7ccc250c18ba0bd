"""The reader's retrain over several corpora (``train.training_examples``).

Two one-document corpora (made-up memos, the fake embedder): a training file beside a corpus
directory holds questions on that corpus and is asked of its own pipeline and index (``DIR.index``,
as ``shiori eval --corpus DIR`` reads it); any other training file, of the configured corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.corpus import read_manifest
from assistant.gold import GoldItem
from assistant.reader import train

MAIN_TEXT = "# 図書館の案内\n市立図書館の開館時間は午前9時から午後7時までとする。\n蔵書の貸出期間は2週間とする。\n"
OTHER_TEXT = "# 公園の管理\n中央公園の花壇は春と秋に植え替える。\n公園の清掃は毎週月曜日に行う。\n"


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _row(id_: str, question: str, answer: str, doc: str, line: int) -> dict[str, object]:
    return {"id": id_, "kind": "fact", "question": question, "answers": [answer], "all_required": False,
            "doc": doc, "lines": [line, line], "alt_lines": []}


@pytest.fixture()
def corpora(tmp_path: Path, one_document, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    (tmp_path / "main").mkdir()
    main = one_document(tmp_path / "main", MAIN_TEXT, "図書館の案内")
    # The second corpus's own index is built beside it (DIR.index) when first read.
    other_root = tmp_path / "other"
    other_root.mkdir()
    one_document(other_root, OTHER_TEXT, "公園の管理")
    monkeypatch.setenv("SHIORI_CORPUS_DIR", str(main.settings.corpus_dir))
    monkeypatch.setenv("SHIORI_INDEX_DIR", str(main.settings.index_dir))
    main_doc = read_manifest(main.settings.corpus_dir)[0].id
    other_doc = read_manifest(other_root / "corpus")[0].id
    main_file = _write(tmp_path / "sets" / "train.jsonl", [
        _row("M1", "図書館の開館時間は何時までか。", "午後7時", main_doc, 2),
        _row("M2", "蔵書の貸出期間はどれくらいか。", "2週間", main_doc, 3),
    ])
    other_file = _write(other_root / "train.jsonl", [
        _row("O1", "公園の清掃は何曜日に行うか。", "毎週月曜日", other_doc, 3),
    ])
    return main, main_file, other_file, other_root / "corpus"


def test_a_training_file_beside_a_corpus_is_on_that_corpus(corpora) -> None:  # type: ignore[no-untyped-def]
    main, main_file, other_file, other_corpus = corpora
    assert train.training_corpus(main_file) is None
    assert train.training_corpus(other_file) == other_corpus
    other = train.corpus_pipeline(main, other_corpus)
    assert other.settings.corpus_dir == other_corpus
    assert other.settings.index_dir == other_corpus.with_name("corpus.index")
    assert other.embedder is main.embedder and other.reader_policy is main.reader_policy
    assert train.corpus_pipeline(main, None) is main  # the configured corpus: the pipeline itself


def test_each_file_is_asked_of_its_own_index_and_the_examples_are_pooled(corpora) -> None:  # type: ignore[no-untyped-def]
    main, main_file, other_file, other_corpus = corpora
    examples = train.training_examples(main, [main_file, other_file], progress=False)
    assert [e.item.id for e in examples] == ["M1", "M2", "O1"]
    by_id = {e.item.id: e for e in examples}
    other_doc = read_manifest(other_corpus)[0].id
    # The park question's candidates come from the park corpus, and one of them answers.
    assert {c.chunk.doc for c in by_id["O1"].cands} == {other_doc}
    assert by_id["O1"].y.any() and by_id["M1"].y.any()
    # Each example carries its own index's document frequencies (for the abstention evidence).
    assert by_id["O1"].df("公園") > 0 and by_id["M1"].df("公園") == 0


def test_asked_items_take_the_place_of_training_items_with_their_id(corpora) -> None:  # type: ignore[no-untyped-def]
    main, main_file, other_file, _ = corpora
    asked = GoldItem("M1", "fact", "開館時間の終わりは何時か。", ("午後7時",), False,
                     read_manifest(main.settings.corpus_dir)[0].id, (2, 2))
    examples = train.training_examples(main, [main_file, other_file], asked=[asked], progress=False)
    assert [e.item.id for e in examples] == ["M1", "M2", "O1"]
    assert examples[0].item.question == asked.question


def test_the_abstention_row_reads_the_example_s_own_document_frequencies(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(train, "abstain_features", lambda *args: seen.append(args[6]) or np.zeros(1))

    def own_df(term: str) -> int:
        return 3

    item = GoldItem("Q1", "fact", "q", ("a",), False, "d.txt", (1, 1))
    e = train.Example(item, [], np.zeros((0, 1), np.float32), np.zeros(0, np.int8), [], [], None, df=own_df)
    train._abstain_row(e, None, df=lambda term: 0)  # type: ignore[arg-type]
    assert seen == [own_df]


def _example(id_: str, rank: bool = True, abstain: bool = True) -> train.Example:
    """A fact question with two candidates, the first answering (features are not read by these tests)."""
    item = GoldItem(id_, "fact", "q", ("a",), False, "d.txt", (1, 1))
    return train.Example(item, [None, None], np.zeros((2, 1), np.float32),  # type: ignore[list-item]
                         np.array([1, 0], np.int8), [], [], None, rank=rank, abstain=abstain)


def test_abstention_only_examples_never_train_the_ranker(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--abstain-data``: a question marked ``rank=False`` trains the abstention side only."""
    seen: list[int] = []

    class _Ranker:
        def __init__(self, **kw: object) -> None:
            pass

        def fit(self, X, y, group):  # type: ignore[no-untyped-def]
            seen.append(len(group))
            raise StopIteration

    import lightgbm as lgb

    monkeypatch.setattr(lgb, "LGBMRanker", _Ranker)

    with pytest.raises(StopIteration):
        train.fit_candidate([_example("Q1"), _example("Q2", rank=False), _example("Q3")])
    assert seen == [2]


def test_abstain_only_files_come_last_and_never_rank(corpora) -> None:  # type: ignore[no-untyped-def]
    """The retrain's ``ABSTAIN_FILES`` (``--abstain-data``): their questions, on their own corpus, are
    pooled after the others and marked to train the abstention side only."""
    main, main_file, other_file, other_corpus = corpora
    examples = train.training_examples(main, [main_file], progress=False, abstain_only=[other_file])
    assert [(e.item.id, e.rank) for e in examples] == [("M1", True), ("M2", True), ("O1", False)]
    other_doc = read_manifest(other_corpus)[0].id
    assert {c.chunk.doc for c in examples[-1].cands} == {other_doc}
    # a file named as both is trained on in full
    both = train.training_examples(main, [main_file, other_file], progress=False, abstain_only=[other_file])
    assert [e.rank for e in both] == [True, True, True]


def test_rank_only_files_train_the_ranker_only(corpora) -> None:  # type: ignore[no-untyped-def]
    """The retrain's ``RANK_FILES`` (``--rank-data``): their questions, on their own corpus, train the
    ranker and are marked to stay off the abstention side."""
    main, main_file, other_file, other_corpus = corpora
    examples = train.training_examples(main, [main_file], progress=False, rank_only=[other_file])
    assert [(e.item.id, e.rank, e.abstain) for e in examples] == [
        ("M1", True, True), ("M2", True, True), ("O1", True, False)]
    other_doc = read_manifest(other_corpus)[0].id
    assert {c.chunk.doc for c in examples[-1].cands} == {other_doc}
    # a file named as both is trained on in full
    both = train.training_examples(main, [main_file, other_file], progress=False, rank_only=[other_file])
    assert [e.abstain for e in both] == [True, True, True]


def test_ranker_only_examples_never_train_the_answer_classifier(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--rank-data``: a question marked ``abstain=False`` is left out of the answer classifier's rows."""
    seen: list[int] = []

    class _Classifier:
        def __init__(self, **kw: object) -> None:
            pass

        def fit(self, X, y):  # type: ignore[no-untyped-def]
            seen.append(len(y))
            raise StopIteration

    import lightgbm as lgb

    monkeypatch.setattr(lgb, "LGBMClassifier", _Classifier)

    with pytest.raises(StopIteration):
        train.fit_answer([_example("Q1"), _example("Q2", abstain=False), _example("Q3")])
    assert seen == [4]  # two candidates each of Q1 and Q3


def test_query_vectors_encoded_beforehand_are_those_search_computes(corpora, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    main, main_file, _, _ = corpora
    items = train.load_training_items([main_file])
    questions = [i.question for i in items] + ["", items[0].question]  # refused; repeated
    vectors = train.query_vectors(main, questions, chunk=1)
    assert vectors[-2] is None
    for q, v in zip(questions, vectors, strict=True):
        if v is not None:
            assert np.array_equal(v, main.search(q, k=10).query_vector)
    ahead = train.build_examples(main, items, progress=False)
    monkeypatch.setattr(train, "query_vectors", lambda pipeline, qs: [None] * len(qs))
    one_by_one = train.build_examples(main, items, progress=False)
    assert train.examples_hash(ahead, set()) == train.examples_hash(one_by_one, set())
