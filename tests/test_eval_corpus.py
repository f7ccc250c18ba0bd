"""``shiori eval --corpus DIR``: another corpus, evaluated with its own index, side by side.

Two small corpora in a temp directory: a copy of the fixture corpus, and one
built with ``shiori add`` from a generated PDF and .docx. Each has a gold file;
the CLI runs as a subprocess with the fake embedder (similarity cut-offs off:
its similarities are not the real model's).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_docx import docx_bytes
from test_pages import make_pdf

from assistant.corpus import add_document, load_corpus, write_manifest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    return subprocess.run([sys.executable, "-m", "assistant.cli", "-q", *args],
                          env={**base, "PYTHONIOENCODING": "utf-8", **env}, cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", timeout=300)


def _item(id_: str, kind: str, question: str, answers: list[str], doc: str | None, lines: list[int] | None) -> str:
    return json.dumps({"id": id_, "kind": kind, "question": question, "answers": answers, "all_required": False,
                       "doc": doc, "lines": lines}, ensure_ascii=False)


def _line_of(corpus: Path, doc: str, text: str) -> int:
    return next(n for n, ln in enumerate(load_corpus(corpus)[[d.id for d in load_corpus(corpus)].index(doc)].lines,
                                         start=1) if text in ln)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpora")
    a = root / "seed" / "corpus"
    shutil.copytree(FIXTURE_CORPUS, a)
    docs = [d.id for d in load_corpus(a)]
    (root / "seed" / "gold.jsonl").write_text("\n".join([
        _item("A1", "number", "予算額はいくらか。", ["12億円"], docs[0], [12, 12]),
        _item("A2", "fact", "ITER機構長が総理を表敬したのはいつか。", ["2023年11月30日"], docs[1], [3, 3]),
        _item("A3", "none", "核融合発電所の建設費用はいくらか。", [], None, None),
    ]) + "\n", encoding="utf-8")

    b = root / "extra" / "corpus"
    write_manifest(b, [])
    (root / "plan.pdf").write_bytes(make_pdf())
    (root / "dx.docx").write_bytes(docx_bytes())
    pdf = add_document(b, root / "plan.pdf", title="地域交通再編計画").id
    dx = add_document(b, root / "dx.docx").id
    (root / "extra" / "gold.jsonl").write_text("\n".join([
        _item("X1", "number", "総事業費はいくらか。", ["4億2千万円"], pdf, [_line_of(b, pdf, "総事業費は")] * 2),
        _item("X2", "number", "マイナンバーカード保有率の目標は何%か。", ["90%"], dx,
              [_line_of(b, dx, "マイナンバーカード保有率 |")] * 2),
        _item("X2en", "en", "What is the target for the My Number Card holding rate?", ["90%"], dx,
              [_line_of(b, dx, "マイナンバーカード保有率 |")] * 2),
        _item("X3", "none", "水素ステーションの整備目標は何か所か。", [], None, None),
    ]) + "\n", encoding="utf-8")
    return {"root": root, "seed": a, "extra": b}


@pytest.fixture(scope="module")
def env(corpora: dict[str, Path]) -> dict[str, str]:
    return {"SHIORI_EMBEDDER": "fake", "SHIORI_TOKENIZER": "bigram", "SHIORI_ABSTAIN_THRESHOLD": "0",
            # The main index: an eval of another corpus must never build or touch it.
            "SHIORI_CORPUS_DIR": str(corpora["seed"]), "SHIORI_INDEX_DIR": str(corpora["root"] / "main-index")}


def test_eval_two_corpora_each_with_its_own_index_side_by_side(corpora: dict[str, Path], env: dict[str, str]) -> None:
    root = corpora["root"]
    # The gold file beside the corpus is the default.
    proc = run_cli("eval", "--corpus", str(corpora["seed"]), "--json", str(root / "seed.json"), env=env)
    assert proc.returncode == 0, proc.stderr
    thresholds = root / "t.toml"
    thresholds.write_text("[overall]\nrecall_at_5 = 0.01\n", encoding="utf-8")
    proc = run_cli("eval", "--corpus", str(corpora["extra"]), "--gold", str(root / "extra" / "gold.jsonl"),
                   "--json", str(root / "extra.json"), "--markdown", str(root / "EXTRA.md"),
                   "--beside", str(root / "seed.json"), "--thresholds", str(thresholds), env=env)
    assert proc.returncode == 0, proc.stderr
    assert "eval gate passed" in proc.stderr

    # Each corpus got its own index beside it; the main index was not built.
    assert (root / "seed" / "corpus.index" / "manifest.json").is_file()
    assert (root / "extra" / "corpus.index" / "manifest.json").is_file()
    assert not (root / "main-index").exists()

    data = json.loads((root / "extra.json").read_text(encoding="utf-8"))
    assert Path(data["config"]["corpus_dir"]) == corpora["extra"]
    assert Path(data["config"]["index_dir"]) == root / "extra" / "corpus.index"
    assert [i["id"] for i in data["items"]] == ["X1", "X2", "X2en", "X3"]
    assert data["overall"]["recall_at_5"] > 0
    docs = {d.id for d in load_corpus(corpora["extra"])}
    assert all(c["doc"] in docs for i in data["items"] for c in i["retrieved"])

    report = (root / "EXTRA.md").read_text(encoding="utf-8")
    assert "## The corpora side by side" in report
    assert "--corpus" in report and "--beside" in report
    table = report.split("## The corpora side by side", 1)[1]
    header = next(ln for ln in table.splitlines() if ln.startswith("| metric |"))
    # The saved report's column first, then this run's.
    assert header == (f"| metric | {corpora['seed']} ({root}/seed/gold.jsonl, 3 items) | "
                      f"{corpora['extra']} ({root}/extra/gold.jsonl, 4 items) |")
    assert "| answer_accuracy (en) |" in table and "| recall_at_5 |" in table
    assert header in proc.stdout  # the terminal shows it too


def test_eval_corpus_gate_failure_names_the_metric(corpora: dict[str, Path], env: dict[str, str]) -> None:
    root = corpora["root"]
    strict = root / "strict.toml"
    strict.write_text("[overall]\nrecall_at_5 = 1.01\n", encoding="utf-8")
    proc = run_cli("eval", "--corpus", str(corpora["extra"]), "--thresholds", str(strict), env=env)
    assert proc.returncode == 1
    assert "overall.recall_at_5" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--corpus", "{root}/nowhere"], "not a corpus directory"),
        (["--index", "{root}/i"], "--index goes with --corpus"),
        (["--corpus", "{root}/bare/corpus"], "needs --gold"),
        (["--corpus", "{root}/extra/corpus", "--gold", "{root}/seed/gold.jsonl"], "not in the corpus"),
        (["--corpus", "{root}/extra/corpus", "--beside", "{root}/t.toml"], "not valid JSON"),
    ],
)
def test_eval_corpus_bad_usage_exits_2(corpora: dict[str, Path], env: dict[str, str], args: list[str],
                                       message: str) -> None:
    root = corpora["root"]
    write_manifest(root / "bare" / "corpus", [])
    (root / "t.toml").write_text("[overall]\n", encoding="utf-8")
    proc = run_cli("eval", *[a.format(root=root) for a in args], env=env)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not (root / "main-index").exists()
