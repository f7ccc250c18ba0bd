"""docs/INTERFACE.md is what the CLI does: every documented command, flag, JSON field and metric.

The documentation is the input: the Commands block of docs/INTERFACE.md is parsed (each
``shiori ...`` signature, its flags, the JSON key lists after ``->`` and the ``"key":`` fields
named in its prose), and each item becomes one test case run against the real CLI
(``python -m assistant.cli``) on the fixture corpus with the fake embedder and the bigram
tokenizer. A field is "produced" when some output of the command has it; lists must have at
least one element for their elements' fields to count, so the inputs below include an
abstaining question (``related``) and an unsupported draft sentence.

Cases for what the contract documents but this code does not do yet are listed in
``PENDING`` and run as ``xfail(strict=True)``: the day one lands it passes, the strict xfail
fails, and its line here must go.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
INTERFACE = ROOT / "docs" / "INTERFACE.md"
FIXTURE_CORPUS = Path(__file__).resolve().parent / "fixtures" / "corpus"

#: Documented in docs/INTERFACE.md, not implemented on this branch yet. Keys are case ids
#: (see the test ids: ``flag:…``, ``json:…``, ``metric:…``, ``gold:…``, ``run:…``); a key
#: ending in ``*`` covers every case id it prefixes. Drop a line when its feature lands.
PENDING: dict[str, str] = {
}


def _pending(case_id: str) -> str | None:
    for key, reason in PENDING.items():
        if case_id == key or (key.endswith("*") and case_id.startswith(key[:-1])):
            return reason
    return None


def case(case_id: str, *values: Any) -> Any:
    """A ``pytest.param`` with id ``case_id``, strictly xfailed when the case is pending."""
    reason = _pending(case_id)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case_id, *values, id=case_id, marks=marks)


# ------------------------------------------------------------------ reading the document


@dataclass
class Shape:
    """A documented JSON value: object keys, list element, a reference, or enumerated values."""

    keys: dict[str, Shape | None] = field(default_factory=dict)
    element: Shape | None = None
    ref: str | None = None  # "same shape as <ref>"
    values: tuple[str, ...] = ()  # a closed "a" | "b" enumeration
    kind: str = "object"  # object | list | scalar


@dataclass
class Entry:
    """One ``shiori ...`` signature of the Commands block."""

    name: str  # "ask", "ask --batch", ...
    subcommand: str
    flags: list[str]
    text: str  # the indented lines below the signature
    shape: Shape | None = None
    prose: str = ""


_TOKEN = re.compile(r'"[^"\n]*"|[{}\[\],:|]|[^\s{}\[\],:|"]+')


def _parse(tokens: list[str], i: int) -> tuple[Shape, int]:
    t = tokens[i]
    if t == "{":
        shape, i = Shape(), i + 1
        while tokens[i] != "}":
            if tokens[i] == ",":
                i += 1
            elif tokens[i].startswith('"'):
                key, i = tokens[i][1:-1], i + 1
                value = None
                if tokens[i] == ":":
                    value, i = _parse(tokens, i + 1)
                shape.keys[key] = value
            else:  # an unquoted placeholder entry ({metric: value}, {...}): keys vary
                end = _skip(tokens, i)
                if end == i:
                    raise AssertionError(
                        f"docs/INTERFACE.md: cannot read the JSON at {tokens[i - 3 : i + 3]}"
                    )
                i = end
        return shape, i + 1
    if t == "[":
        if tokens[i + 1] == "{":
            element, i = _parse(tokens, i + 1)
            return Shape(kind="list", element=element), _skip(tokens, i, commas=False) + 1
        end = _skip(tokens, i + 1, commas=False)
        m = re.match(r"same shape as (\w+)", " ".join(tokens[i + 1 : end]))
        return Shape(kind="list", element=Shape(ref=m.group(1)) if m else None), end + 1
    end = _skip(tokens, i)
    words = tokens[i:end]
    closed = "|" in words and all(w.startswith('"') for w in words if w != "|")
    return Shape(kind="scalar", values=tuple(w[1:-1] for w in words if w != "|") if closed else ()), end


def _skip(tokens: list[str], i: int, commas: bool = True) -> int:
    """Index of the next ``}`` / ``]`` (or ``,`` when ``commas``) at this nesting depth."""
    depth = 0
    while True:
        t = tokens[i]
        if t in "{[" and len(t) == 1:
            depth += 1
        elif t in "}]" and len(t) == 1:
            if depth == 0:
                return i
            depth -= 1
        elif t == "," and depth == 0 and commas:
            return i
        i += 1


def _json_span(text: str) -> tuple[int, int] | None:
    """Start and end of the bracketed value that begins on the ``->`` line, if any."""
    arrow = text.find("->")
    if arrow < 0:
        return None
    line_end = text.find("\n", arrow)
    line_end = len(text) if line_end < 0 else line_end
    starts = [p for p in (text.find("{", arrow, line_end), text.find("[", arrow, line_end)) if p >= 0]
    if not starts:
        return None
    start, depth, quoted = min(starts), 0, False
    for pos in range(start, len(text)):
        ch = text[pos]
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "{[":
            depth += 1
        elif not quoted and ch in "}]":
            depth -= 1
            if depth == 0:
                return start, pos + 1
    raise AssertionError(f"unbalanced JSON in docs/INTERFACE.md near {text[start : start + 60]!r}")


@cache
def interface_text() -> str:
    return INTERFACE.read_text(encoding="utf-8")


def section(title: str) -> str:
    text = interface_text()
    m = re.search(rf"^## {re.escape(title)}[^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"docs/INTERFACE.md has no '## {title}' section"
    return m.group(1)


@cache
def entries() -> tuple[Entry, ...]:
    block = re.search(r"```\n(.*?)```", section("Commands"), re.S)
    assert block, "no code block in the Commands section"
    found: list[Entry] = []
    for chunk in re.split(r"^(?=shiori )", block.group(1), flags=re.M):
        if not chunk.startswith("shiori "):
            continue
        signature, _, body = chunk.partition("\n")
        signature = re.split(r"\s{2,}\(", signature)[0]  # drop "   (same as: ...)" remarks
        words = signature.split()
        name = words[1] + (f" {words[2]}" if len(words) > 2 and words[2].startswith("--") else "")
        flags = list(dict.fromkeys(re.findall(r"(?<![\w-])(-{1,2}[a-z][a-z-]*)", " ".join(words[2:]))))
        entry = Entry(name, words[1], flags, body)
        span = _json_span(body)
        if span:
            tokens = _TOKEN.findall(body[span[0] : span[1]])
            entry.shape, _ = _parse(tokens, 0)
            entry.prose = body[span[1] :]
        else:
            entry.prose = body
        for key in re.findall(r'"([a-z_]+)":', entry.prose):  # fields named in the prose
            if entry.shape is None:
                entry.shape = Shape()
            entry.shape.keys.setdefault(key, None)
        summary = re.search(r"prints a summary \(([^)]*)\)", body)
        if summary:  # `shiori index`: the summary's fields, as `index --json` prints them
            entry.shape = Shape(keys={k.strip(): None for k in summary.group(1).split(",")})
        found.append(entry)
    return tuple(found)


def entry(name: str) -> Entry:
    return next(e for e in entries() if e.name == name)


def _resolve(ref: str, upto: Entry) -> Shape | None:
    """The shape a "same shape as <ref>" refers to: in this entry, else the nearest one before."""
    listed = list(entries())
    for e in [upto, *reversed(listed[: listed.index(upto)])]:
        if e.shape is None:
            continue
        found = _find_key(e.shape, ref)
        if found is not None:
            return found.element if found.kind == "list" else found
    return None


def _find_key(shape: Shape, key: str) -> Shape | None:
    if key in shape.keys and shape.keys[key] is not None:
        return shape.keys[key]
    for sub in [*shape.keys.values(), shape.element]:
        if sub is not None:
            hit = _find_key(sub, key)
            if hit is not None:
                return hit
    return None


def documented_paths(e: Entry) -> dict[str, tuple[str, ...]]:
    """``path -> closed enumeration`` for every documented field of ``e`` (``results[].rank``)."""
    out: dict[str, tuple[str, ...]] = {}

    def walk(shape: Shape | None, prefix: str) -> None:
        if shape is None:
            return
        if shape.ref:
            walk(_resolve(shape.ref, e), prefix)
            return
        if shape.kind == "list":
            walk(shape.element, prefix + "[]")
            return
        for key, sub in shape.keys.items():
            path = f"{prefix}.{key}" if prefix else key
            out[path] = sub.values if sub is not None else ()
            walk(sub, path)

    walk(e.shape, "")
    return out


def produced_paths(
    value: Any, prefix: str = "", out: dict[str, list[Any]] | None = None
) -> dict[str, list[Any]]:
    """``path -> values seen`` for every key of a JSON document."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for key, sub in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out.setdefault(path, []).append(sub)
            produced_paths(sub, path, out)
    elif isinstance(value, list):
        for sub in value:
            produced_paths(sub, prefix + "[]", out)
    return out


