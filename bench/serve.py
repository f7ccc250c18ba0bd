"""Concurrent clients against the app: ``python -m bench serve [--clients 1,8,32]``.

The app (``app.py``) runs in its own process on localhost over a temp copy of the
corpus, once with batched query encodings (``SHIORI_BATCH_QUERIES=1``: up to
``max_batch`` requests at once, their queries sharing encoder calls) and once
without (``0``: one request at a time, as before). Each client is a thread that
calls the ``ask`` API (Gradio's HTTP API: POST ``/gradio_api/call/ask``, then the
event stream of its result) back to back; every client starts together. Reported
per (server, clients): requests/s over the whole run, p50/p95 latency of a
request and errors. ``run_in_process`` does the same with threads calling
``Pipeline.ask`` directly (no HTTP), where the batcher's mean batch size is known.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import ROOT
from bench.util import summarize

logger = logging.getLogger(__name__)

CLIENTS: tuple[int, ...] = (1, 8, 32)
SERVERS: tuple[str, ...] = ("unbatched", "batched")
#: Requests per client by number of clients (enough for a p95, short enough to run often).
REQUESTS = {1: 40, 8: 12, 32: 6}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], log_path: Path, timeout: float = 600) -> tuple[subprocess.Popen, str]:
    """``python app.py`` on a free port; returns the process and its URL once it answers."""
    port = _free_port()
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process in stop_server
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited {proc.returncode}: {log_path.read_text(errors='replace')[-800:]}")
        try:
            with urllib.request.urlopen(url + "/gradio_api/info", timeout=5) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    stop_server(proc)
    raise RuntimeError(f"the app did not answer within {timeout} s")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the app's process group (it was started in a session of its own)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    proc.log.close()  # type: ignore[attr-defined]


def call_ask(url: str, question: str, k: int = 5, timeout: float = 300) -> dict[str, Any]:
    """One ``ask`` through the HTTP API: the answer JSON, or ``{"error": ...}``."""
    body = json.dumps({"data": [question, k, "hybrid"]}).encode()
    req = urllib.request.Request(url + "/gradio_api/call/ask", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        event_id = json.loads(r.read())["event_id"]
    event = None
    with urllib.request.urlopen(f"{url}/gradio_api/call/ask/{event_id}", timeout=timeout) as r:
        for raw in r:
            line = raw.decode("utf-8").strip()
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                data = line.split(":", 1)[1].strip()
                if event == "error":
                    return {"error": data}
                return json.loads(data)[0]
    return {"error": "the event stream ended without a result"}


def _run_together(clients: int, client: Callable[[int], None], start: threading.Barrier) -> float:
    """Run ``client(i)`` on ``clients`` threads released together by ``start``; the wall seconds."""
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    return time.perf_counter() - t0


def _row(clients: int, latencies: list[float], wall: float, errors: int) -> dict[str, Any]:
    """One (server, clients) result: requests/s over the run, p50/p95 latency, errors."""
    s = summarize(latencies)
    return {"clients": clients, "requests": len(latencies), "wall_s": round(wall, 3),
            "throughput_rps": round(len(latencies) / wall, 3), "p50_ms": s["p50"], "p95_ms": s["p95"],
            "errors": errors, "latencies_ms": latencies}


def run_clients(url: str, clients: int, per_client: int, questions: Sequence[str]) -> dict[str, Any]:
    """``clients`` threads, each asking ``per_client`` questions back to back, all starting together."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        start.wait()
        for j in range(per_client):
            q = questions[(i * per_client + j) % len(questions)]
            t = time.perf_counter()
            try:
                res = call_ask(url, q)
                err = res.get("error") if isinstance(res, dict) else "not an answer"
            except OSError as e:
                err = f"{type(e).__name__}: {e}"
            ms = (time.perf_counter() - t) * 1000
            with lock:
                latencies.append(ms)
                if err:
                    errors.append(str(err)[:200])

    wall = _run_together(clients, client, start)
    return {**_row(clients, latencies, wall, len(errors)), "error_examples": errors[:3]}


def run_in_process(pipeline: Any, clients: int, per_client: int, questions: Sequence[str]) -> dict[str, Any]:
    """``run_clients`` with threads calling ``Pipeline.ask`` (no HTTP); adds the mean batch size."""
    settings = pipeline.settings
    pipeline.index()
    for q in questions[:3]:
        pipeline.ask(q)
    latencies: list[float] = []
    start = threading.Barrier(clients + 1)
    calls0 = texts0 = 0
    if settings.batch_queries:
        b = pipeline.query_batcher()
        calls0, texts0 = b.calls, b.texts

    # Unbatched, requests run one at a time, as the app runs them (concurrency limit 1).
    one_at_a_time = contextlib.nullcontext() if settings.batch_queries else threading.Lock()

    def client(i: int) -> None:
        start.wait()
        for j in range(per_client):
            t = time.perf_counter()
            with one_at_a_time:
                pipeline.ask(questions[(i * per_client + j) % len(questions)])
            latencies.append((time.perf_counter() - t) * 1000)

    wall = _run_together(clients, client, start)
    row = _row(clients, latencies, wall, clients * per_client - len(latencies))
    if settings.batch_queries:
        b = pipeline.query_batcher()
        row["mean_batch"] = round((b.texts - texts0) / max(1, b.calls - calls0), 2)
    return row


