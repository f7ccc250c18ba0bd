"""Question-list throughput: one ``shiori ask --batch`` run against warm ``Pipeline.ask`` calls.

The batch run is the command itself (``assistant.cli.main``) in this process: it
builds its own pipeline, loads the index and the model once, reads the .txt list,
answers every row and writes the .xlsx. The yardstick is the same questions asked
one by one on an already warm pipeline. Rounds alternate (warm, batch, batch,
warm, ...) so the machine's load bursts hit both alike; the medians are
compared, in wall time and in this process's CPU time (which other processes
on a shared machine do not inflate). A per-row reload of the index or model would put the ratio far below 1.
Once more as a new process, for the cost with interpreter start-up and imports.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import statistics
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.util import BenchError, run_child

logger = logging.getLogger(__name__)


def cli_env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The ``SHIORI_*`` variables that make the command use ``settings``' corpus, index and models."""
    return {
        "SHIORI_CORPUS_DIR": str(settings.corpus_dir),
        "SHIORI_INDEX_DIR": str(settings.index_dir),
        "SHIORI_EMBEDDER": settings.embedder,
        "SHIORI_TOKENIZER": settings.tokenizer,
        "SHIORI_AUTO_REBUILD": "0",
    }


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Only ``values`` among the ``SHIORI_*`` variables, for the duration (restored after)."""
    saved = dict(os.environ)
    for k in [k for k in os.environ if k.startswith("SHIORI_")]:
        del os.environ[k]
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def batch_once(list_path: Path, out: Path, env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """Run ``shiori -q ask --batch LIST --out OUT --json`` in this process; (wall s, CPU s, its summary)."""
    from assistant.cli import main

    buf = io.StringIO()
    t0, c0 = time.perf_counter(), time.process_time()
    with _environ(env), contextlib.redirect_stdout(buf):
        rc = main(["-q", "ask", "--batch", str(list_path), "--out", str(out), "--no-rebuild", "--json"])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if rc != 0:
        raise BenchError(f"ask --batch exited {rc}")
    return wall, cpu, json.loads(buf.getvalue())


def warm_once(pipeline, questions: Sequence[str]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(wall s, CPU s of this process) for ``pipeline.ask`` on every question, one after the other."""
    t0, c0 = time.perf_counter(), time.process_time()
    for q in questions:
        pipeline.ask(q)
    return time.perf_counter() - t0, time.process_time() - c0


def run_batch_throughput(
    pipeline,  # type: ignore[no-untyped-def]
    questions: Sequence[str],
    workdir: Path,
    rounds: int = 3,
    new_process: bool = True,
) -> dict[str, Any]:
    """Throughput (questions/s) of one batch run and of warm asks, alternating ``rounds`` times."""
    workdir.mkdir(parents=True, exist_ok=True)
    list_path = workdir / "questions.txt"
    list_path.write_text("\n".join(questions) + "\n", encoding="utf-8")
    out = workdir / "questions.answers.xlsx"
    env = cli_env(pipeline.settings)
    pipeline.index()
    warm_once(pipeline, questions[:5])  # warm-up: caches, first-call costs
    wall: dict[str, list[float]] = {"warm": [], "batch": []}
    cpu: dict[str, list[float]] = {"warm": [], "batch": []}
    answer_s: list[float] = []
    summary: dict[str, Any] = {}
    for i in range(rounds):
        for which in ("warm", "batch") if i % 2 == 0 else ("batch", "warm"):
            if which == "warm":
                w, c = warm_once(pipeline, questions)
            else:
                w, c, summary = batch_once(list_path, out, env)
                answer_s.append(summary["timings_s"]["answer"])
            wall[which].append(w)
            cpu[which].append(c)
        logger.info("batch throughput: round %d/%d", i + 1, rounds)
    if summary.get("rows") != len(questions) or summary.get("errors"):
        raise BenchError(
            f"the batch run answered {summary.get('rows')} rows with {summary.get('errors')} errors"
        )
    n = len(questions)
    med = statistics.median
    result: dict[str, Any] = {
        "questions": n,
        "rounds": rounds,
        "warm_ask_s": wall["warm"],
        "batch_s": wall["batch"],
        "batch_answer_s": answer_s,
        "warm_ask_cpu_s": cpu["warm"],
        "batch_cpu_s": cpu["batch"],
        "warm_ask_q_per_s": n / med(wall["warm"]),
        "batch_q_per_s": n / med(wall["batch"]),
        "batch_answer_q_per_s": n / med(answer_s),
        "batch_over_warm": med(wall["warm"]) / med(wall["batch"]),
        "batch_answer_over_warm": med(wall["warm"]) / med(answer_s),
        # CPU seconds of this process: what the other processes on a shared machine do not change.
        "warm_ask_q_per_cpu_s": n / med(cpu["warm"]),
        "batch_q_per_cpu_s": n / med(cpu["batch"]),
        "batch_over_warm_cpu": med(cpu["warm"]) / med(cpu["batch"]),
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "last_summary": summary,
    }
    if new_process:
        from bench.cold import shiori_command

        base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
        cmd = shiori_command() + [
            "-q",
            "ask",
            "--batch",
            str(list_path),
            "--out",
            str(out),
            "--no-rebuild",
            "--json",
        ]
        res = run_child(cmd, env={**base, **env}, timeout=3600)
        if res.returncode != 0:
            raise BenchError(
                f"ask --batch (new process) exited {res.returncode}: {res.stderr.strip()[-500:]}"
            )
        result["process_s"] = res.wall_s
        result["process_q_per_s"] = n / res.wall_s
        result["process_over_warm"] = med(wall["warm"]) / res.wall_s
        result["process_maxrss_kib"] = res.maxrss_kib
    return result