def metric_names() -> list[str]:
    """Backticked names with an underscore in the Metrics section (kinds and labels have none)."""
    return list(dict.fromkeys(re.findall(r"`([a-z][a-z0-9]*_[a-z0-9_]+)`", section("Metrics"))))


def store_commands() -> list[str]:
    """The commands the conventions say take ``--store``."""
    line = next(ln for ln in section("Conventions").splitlines() if "take `--store" in ln)
    return re.findall(r"`([a-z]+)`", line.split("take")[0])


def flag_cases() -> list[Any]:
    cases = [case(f"flag:{e.name}:{flag}", e.subcommand, flag) for e in entries() for flag in e.flags]
    cases += [case(f"flag:{name}:--store", name, "--store") for name in store_commands()]
    return cases


#: Commands whose JSON the module fixture collects (the others write files: see the run cases).
JSON_COMMANDS = ("chunks", "index", "search", "ask", "cite", "eval")


def json_cases() -> list[Any]:
    return [
        case(f"json:{name}:{path}", name, path, values)
        for name in JSON_COMMANDS
        for path, values in documented_paths(entry(name)).items()
    ]


# ------------------------------------------------------------------------ the real CLI


def run_cli(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        env={**base, "PYTHONIOENCODING": "utf-8", **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        cwd=ROOT,
    )


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, (proc.args, proc.stderr[-2000:])
    return proc


#: Inputs chosen so every list the contract documents has elements: an answered and an
#: abstaining question (``related``), a restated, a contradicted and an unrelated draft sentence.
QUESTIONS = ("予算額はいくらか。", "火星探査の予算はいくらか。")
DRAFTS = ("2023年4月に初の国家戦略を策定した。", "予算額は15億円である。", "今日の東京は晴れている。")
GOLD = [
    {"id": "T1", "kind": "number", "question": "予算額はいくらか。", "answers": ["12億円"],
     "doc": "000_abc3feaaa769dd63.txt", "lines": [12, 12]},
    {"id": "T2", "kind": "cite", "question": "2023年4月に初めての国家戦略が策定された。", "answers": [],
     "doc": "000_abc3feaaa769dd63.txt", "lines": [3, 3]},
    {"id": "T3", "kind": "none", "question": "火星探査の予算はいくらか。", "answers": [], "doc": None,
     "lines": None},
]  # fmt: skip


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("interface")
    shutil.copytree(FIXTURE_CORPUS, root / "corpus")
    gold = root / "gold.jsonl"
    gold.write_text("".join(json.dumps(g, ensure_ascii=False) + "\n" for g in GOLD), encoding="utf-8")
    env = {
        "SHIORI_CORPUS_DIR": str(root / "corpus"),
        "SHIORI_INDEX_DIR": str(root / "index"),
        "SHIORI_EMBEDDER": "fake",
        "SHIORI_TOKENIZER": "bigram",
    }
    return {"root": root, "env": env, "gold": gold}


@pytest.fixture(scope="module")
def produced(workdir: dict[str, Any]) -> dict[str, dict[str, list[Any]]]:
    """``command -> path -> values`` over the JSON outputs of the documented commands."""
    env, root = workdir["env"], workdir["root"]
    docs: dict[str, list[Any]] = {name: [] for name in JSON_COMMANDS}
    docs["index"].append(json.loads(ok(run_cli("-q", "index", "--json", env=env)).stdout))
    docs["chunks"].append(json.loads(ok(run_cli("chunks", "--json", env=env)).stdout))
    for mode in ("hybrid", "bm25"):
        docs["search"].append(
            json.loads(ok(run_cli("search", "予算額", "--mode", mode, "--json", env=env)).stdout)
        )
    # The fake embedder's similarities are unlike the real model's, on which abstention is
    # calibrated: the first question is asked never abstaining, the second always.
    answering = {**env, "SHIORI_ABSTAIN_THRESHOLD": "0"}
    abstaining = {**env, "SHIORI_ABSTAIN_THRESHOLD": "1.01"}
    for q, q_env in zip(QUESTIONS, (answering, abstaining), strict=True):
        docs["ask"].append(json.loads(ok(run_cli("ask", q, "--json", env=q_env)).stdout))
    assert [d["abstained"] for d in docs["ask"]] == [False, True]
    docs["cite"].append(json.loads(ok(run_cli("cite", *DRAFTS, "--json", env=env)).stdout))
    out = root / "report.json"
    ok(run_cli("-q", "eval", "--gold", str(workdir["gold"]), "--json", str(out), env=env))
    docs["eval"].append(json.loads(out.read_text(encoding="utf-8")))
    seen: dict[str, dict[str, list[Any]]] = {}
    for name, outputs in docs.items():
        seen[name] = {}
        for doc in outputs:
            produced_paths(doc, out=seen[name])
    return seen


@cache
def subcommand_help(sub: str) -> str:
    from assistant.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main([sub, "--help"]) == 0
    return buf.getvalue()


# ----------------------------------------------------------------------------- the tests


def test_the_document_parses_into_every_command() -> None:
    names = [e.name for e in entries()]
    assert names == [
        "chunks", "index", "search", "ask", "cite", "ask --batch", "cite --draft", "add", "eval", "serve",
    ]  # fmt: skip
    # The parser reads nested lists, references and enumerations, not only top-level keys.
    cite = documented_paths(entry("cite"))
    assert cite["results[].strength"] == ("strong", "partial", "conflict", "none")
    assert {"results[].sources[].quote", "results[].mismatches[].claim"} <= set(cite)
    ask = documented_paths(entry("ask"))
    assert {"related[].quote", "citations[].n", "direct", "answer_type", "timings_ms"} <= set(ask)
    assert {"items[].retrieved[].first_line", "overall", "by_kind"} <= set(documented_paths(entry("eval")))
    assert "answer_accuracy" in metric_names() and "none" not in metric_names()
    assert store_commands() == ["index", "search", "ask", "cite", "eval"]


def test_no_pending_case_is_stale() -> None:
    """Every ``PENDING`` key names a case that exists (a typo would silently xfail nothing)."""
    ids = [p.id for p in [*flag_cases(), *json_cases(), *metric_cases(), *GOLD_CASES, *RUN_CASES]]
    for key in PENDING:
        assert any(i == key or (key.endswith("*") and i.startswith(key[:-1])) for i in ids), key


@pytest.mark.parametrize(("case_id", "subcommand", "flag"), flag_cases())
def test_documented_flag_exists(case_id: str, subcommand: str, flag: str) -> None:
    assert re.search(rf"(?<![\w-]){re.escape(flag)}\b", subcommand_help(subcommand)), (
        f"`shiori {subcommand} --help` does not list {flag}"
    )


@pytest.mark.parametrize(("case_id", "command", "path", "values"), json_cases())
def test_documented_json_field_is_produced(
    produced: dict[str, dict[str, list[Any]]], case_id: str, command: str, path: str, values: tuple[str, ...]
) -> None:
    seen = produced[command]
    assert path in seen, f"`shiori {command}` never produced {path} (it produced {sorted(seen)})"
    if values:  # a closed enumeration: nothing outside it
        assert {v for v in seen[path]} <= set(values), (path, seen[path])


def metric_cases() -> list[Any]:
    return [case(f"metric:{name}", name) for name in metric_names()]


@pytest.mark.parametrize(("case_id", "name"), metric_cases())
def test_documented_metric_is_reported(
    produced: dict[str, dict[str, list[Any]]], case_id: str, name: str
) -> None:
    assert f"overall.{name}" in produced["eval"], f"`shiori eval` reports no {name}"
    assert f"by_kind.number.{name}" in produced["eval"]


# ------------------------------------------------------------------ gold schema


def _gold_example() -> dict[str, Any]:
    block = re.search(r"```\n(.*?)```", section("Gold Q&A file"), re.S)
    assert block
    return json.loads(block.group(1).replace("\n", " "))


def _load_one(tmp_path: Path, obj: dict[str, Any]) -> Any:
    from assistant.gold import load_gold

    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(obj, ensure_ascii=False) + "\n", encoding="utf-8")
    (item,) = load_gold(path)
    return item