def _pooled(rows: Sequence[dict[str, Any]], latencies: Sequence[float]) -> dict[str, Any]:
    """Repeated runs of one (server, clients) as one row: total requests over total time, pooled percentiles."""
    s = summarize(latencies)
    wall = sum(r["wall_s"] for r in rows)
    n = sum(r["requests"] for r in rows)
    return {"clients": rows[0]["clients"], "requests": n, "wall_s": round(wall, 3),
            "throughput_rps": round(n / wall, 3), "p50_ms": s["p50"], "p95_ms": s["p95"],
            "errors": sum(r["errors"] for r in rows), "repeats": len(rows),
            "throughput_each": [r["throughput_rps"] for r in rows],
            "error_examples": [e for r in rows for e in r.get("error_examples", [])][:3],
            **({"mean_batch": round(float(np.mean([r["mean_batch"] for r in rows])), 2)}
               if all("mean_batch" in r for r in rows) else {})}


def run_serve(workdir: Path, clients: Sequence[int] = CLIENTS, servers: Sequence[str] = SERVERS,
              env_extra: dict[str, str] | None = None, corpus_src: Path = ROOT / "corpus",
              requests: dict[int, int] | None = None, in_process: bool = True,
              repeats: int = 1) -> dict[str, Any]:
    """Every server configuration against every client count, over HTTP and in process.

    Both servers run at the same time (the idle one costs nothing) and their runs
    alternate, ``repeats`` times each, so a burst of load from other processes on
    the shared machine falls on both alike.
    """
    from assistant.config import Settings
    from assistant.gold import load_gold
    from bench import GOLD_PATH
    from bench.build import prepare_workspace
    from bench.util import machine_info

    corpus_dir, index_dir = prepare_workspace(workdir, corpus_src)
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    env = {**base, "SHIORI_CORPUS_DIR": str(corpus_dir), "SHIORI_INDEX_DIR": str(index_dir), **(env_extra or {})}
    logger.info("building the index for the app")
    subprocess.run([sys.executable, "-m", "assistant.cli", "-q", "index"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    questions = [it.question for it in load_gold(GOLD_PATH) if it.kind != "cite"]
    requests = requests or REQUESTS
    results: dict[str, Any] = {"kind": "serve", "machine": machine_info(), "runs": [], "repeats": repeats,
                               "env": {k: v for k, v in env.items() if k.startswith(("SHIORI_", "OMP_"))
                                       and not k.endswith("_DIR")}}
    procs: dict[str, tuple[subprocess.Popen, str]] = {}
    try:
        for server in servers:
            server_env = {**env, "SHIORI_BATCH_QUERIES": "1" if server == "batched" else "0"}
            procs[server] = start_server(server_env, workdir / f"app-{server}.log")
            for q in questions[:3]:  # warm-up: the first answers load lazily built state
                call_ask(procs[server][1], q)
        for n in clients:
            rows: dict[str, list[dict[str, Any]]] = {s: [] for s in servers}
            lat: dict[str, list[float]] = {s: [] for s in servers}
            for rep in range(repeats):
                for server in (servers if rep % 2 == 0 else list(reversed(servers))):
                    logger.info("serve: %s server, %d clients (%d/%d)", server, n, rep + 1, repeats)
                    row = run_clients(procs[server][1], n, requests.get(n, 6), questions)
                    lat[server] += row.pop("latencies_ms")
                    rows[server].append(row)
            for server in servers:
                row = _pooled(rows[server], lat[server])
                row.update(server=server, via="http", loadavg=[round(x, 2) for x in os.getloadavg()])
                results["runs"].append(row)
                logger.info("  %s %s", server, {k: row[k] for k in ("throughput_rps", "p50_ms", "p95_ms", "errors")})
    finally:
        for proc, _url in procs.values():
            stop_server(proc)
    if in_process:
        from assistant.pipeline import Pipeline

        shiori_env = {k: v for k, v in env.items() if k.startswith("SHIORI_")}
        pipelines = {}
        for server in servers:
            pipelines[server] = Pipeline(Settings.from_env(environ=shiori_env, batch_queries=server == "batched"),
                                         progress=False)
        for n in clients:
            rows = {s: [] for s in servers}
            lat = {s: [] for s in servers}
            for rep in range(repeats):
                for server in (servers if rep % 2 == 0 else list(reversed(servers))):
                    logger.info("in process: %s, %d clients (%d/%d)", server, n, rep + 1, repeats)
                    row = run_in_process(pipelines[server], n, requests.get(n, 6), questions)
                    lat[server] += row.pop("latencies_ms")
                    rows[server].append(row)
            for server in servers:
                row = _pooled(rows[server], lat[server])
                row.update(server=server, via="in-process", loadavg=[round(x, 2) for x in os.getloadavg()])
                results["runs"].append(row)
    return results


def main(argv: list[str] | None = None) -> int:
    import argparse

    from bench import RESULTS_DIR

    p = argparse.ArgumentParser(prog="python -m bench serve", description=__doc__.splitlines()[0])
    p.add_argument("--clients", default=",".join(map(str, CLIENTS)), help="comma-separated client counts")
    p.add_argument("--servers", default=",".join(SERVERS), help="unbatched,batched")
    p.add_argument("--repeats", type=int, default=3, help="alternating runs per (server, clients)")
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "serve.json", metavar="OUT")
    args = p.parse_args(argv)
    from bench.report import serve_report

    with tempfile.TemporaryDirectory(prefix="shiori-serve-") as tmp:
        results = run_serve(Path(tmp), [int(x) for x in args.clients.split(",")], args.servers.split(","),
                            repeats=args.repeats)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(serve_report(results))
    return 0
