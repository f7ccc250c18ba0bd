"""The evaluation: metric arithmetic on hand-made records, the CI gate, and ``shiori eval``.

The ``shiori eval`` runs use the fixture corpus with the fake embedder and the
bigram tokenizer, so they take seconds; they check the gate and the report
format, not answer quality (the real-model gold eval does that).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import GoldFormatError, UsageError
from assistant.evaluate import (
    LOWER_IS_BETTER,
    METRICS,
    ItemRecord,
    check_thresholds,
    compute_metrics,
    load_thresholds,
    markdown_table,
    run,
)
from assistant.gold import load_gold
from assistant.pipeline import Pipeline

FIXTURE_CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
DOC_A = "000_abc3feaaa769dd63.txt"
DOC_B = "001_8bae912a65e0535e.txt"


def _rec(
    id_: str,
    kind: str,
    *,
    answer: str = "",
    abstained: bool = False,
    spans: list[tuple[int, int]] = (),
    latency: float = 0.0,
    answer_correct: bool | None = None,
    citation_correct: bool | None = None,
    rank: int | None = None,
) -> ItemRecord:
    cits = [{"doc": DOC_A, "first_line": a, "last_line": b} for a, b in spans]
    return ItemRecord(
        id_,
        kind,
        f"question {id_}",
        answer,
        abstained,
        cits,
        [],
        latency,
        answer_correct,
        citation_correct,
        rank,
    )


RECORDS = [
    _rec(
        "r1",
        "fact",
        answer="abcd",
        spans=[(5, 7)],
        latency=10,
        answer_correct=True,
        citation_correct=True,
        rank=1,
    ),
    _rec(
        "r2",
        "number",
        answer="ab",
        spans=[(1, 1)],
        latency=20,
        answer_correct=False,
        citation_correct=True,
        rank=3,
    ),
    _rec(
        "r3",
        "why",
        answer="abcdef",
        spans=[(10, 19), (30, 80)],
        latency=30,
        answer_correct=True,
        citation_correct=False,
        rank=None,
    ),
    _rec(
        "r4",
        "fact",
        answer="資料には…",
        abstained=True,
        latency=40,
        answer_correct=False,
        citation_correct=False,
        rank=7,
    ),
    _rec("r5", "cite", answer="（出典：…）", spans=[(2, 3)], latency=50, citation_correct=True, rank=2),
    _rec("r6", "none", answer="資料には…", abstained=True, latency=60),
    _rec("r7", "none", answer="xyz", spans=[(4, 4)], latency=70),
]


def test_compute_metrics_by_hand() -> None:
    m = compute_metrics(RECORDS)
    assert list(m) == list(METRICS)
    # answerable items with a judged answer: r1 r2 r3 r4 -> 2 correct
    assert m["answer_accuracy"] == 0.5
    # answerable (not "none"): r1..r5 -> r1 r2 r5 correct
    assert m["citation_accuracy"] == 0.6
    assert m["recall_at_1"] == 0.2  # r1
    assert m["recall_at_5"] == 0.6  # r1 (1), r2 (3), r5 (2); r4 is rank 7, r3 not found
    assert m["mrr_at_10"] == round((1 + 1 / 3 + 0 + 1 / 7 + 1 / 2) / 5, 4) == 0.3952
    assert m["abstention_precision"] == 0.5  # abstained r4 (answerable) and r6 (none)
    assert m["abstention_recall"] == 0.5  # none items r6 (abstained) and r7 (answered)
    assert m["latency_ms_p50"] == 40.0
    assert m["latency_ms_p95"] == 67.0  # linear interpolation between 60 and 70
    assert m["answer_chars_mean"] == 3.75  # answered, not cite: r1 4, r2 2, r3 6, r7 3
    assert m["cited_lines_mean"] == 3.4  # first citation of answered items: 3, 1, 10, 2, 1


def test_compute_metrics_without_items_of_a_kind_gives_none() -> None:
    empty = compute_metrics([])
    assert set(empty) == set(METRICS) and all(v is None for v in empty.values())
    only_none = compute_metrics([r for r in RECORDS if r.kind == "none"])
    assert only_none["answer_accuracy"] is None and only_none["recall_at_5"] is None
    assert only_none["abstention_recall"] == 0.5
    nothing_abstained = compute_metrics(RECORDS[:3])
    assert nothing_abstained["abstention_precision"] is None


def test_markdown_table_lists_every_metric() -> None:
    from assistant.evaluate import Report

    rep = Report({}, compute_metrics(RECORDS), {"fact": compute_metrics(RECORDS[:1])}, RECORDS)
    table = markdown_table(rep)
    assert table.splitlines()[0] == "| metric | overall | fact |"
    for metric in METRICS:
        assert f"| {metric} |" in table
    assert "| answer_accuracy | 0.500 | 1.000 |" in table


# ------------------------------------------------------------------------- gate

REPORT = {
    "overall": {
        "answer_accuracy": 0.72,
        "citation_accuracy": 0.8,
        "recall_at_5": 0.9,
        "latency_ms_p95": 400.0,
        "cited_lines_mean": 2.5,
        "abstention_recall": None,
    },
    "by_kind": {"fact": {"answer_accuracy": 0.9}, "en": {"answer_accuracy": 0.5}},
}


def test_gate_passes_when_every_metric_meets_its_threshold() -> None:
    thresholds = {
        "overall": {
            "answer_accuracy": 0.72,
            "citation_accuracy": 0.7,
            "latency_ms_p95": 500,
            "cited_lines_mean": 3,
        },
        "by_kind": {"fact": {"answer_accuracy": 0.85}},
    }
    assert check_thresholds(REPORT, thresholds) == []  # equal to the threshold passes


def test_gate_names_the_metric_that_dropped() -> None:
    failures = check_thresholds(REPORT, {"overall": {"answer_accuracy": 0.75, "recall_at_5": 0.8}})
    assert failures == ["overall.answer_accuracy = 0.72 is below the threshold 0.75 (by 0.0300)"]
    failures = check_thresholds(
        REPORT, {"by_kind": {"en": {"answer_accuracy": 0.6}, "fact": {"answer_accuracy": 0.6}}}
    )
    assert len(failures) == 1 and failures[0].startswith("by_kind.en.answer_accuracy = 0.5 is below")


def test_gate_treats_lower_is_better_metrics_as_maxima() -> None:
    assert {"latency_ms_p50", "latency_ms_p95", "answer_chars_mean", "cited_lines_mean"} == LOWER_IS_BETTER
    assert check_thresholds(REPORT, {"overall": {"latency_ms_p95": 450, "cited_lines_mean": 2.5}}) == []
    failures = check_thresholds(REPORT, {"overall": {"latency_ms_p95": 300, "cited_lines_mean": 2.0}})
    assert failures == [
        "overall.latency_ms_p95 = 400.0 is above the maximum 300",
        "overall.cited_lines_mean = 2.5 is above the maximum 2.0",
    ]


def test_gate_fails_on_metrics_missing_from_the_report() -> None:
    failures = check_thresholds(
        REPORT, {"overall": {"abstention_recall": 0.5}, "by_kind": {"list": {"recall_at_5": 0.5}}}
    )
    assert failures == [
        "overall.abstention_recall: missing from the report (threshold 0.5)",
        "by_kind.list.recall_at_5: missing from the report (threshold 0.5)",
    ]


def test_load_thresholds(tmp_path: Path) -> None:
    good = tmp_path / "ok.toml"
    good.write_text(
        "[overall]\nanswer_accuracy = 0.7\nlatency_ms_p95 = 800\n\n[by_kind.en]\nrecall_at_5 = 0.5\n",
        encoding="utf-8",
    )
    assert load_thresholds(good) == {
        "overall": {"answer_accuracy": 0.7, "latency_ms_p95": 800},
        "by_kind": {"en": {"recall_at_5": 0.5}},
    }
    cases = {
        "[overall]\nanswer_acuracy = 0.7\n": "unknown metric overall.answer_acuracy",
        "[overall]\nanswer_accuracy = 'high'\n": "must be a number",
        "[overall\n": "is not valid TOML",
    }
    for text, expected in cases.items():
        bad = tmp_path / "bad.toml"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(UsageError, match=expected):
            load_thresholds(bad)
    with pytest.raises(UsageError, match="cannot read thresholds file"):
        load_thresholds(tmp_path / "missing.toml")


# ------------------------------------------------------------------ gold loading


def test_load_gold_errors_give_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    ok = {
        "id": "T1",
        "kind": "fact",
        "question": "q",
        "answers": ["a"],
        "all_required": False,
        "doc": DOC_A,
        "lines": [1, 2],
    }
    path.write_text(
        "\n".join(
            [
                json.dumps(ok),
                "{not json",
                "",
                json.dumps({**ok, "id": "T2", "kind": "trivia"}),
                json.dumps({**ok, "id": "T3", "lines": [5, 2]}),
                json.dumps(ok),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(GoldFormatError) as err:
        load_gold(path)
    msg = err.value.message
    assert msg.startswith(f"4 bad line(s) in gold file {path}")
    assert f"{path}:2: invalid JSON" in msg
    assert f"{path}:4: unknown kind 'trivia'" in msg
    assert f"{path}:5: lines is reversed" in msg
    assert f"{path}:6: duplicate id 'T1' (first used on line 1)" in msg
    assert ":1:" not in msg and ":3:" not in msg


# ---------------------------------------------------------------- run + CLI gate

TINY_GOLD = [
    {
        "id": "T1",
        "kind": "number",
        "question": "予算額はいくらか。",
        "answers": ["12億円"],
        "all_required": False,
        "doc": DOC_A,
        "lines": [12, 12],
    },
    {
        "id": "T2",
        "kind": "fact",
        "question": "ITER機構長が総理を表敬したのはいつか。",
        "answers": ["2023年11月30日"],
        "all_required": False,
        "doc": DOC_B,
        "lines": [3, 3],
    },
    {
        "id": "T3",
        "kind": "cite",
        "question": "2023年4月に初めての国家戦略が策定された。",
        "answers": [],
        "all_required": False,
        "doc": DOC_A,
        "lines": [3, 3],
    },
    {
        "id": "T4",
        "kind": "none",
        "question": "火星探査の予算はいくらか。",
        "answers": [],
        "all_required": False,
        "doc": None,
        "lines": None,
    },
]


@pytest.fixture
def tiny(tmp_path: Path) -> dict[str, Path]:
    shutil.copytree(FIXTURE_CORPUS, tmp_path / "corpus")
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in TINY_GOLD), encoding="utf-8")
    return {"corpus": tmp_path / "corpus", "index": tmp_path / "index", "gold": gold, "root": tmp_path}


def test_run_produces_the_interface_report(tiny: dict[str, Path]) -> None:
    s = Settings.from_env(
        environ={}, corpus_dir=tiny["corpus"], index_dir=tiny["index"], embedder="fake", tokenizer="bigram"
    )
    report = run(Pipeline(s, progress=False), load_gold(tiny["gold"]), config=s.to_dict(), progress=False)
    data = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert list(data["overall"]) == list(METRICS)
    assert set(data["by_kind"]) == {"number", "fact", "cite", "none"}
    assert data["config"]["embedder"] == "fake"
    assert [i["id"] for i in data["items"]] == ["T1", "T2", "T3", "T4"]
    for item in data["items"]:
        assert {
            "id",
            "kind",
            "question",
            "answer",
            "abstained",
            "citations",
            "retrieved",
            "latency_ms",
        } <= set(item)
        assert 1 <= len(item["retrieved"]) <= 10
        for span in item["citations"] + item["retrieved"]:
            assert set(span) == {"doc", "first_line", "last_line"}
    none_item = data["items"][3]
    assert none_item["rank"] is None and none_item["citation_correct"] is None


def _eval(tiny: dict[str, Path], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    env.update(
        SHIORI_CORPUS_DIR=str(tiny["corpus"]),
        SHIORI_INDEX_DIR=str(tiny["index"]),
        SHIORI_EMBEDDER="fake",
        SHIORI_TOKENIZER="bigram",
        PYTHONIOENCODING="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "-q", "eval", *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_cli_eval_gate_fails_naming_the_impossible_metric(tiny: dict[str, Path]) -> None:
    thresholds = tiny["root"] / "thresholds.toml"
    thresholds.write_text(
        "[overall]\nanswer_accuracy = 1.01\nlatency_ms_p50 = 0.0\n[by_kind.number]\nrecall_at_5 = 0.0\n",
        encoding="utf-8",
    )
    out = tiny["root"] / "report.json"
    proc = _eval(tiny, "--gold", str(tiny["gold"]), "--thresholds", str(thresholds), "--json", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "EVAL GATE FAILED" in proc.stderr
    assert "overall.answer_accuracy = " in proc.stderr and "is below the threshold 1.01" in proc.stderr
    assert "overall.latency_ms_p50 = " in proc.stderr and "is above the maximum 0.0" in proc.stderr
    assert "by_kind.number" not in proc.stderr  # the satisfiable one passes
    assert "| answer_accuracy |" in proc.stdout  # the table still goes to stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    assert list(report["overall"]) == list(METRICS) and len(report["items"]) == len(TINY_GOLD)


def test_cli_eval_gate_passes(tiny: dict[str, Path]) -> None:
    thresholds = tiny["root"] / "thresholds.toml"
    thresholds.write_text("[overall]\nrecall_at_5 = 0.0\nlatency_ms_p95 = 1e9\n", encoding="utf-8")
    md = tiny["root"] / "report.md"
    proc = _eval(tiny, "--gold", str(tiny["gold"]), "--thresholds", str(thresholds), "--markdown", str(md))
    assert proc.returncode == 0, proc.stderr
    assert "eval gate passed" in proc.stderr
    assert md.read_text(encoding="utf-8").startswith("# shiori eval")


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("bad_gold", ":2: invalid JSON"),
        ("missing_gold", "gold file not found"),
        ("bad_thresholds", "unknown metric overall.accuracy"),
    ],
)
def test_cli_eval_bad_files_exit_2_before_any_work(tiny: dict[str, Path], setup: str, expected: str) -> None:
    gold, thresholds = tiny["gold"], tiny["root"] / "t.toml"
    thresholds.write_text("[overall]\nrecall_at_5 = 0.0\n", encoding="utf-8")
    if setup == "bad_gold":
        gold.write_text(json.dumps(TINY_GOLD[0]) + "\n{oops\n", encoding="utf-8")
    elif setup == "missing_gold":
        gold = tiny["root"] / "nope.jsonl"
    else:
        thresholds.write_text("[overall]\naccuracy = 0.9\n", encoding="utf-8")
    proc = _eval(tiny, "--gold", str(gold), "--thresholds", str(thresholds))
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert not tiny["index"].exists()  # nothing was built


def test_report_states_targets_gaps_and_side_by_side():
    from assistant.evaluate import Report, headline, render_report, targets_table

    recs = [
        _rec("A", "fact", answer_correct=True, citation_correct=True, rank=1),
        _rec("B", "fact", answer_correct=False, citation_correct=False, rank=None),
        _rec("N", "none", abstained=True),
    ]
    main = Report({"embedder": "fake", "mode": "hybrid", "fusion": "weighted"}, compute_metrics(recs),
                  {"fact": compute_metrics(recs[:2]), "none": compute_metrics(recs[2:])}, recs)
    other = Report({}, compute_metrics(recs[:2]), {}, recs[:2])
    table = targets_table(main)
    assert "| answer_accuracy | 0.85 | 0.500 | short by 0.350 |" in table
    assert "| abstention_precision | 0.80 | 1.000 | met |" in table
    assert "answer_accuracy (fact)" in table
    # A report whose metrics have no items still renders (dashes, not a crash).
    empty = Report({}, compute_metrics([]), {}, [])
    assert "–" in headline(empty)
    md = render_report(main, {"llama-index defaults": other}, "gold.jsonl", 3)
    assert "## Side by side" in md and "llama-index defaults" in md and "## Targets" in md