def gold_example(tmp_path: Path) -> None:
    example = _gold_example()
    item = _load_one(tmp_path, example)
    assert (item.id, item.kind, item.lines, item.alt_lines) == ("G001", "fact", (99, 102), ((200, 201),))


def gold_kinds(tmp_path: Path) -> None:
    from assistant.gold import KINDS

    gold = section("Gold Q&A file")
    bullet = re.search(r"^- `kind`:(.*?)(?=^- |\Z)", gold, re.M | re.S)
    assert bullet
    names = re.findall(r"`([a-z]+)`", re.sub(r"\([^()]*\)", "", bullet.group(1)))  # not the remarks
    assert tuple(names) == KINDS


def gold_optional(tmp_path: Path) -> None:
    example = _gold_example()
    del example["all_required"], example["alt_lines"]
    item = _load_one(tmp_path, example)
    assert item.all_required is False and item.alt_lines == ()


def gold_expect(tmp_path: Path) -> None:
    values = re.findall(r'"(\w+)"', re.search(r"`\"expect\": ([^`]+)`", interface_text()).group(1))
    assert values == ["supported", "contradicted", "unsupported"]
    base = {**_gold_example(), "kind": "cite", "answers": []}
    for value in values[:2]:
        assert _load_one(tmp_path, {**base, "expect": value}).expect == value
    unsupported = {**base, "expect": "unsupported", "doc": None, "lines": None, "alt_lines": []}
    assert _load_one(tmp_path, unsupported).expect == "unsupported"


