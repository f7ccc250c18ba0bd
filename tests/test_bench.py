"""The benchmark's internals on tiny sizes: data, exact search, recall, workers, tables."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.evaluate import METRICS, ItemRecord, compute_metrics
from assistant.gold import GoldItem
from bench.report import scale_report, versus_table
from bench.scale import (
    crossing,
    exact_topk,
    recall_at_k,
    run_scale,
    switch_point,
    synth_block,
    synth_passages,
    synth_to_file,
)
from bench.table import markdown_table, verdict
from bench.util import run_child
from bench.versus import interleave, run_versus

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CORPUS = ROOT / "tests" / "fixtures" / "corpus"


def test_markdown_table_shape_and_cells() -> None:
    out = markdown_table(["name", "p50 ms", "ok"], [["a|b", 1.23456, True], ["c", None, False]])
    lines = out.splitlines()
    assert lines[0] == "| name | p50 ms | ok |"
    assert lines[1] == "|---|---:|---|"
    assert lines[2] == "| a\\|b | 1.23 | yes |"
    assert lines[3] == "| c | – | no |"
    with pytest.raises(ValueError):
        markdown_table(["a", "b"], [[1]])
    assert verdict(1.1, 1.25) == "met" and verdict(0.8, 0.9, higher_is_better=True) == "missed"


def test_synthetic_vectors_exact_search_and_recall(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    base = synth_block(np.eye(384, dtype=np.float32)[:50], 50, rng)
    synth_to_file(tmp_path / "v.npy", base, 2_000, seed=1, chunk=700)
    v = np.load(tmp_path / "v.npy", mmap_mode="r")
    assert v.shape == (2_000, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    q = synth_block(base, 7, rng)
    got = exact_topk(v, q, k=10, chunk=300)
    want = np.argsort(-(q @ np.asarray(v).T), axis=1)[:, :10]
    assert recall_at_k(got, want) == 1.0
    assert recall_at_k(got[:, ::-1], want) == 1.0  # order inside the top k does not matter
    assert recall_at_k(np.zeros_like(got), want) <= 0.1


def test_crossing_and_switch_point() -> None:
    assert crossing([(10_000, 2.0), (100_000, 20.0)], 10.0) == pytest.approx(50_000, rel=1e-6)
    assert crossing([(10_000, 30.0), (100_000, 200.0)], 10.0) > 0  # never negative
    fake = {
        "dense": [
            {
                "n": n,
                "case": "shiori-flat+sent",
                "rows": [{"config": "x", "p50_ms": t, "p50_ms_1thread": t, "recall_at_10": None}],
            }
            for n, t in ((10_000, 4.0), (100_000, 40.0))
        ]
        + [
            {
                "n": 100_000,
                "case": "hnsw",
                "rows": [
                    {"config": "efSearch=64", "p50_ms": 0.5, "p50_ms_1thread": 0.4, "recall_at_10": 0.97}
                ],
            }
        ]
    }
    sw = switch_point(fake, budget_ms=10.0)
    assert sw["recommended_threshold"] == 20_000
    assert sw["fastest_ann_at_recall_0.95"]["100000"]["p50_ms"] == 0.4


def test_synth_passages_reach_target_length() -> None:
    sentences = ["あいうえお。", "かきくけこさしすせそ。", "たちつてと。"]
    picks, counts = synth_passages(sentences, 200, seed=3, target=40)
    off = np.concatenate(([0], np.cumsum(counts)))
    lengths = [sum(len(sentences[j]) for j in picks[off[i] : off[i + 1]]) for i in range(200)]
    assert len(counts) == 200 and min(lengths) >= 40 and max(lengths) < 40 + 11


def test_vectorised_bm25_matches_bm25index_build() -> None:
    from assistant.bm25 import BM25Index, bigram_tokenize
    from bench.bm25_fast import build_from_sentences
    from bench.scale import passage_texts

    sentences = ["あいうえお。", "かきくけこ。", "さしすせそたちつ。", "abc def。", "x"]
    tokens = [bigram_tokenize(s) for s in sentences]
    picks, counts = synth_passages(sentences, 300, seed=1, target=20)
    off = np.concatenate(([0], np.cumsum(counts)))
    lists = iter([[t for j in picks[off[i] : off[i + 1]] for t in tokens[j]] for i in range(300)])
    ref = BM25Index.build(passage_texts(sentences, picks, counts), lambda _text: next(lists))
    fast = build_from_sentences(tokens, picks, counts)
    assert fast.vocab == ref.vocab and fast.n_docs == ref.n_docs and fast.params == ref.params
    assert np.array_equal(fast.offsets, ref.offsets) and np.array_equal(fast.docs, ref.docs)
    assert np.allclose(fast.weights, ref.weights, rtol=1e-6)
    got, want = fast.search(["かき", "abc"], 5), ref.search(["かき", "abc"], 5)
    assert [r for r, _ in got] == [r for r, _ in want]
    assert np.allclose([x for _, x in got], [x for _, x in want], rtol=1e-6)


class _Recorder:
    """A system that answers nothing and notes who was asked what, in order."""

    def __init__(self, name: str, log: list[tuple[str, str]]) -> None:
        self.name, self.log = name, log

    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> SimpleNamespace:
        self.log.append((self.name, question))
        return SimpleNamespace(answer="", abstained=True, citations=[], retrieved=[])

    def cite(self, sentences: list[str], k: int | None = None) -> list[SimpleNamespace]:
        self.log.append((self.name, sentences[0]))
        return [SimpleNamespace(citation="", strength="none", sources=[], retrieved=[])]


def test_interleave_alternates_which_system_goes_first() -> None:
    log: list[tuple[str, str]] = []
    items = [
        GoldItem(f"G{i}", "cite" if i == 2 else "fact", f"q{i}", (), False, None, None) for i in range(4)
    ]
    a, b = interleave([_Recorder("a", log), _Recorder("b", log)], items)
    assert [n for n, _ in log] == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert [q for _, q in log] == ["q0", "q0", "q1", "q1", "q2", "q2", "q3", "q3"]
    assert [r.id for r in a] == [r.id for r in b] == ["G0", "G1", "G2", "G3"]


VERSUS_GOLD = [
    GoldItem("T1", "number", "予算額はいくらか。", ("12億円",), False, "000_abc3feaaa769dd63.txt", (12, 12)),
    GoldItem(
        "T2",
        "fact",
        "ITER機構長が総理を表敬したのはいつか。",
        ("2023年11月30日",),
        False,
        "001_8bae912a65e0535e.txt",
        (3, 3),
    ),
    GoldItem(
        "T3",
        "cite",
        "2023年4月に初めての国家戦略が策定された。",
        (),
        False,
        "000_abc3feaaa769dd63.txt",
        (3, 3),
    ),
    GoldItem("T4", "none", "火星探査の予算はいくらか。", (), False, None, None),
]


@pytest.mark.slow
def test_versus_runs_both_systems_through_the_eval_code(tmp_path: Path) -> None:
    """The real model and MeCab on the fixture corpus; llama-index defaults on the same embedder."""
    from assistant.config import Settings
    from assistant.pipeline import Pipeline

    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    settings = Settings.from_env(environ={}, corpus_dir=corpus, index_dir=tmp_path / "index")
    pipeline = Pipeline(settings, progress=False)
    pipeline.index()
    v = run_versus(pipeline, corpus, VERSUS_GOLD, shiori_build_s=1.5)
    lines = {p.name: p.read_text(encoding="utf-8").split("\n") for p in corpus.glob("*.txt")}
    for key in ("shiori", "llamaindex"):
        r = v[key]
        assert r["items"] == 4 and [p["id"] for p in r["per_item"]] == ["T1", "T2", "T3", "T4"]
        # The summary is exactly assistant.evaluate's metrics over the per-item records.
        recs = [ItemRecord(**p) for p in r["per_item"]]
        assert {m: r[m] for m in METRICS} == compute_metrics(recs)
        for rec in recs:
            for span in rec.citations + rec.retrieved:
                assert 1 <= span["first_line"] <= span["last_line"] <= len(lines[span["doc"]])
    assert v["shiori"]["build_seconds"] == 1.5 and v["shiori"]["passages"] == pipeline.index().size
    base = v["llamaindex"]
    assert base["system"] == "llama-index defaults" and base["build_seconds"] > 0
    assert base["config"]["chunk_size"] == 1024 and base["config"]["top_k"] == 10
    # Two short documents: one default 1024-token node each, spanning the whole document.
    assert base["passages"] == 2
    t1 = base["per_item"][0]
    assert t1["rank"] == 1 and t1["answer_correct"] and not t1["abstained"]
    assert t1["citations"][0]["first_line"] == 1 and t1["citations"][0]["last_line"] >= 12
    assert base["abstention_recall"] == 0.0  # it never abstains
    assert v["shiori"]["recall_at_5"] == 1.0
    table = versus_table(v)
    assert "| system | passages | texts embedded | build s | query p50 ms | Recall@5 | answer acc. |" in table
    assert "| llama-index defaults | 2 |" in table and "top-10 retriever" in table


def test_child_peak_rss_is_its_own() -> None:
    """A small child of a large parent reports its own peak, not the parent's (see util._LAUNCHER)."""
    ballast = np.ones(300 * 2**20 // 8)  # ~300 MiB in this process
    small = run_child([sys.executable, "-c", "pass"], timeout=60)
    big = run_child([sys.executable, "-c", "b = bytearray(200 * 2**20)"], timeout=60)
    assert small.returncode == 0 and small.maxrss_kib < 100 * 1024
    assert 200 * 1024 <= big.maxrss_kib < 300 * 1024
    del ballast


def test_child_cpu_time_is_its_own() -> None:
    """CPU time (``wait4``) counts the child's work, not time spent waiting."""
    busy = run_child([sys.executable, "-c", "x = sum(i * i for i in range(3_000_000))"], timeout=60)
    idle = run_child([sys.executable, "-c", "import time; time.sleep(0.5)"], timeout=60)
    assert busy.returncode == 0 and idle.returncode == 0
    assert busy.cpu_s > 0.1 and idle.wall_s >= 0.5 and idle.cpu_s < 0.3


def test_cold_start_runs_the_interpreters_own_script() -> None:
    """Not whatever ``PATH`` finds first (a version manager's shim starts other processes)."""
    from bench.cold import shiori_command

    cmd = shiori_command()
    assert cmd[1:] == ["-m", "assistant.cli"] or Path(cmd[0]).parent == Path(sys.executable).parent


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_cold_ab_code_copies_are_compiled_packages(tmp_path: Path) -> None:
    from bench.cold import WORKTREE, code_copy, describe_rev

    head = code_copy("HEAD", tmp_path / "head")
    work = code_copy(WORKTREE, tmp_path / "work")
    for copy in (head, work):
        assert (copy / "assistant" / "cli.py").is_file()
        assert list((copy / "assistant" / "__pycache__").glob("cli.*.pyc"))
    assert describe_rev("HEAD") and describe_rev(WORKTREE).startswith(describe_rev("HEAD"))


def test_cold_ab_table() -> None:
    from bench.report import cold_ab_table

    def version(wall: float, cpu: float) -> dict[str, float]:
        return {"wall_median_s": wall, "cpu_median_s": cpu, "wall_over_bare": wall / 0.4, "cpu_over_bare": cpu / 0.2,
                "median_round_wall_over_bare": wall / 0.4}

    table = cold_ab_table({"rounds": 3, "loadavg_1min": [0.5, 1.5], "revisions": {"old": "abc1234", "new": "abc1234+"},
                           "versions": {"old": version(0.64, 0.32), "new": version(0.56, 0.28), "bare": version(0.4, 0.2)}})
    assert "| `ask` of old (abc1234) | 0.640 | 0.320 | 1.600 | 1.600 |" in table
    assert "| `ask` of new (abc1234+) | 0.560 | 0.280 | 1.400 | 1.400 | 1.400 | met / met |" in table
    assert "missed / missed" in table and "3 rounds" in table and "load average 0.5-1.5" in table


def test_scale_study_runs_on_tiny_sizes(tmp_path: Path) -> None:
    res = run_scale(
        [2_000],
        tmp_path,
        out=tmp_path / "scale.json",
        cases=("numpy-flat", "hnsw", "ivf"),
        bm25=False,
        base_source="random",
        timeout=120,
    )
    assert (tmp_path / "scale.json").exists()
    by_case = {e["case"]: e for e in res["dense"]}
    assert set(by_case) == {"numpy-flat", "hnsw", "ivf"}
    assert by_case["numpy-flat"]["rows"][0]["recall_at_10"] == 1.0
    assert by_case["ivf"]["params"]["nlist"] == round(4 * 2_000**0.5)
    assert len(by_case["hnsw"]["rows"]) == 7  # HnswStore.search + the efSearch sweep
    for e in res["dense"]:
        assert e["size_bytes"] > 2_000 * 384 * 4 * 0.9
        assert 0 < e["serve_maxrss_kib"] < 2 * 1024**2
    table = scale_report(res)
    assert (
        "| passages | method | config | build s | size MiB | build RSS MiB | serve RSS MiB | p50 ms |"
        in table
    )
    assert "recall@10 |" in table and "### Switch point" in table


def test_e2e_scale_case_on_a_tiny_corpus(tmp_path: Path) -> None:
    """``python -m bench scale --e2e`` on 1,500 passages (fake vectors, bigram tokens): the writer
    builds the index from generated copies that the build's own stages re-derive identically, the
    unchanged pipeline loads and queries it, and ``shiori add`` + ``shiori index`` update it in place."""
    from bench.e2e import run_e2e
    from bench.report import e2e_report

    res = run_e2e(1_500, tmp_path / "work", tmp_path / "e2e.json", queries=10,
                  settings={"embedder": "fake", "tokenizer": "bigram"}, source=ROOT / "tests" / "fixtures" / "corpus",
                  templates=3, template_chars=1_200)
    b, s, u = res["build"], res["serve"], res["update"]
    assert b["passages"] >= 1_500 and b["verified_copies"] == 20 and b["dense"] == "flat"
    assert s["passages"] == b["passages"] and s["load_s"] < 30
    assert s["query"]["ops"]["ask"]["n"] == 10
    assert u["updates"] == 1 and u["passages"] > b["passages"]
    assert res["after_update"]["new_doc_in_top5"] and res["after_update"]["updates"] == 1
    table = e2e_report(res)
    assert "| load (`Pipeline.index()`), s |" in table and "| `shiori index` / full build |" in table
    assert json.loads((tmp_path / "e2e.json").read_text(encoding="utf-8"))["kind"] == "e2e"


def test_serve_bench_against_the_app(tmp_path: Path) -> None:
    """``python -m bench serve`` on the fixture corpus with the fake embedder: both servers answer
    every request from 1 and 3 concurrent clients over HTTP and in process."""
    from bench.report import serve_report
    from bench.serve import run_serve

    res = run_serve(tmp_path, [1, 3], env_extra={"SHIORI_EMBEDDER": "fake", "SHIORI_TOKENIZER": "bigram"},
                    corpus_src=ROOT / "tests" / "fixtures" / "corpus", requests={1: 3, 3: 2})
    runs = res["runs"]
    assert {(r["server"], r["clients"], r["via"]) for r in runs} == {
        (s, c, v) for s in ("unbatched", "batched") for c in (1, 3) for v in ("http", "in-process")}
    assert all(r["errors"] == 0 and r["requests"] == r["clients"] * (3 if r["clients"] == 1 else 2) for r in runs)
    assert "| server | clients | requests | requests/s | × unbatched |" in serve_report(res)


@pytest.mark.slow
def test_bench_quick_end_to_end(tmp_path: Path) -> None:
    """``python -m bench --quick`` with the real model (minutes: build, query path, cold start).

    ``.ci/run`` runs the quick bench (every section) just before the tests and names its output
    (``SHIORI_BENCH_QUICK_RUN``: the tables in PREFIX.md, the JSON in PREFIX.json): that run is
    checked here instead of running the same command a second time.
    """
    given = os.environ.get("SHIORI_BENCH_QUICK_RUN")
    if given:
        out = ROOT / f"{given}.json"
        stdout = (ROOT / f"{given}.md").read_text(encoding="utf-8")
    else:
        out = tmp_path / "latest.json"
        proc = subprocess.run(
            [sys.executable, "-m", "bench", "--quick", "--sections", "query,cold", "--json", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        stdout = proc.stdout
    assert "| operation | p50 ms | p95 ms | min ms | p50 / floor p50 |" in stdout
    assert "| ask (hybrid + extractive answer) |" in stdout and "### Build" in stdout
    assert "yardstick median s" in stdout and out.exists()
    assert json.loads(out.read_text(encoding="utf-8"))["quick"] is True
    cold = json.loads(out.read_text(encoding="utf-8"))["cold"]
    # llama-index is for assistant.llama_index only: never on the CLI's cold path.
    assert "llama_index" not in cold["heavy_modules_after_ask"]
    assert cold["heavy_modules_after_import"] == []


def test_batch_throughput_runs_the_command_and_compares(tmp_path: Path) -> None:
    from assistant.config import Settings
    from assistant.pipeline import Pipeline
    from bench.batch import run_batch_throughput
    from bench.report import batch_table

    shutil.copytree(FIXTURE_CORPUS, tmp_path / "corpus")
    settings = Settings.from_env(
        environ={}, corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", embedder="fake", tokenizer="bigram"
    )
    pipeline = Pipeline(settings, progress=False)
    questions = ["予算額はいくらか。", "産業協議会はいつ設立されたか。", "原型炉開発で何を加速するか。"] * 4
    res = run_batch_throughput(pipeline, questions, tmp_path / "work", rounds=2, new_process=False)
    assert res["questions"] == 12 and len(res["warm_ask_s"]) == len(res["batch_s"]) == 2
    assert res["last_summary"]["rows"] == 12 and res["last_summary"]["errors"] == 0
    assert (tmp_path / "work" / "questions.answers.xlsx").is_file()
    assert res["batch_over_warm"] > 0 and res["batch_answer_over_warm"] >= res["batch_over_warm"] * 0.5
    table = batch_table(res)
    assert "| one `ask --batch` run: load index and model" in table and "≥ 0.9×" in table
