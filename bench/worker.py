"""Child-process entry: ``python -m bench.worker '<task json>'`` prints one JSON result line.

Each measurement that needs its own peak RSS (an index build, one ANN case)
runs here, in a fresh interpreter. The parent reads the peak from ``wait4``;
the task also reports ``vmhwm_kib`` (``VmHWM``) for cross-checking.
"""

from __future__ import annotations

import json
import logging
import resource
import sys
from collections.abc import Callable
from typing import Any

from bench.util import vm_hwm_kib


def _tasks() -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
    from bench.build import build_task
    from bench.e2e import check_task, generate_task, serve_task
    from bench.scale import bm25_query_task, bm25_task, cache_task, dense_build_task, dense_query_task

    return {
        "e2e_generate": generate_task,
        "e2e_serve": serve_task,
        "e2e_check": check_task,
        "build": build_task,
        "dense_build": dense_build_task,
        "dense_query": dense_query_task,
        "bm25": bm25_task,
        "bm25_query": bm25_query_task,
        "cache": cache_task,
    }


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="  [worker] %(message)s", stream=sys.stderr)
    task = json.loads(argv[0])
    limit = task.get("mem_limit_gib")
    if limit:
        # Address-space cap so a runaway case fails with MemoryError instead of
        # pushing the shared machine into swap/OOM.
        cap = int(limit * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    tasks = _tasks()
    name = task["task"]
    if name not in tasks:
        print(f"unknown task {name!r}; choose one of {sorted(tasks)}", file=sys.stderr)
        return 2
    try:
        result = tasks[name](task)
    except MemoryError:
        result = {"error": f"MemoryError (address space capped at {limit} GiB)"}
    result["vmhwm_kib"] = vm_hwm_kib()
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