GOLD_CASES = [
    case(f"gold:{f.__name__[5:]}", f) for f in (gold_example, gold_kinds, gold_optional, gold_expect)
]


@pytest.mark.parametrize(("case_id", "check"), GOLD_CASES)
def test_gold_schema(case_id: str, check: Any, tmp_path: Path) -> None:
    check(tmp_path)


# ----------------------------------------------- commands that write files or add documents


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _listed(phrase: str) -> list[str]:
    """Top-level comma-separated names of a prose list, ``citations (title, doc)`` -> ``citations``."""
    return [re.sub(r"\s*\(.*", "", x).strip() for x in re.split(r",\s*(?![^()]*\))", phrase)]


def run_ask_batch(w: dict[str, Any]) -> None:
    prose = re.sub(r"\s+", " ", entry("ask --batch").text)
    m = re.search(r"with the (.*?) and an error cell", prose)
    assert m, prose
    columns = [*_listed(m.group(1)), "error"]
    sub = re.search(r"citations \(([^)]*)\)", m.group(1))
    cit_fields = [x.strip() for x in sub.group(1).split(",")] if sub else []
    questions = w["root"] / "questions.txt"
    questions.write_text(f"{QUESTIONS[0]}\n\x07\x1b\n{QUESTIONS[1]}\n", encoding="utf-8")
    out = w["root"] / "answers.jsonl"
    env = {**w["env"], "SHIORI_ABSTAIN_THRESHOLD": "0"}
    ok(run_cli("-q", "ask", "--batch", str(questions), "--out", str(out), env=env))
    rows = _rows(out)
    assert [r["question"] for r in rows] == [QUESTIONS[0], "\x07\x1b", QUESTIONS[1]]
    for r in rows:
        assert set(columns) <= set(r), (columns, r)
    assert rows[1]["error"] and not rows[0]["error"]
    assert rows[0]["citations"] and all(set(cit_fields) <= set(c) for c in rows[0]["citations"])


def run_cite_draft(w: dict[str, Any]) -> None:
    draft = w["root"] / "draft.md"
    draft.write_text(f"# 概要\n\n{DRAFTS[0]}{DRAFTS[1]}\n", encoding="utf-8")
    out = w["root"] / "draft.jsonl"
    ok(run_cli("-q", "cite", "--draft", str(draft), "--out", str(out), env=w["env"]))
    rows = _rows(out)
    assert [r["sentence"] for r in rows] == ["概要", DRAFTS[0], DRAFTS[1]]
    for r in rows:
        assert {"sentence", "location", "strength", "citation", "mismatches"} <= set(r), r
    assert rows[0]["strength"] == "no statement"


def _minimal_docx(path: Path, paragraphs: list[str]) -> None:
    """A Word file with just the parts Word itself needs (no python-docx)."""
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
            'document.main+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
        )
        z.writestr(
            "word/document.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{ns}">'
            f"<w:body>{body}</w:body></w:document>",
        )


def run_add_docx(w: dict[str, Any]) -> None:
    corpus = w["root"] / "corpus-docx"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    paragraphs = ["核融合実験炉の運転計画", "第一段階の運転は令和九年度に始まる。"]
    doc = w["root"] / "plan.docx"
    _minimal_docx(doc, paragraphs)
    env = {**w["env"], "SHIORI_CORPUS_DIR": str(corpus)}
    ok(run_cli("add", str(doc), "--title", "運転計画", env=env))
    chunks = json.loads(ok(run_cli("chunks", "--json", env=env)).stdout)
    added = [c for c in chunks if c["doc"] not in {p.name for p in FIXTURE_CORPUS.iterdir()}]
    assert added and paragraphs[1] in "\n".join(c["text"] for c in added)


def run_eval_corpus(w: dict[str, Any]) -> None:
    other = w["root"] / "other" / "corpus"
    shutil.copytree(FIXTURE_CORPUS, other)
    # --corpus must win over the environment; the index dir stays inside the test's tmp.
    env = {
        **w["env"],
        "SHIORI_CORPUS_DIR": str(w["root"] / "missing"),
        "SHIORI_INDEX_DIR": str(w["root"] / "other-index"),
    }
    out = w["root"] / "other-report.json"
    ok(run_cli("-q", "eval", "--gold", str(w["gold"]), "--corpus", str(other), "--json", str(out), env=env))
    assert [i["id"] for i in json.loads(out.read_text(encoding="utf-8"))["items"]] == [g["id"] for g in GOLD]


def run_cite_conflict(w: dict[str, Any]) -> None:
    res = json.loads(ok(run_cli("cite", DRAFTS[1], "--json", env=w["env"])).stdout)["results"][0]
    assert res["strength"] == "conflict", res
    (m,) = [m for m in res["mismatches"] if m["kind"] == "number"]
    assert "15" in m["claim"] and "12" in m["source"] and m["first_line"] == 12


RUN_CASES = [
    case("run:ask --batch", run_ask_batch),
    case("run:cite --draft", run_cite_draft),
    case("run:add .docx", run_add_docx),
    case("run:eval --corpus", run_eval_corpus),
    case("run:cite conflict", run_cite_conflict),
]


@pytest.mark.parametrize(("case_id", "run"), RUN_CASES)
def test_documented_command_runs(
    produced: dict[str, dict[str, list[Any]]], workdir: dict[str, Any], case_id: str, run: Any
) -> None:
    run(workdir)  # after `produced`: the index exists


# ------------------------------------------------------------------ spans and paths


@pytest.mark.parametrize(("first", "last", "text"), [(171, 171, "L171"), (171, 175, "L171–L175")])
def test_line_span_spelling(first: int, last: int, text: str) -> None:
    from assistant.messages import format_citation, format_lines

    assert format_lines(first, last) == text
    assert format_citation("題", "d.txt", first, last) == f"（出典：題、d.txt {text}）"


def test_the_single_line_spelling_is_documented() -> None:
    assert "reads `L<first>` (`L171`, not `L171–L171`)" in re.sub(r"\s*\n>\s*", " ", interface_text())
