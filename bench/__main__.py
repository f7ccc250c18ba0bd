"""``python -m bench [--quick] [--json OUT]``, ``python -m bench scale [--quick | --e2e]``,
``python -m bench serve [--clients 1,8,32]``, ``python -m bench cold [REV ...]``, ``python -m bench show FILE``.

Run from the repository root. Tables go to stdout (Markdown), progress to stderr,
and the full results to JSON (default ``bench/results/latest.json`` and
``bench/results/scale.json``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import GOLD_PATH, RESULTS_DIR

logger = logging.getLogger("bench")

SECTIONS: tuple[str, ...] = ("build", "query", "cold", "batch", "versus")


def _write(out: Path, results: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def run_pipeline_bench(quick: bool, sections: tuple[str, ...], out: Path) -> dict[str, Any]:
    """Sections 1-4 on a temp copy of the corpus (the repo's index is never touched)."""
    from assistant.gold import load_gold
    from assistant.pipeline import Pipeline
    from bench.build import bench_settings, prepare_workspace
    from bench.cold import run_cold_start
    from bench.query import query_set, run_query_path
    from bench.util import machine_info, run_worker
    from bench.versus import run_versus

    results: dict[str, Any] = {
        "kind": "pipeline",
        "quick": quick,
        "machine": machine_info(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    items = load_gold(GOLD_PATH)
    with tempfile.TemporaryDirectory(prefix="shiori-bench-") as tmp:
        corpus_dir, index_dir = prepare_workspace(Path(tmp), first_only=quick)
        if quick:
            from assistant.corpus import read_manifest

            kept = {d.id for d in read_manifest(corpus_dir)}
            items = [it for it in items if it.doc in kept or it.kind == "none"]
        results["corpus"] = {"documents": sorted(p.name for p in corpus_dir.glob("*.txt")), "gold_items": len(items)}
        logger.info("build (a child process; fresh embedding cache)")
        results["build"] = run_worker(
            {
                "task": "build",
                "corpus_dir": str(corpus_dir),
                "index_dir": str(index_dir),
                "workdir": tmp,
                "quick": quick,
            },
            timeout=3600,
        )
        _write(out, results)
        from bench.footprint import index_footprint

        results["footprint"] = index_footprint(index_dir)
        pipeline = Pipeline(bench_settings(corpus_dir, index_dir), progress=False)
        pipeline.index()
        if "query" in sections:
            logger.info("query path")
            results["query"] = run_query_path(pipeline, query_set(40 if quick else 200))
            _write(out, results)
        if "cold" in sections:
            logger.info("cold start")
            results["cold"] = run_cold_start(
                corpus_dir, index_dir, items[0].question, repeats=5 if quick else 15
            )
            _write(out, results)
        if "batch" in sections:
            from bench.batch import run_batch_throughput

            logger.info("question-list throughput (ask --batch)")
            results["batch"] = run_batch_throughput(
                pipeline,
                query_set(30 if quick else 100),
                Path(tmp) / "batch",
                rounds=2 if quick else 3,
                new_process=not quick,
            )
            _write(out, results)
        if "versus" in sections:
            logger.info("versus llama-index defaults")
            subset = items[:40] if quick else items
            results["versus"] = run_versus(pipeline, corpus_dir, subset, results["build"]["full_build_s"])
            _write(out, results)
    results["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _write(out, results)
    return results


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(float(x)) for x in text.split(","))


def cold_main(argv: list[str]) -> int:
    """``python -m bench cold [REV ...]``: cold ``ask`` of code versions, interleaved with the bare process."""
    from assistant.config import Settings
    from assistant.gold import load_gold
    from bench.cold import WORKTREE, run_cold_ab
    from bench.report import cold_ab_table

    p = argparse.ArgumentParser(
        prog="python -m bench cold",
        description="cold `shiori ask` of git revisions (and the working tree) beside a bare model process, "
                    "interleaved in random order, on the configured corpus and index (built and up to date)",
    )
    p.add_argument("revs", nargs="*", metavar="REV",
                   help=f"git revisions; {WORKTREE} is the working tree as it is (default: HEAD {WORKTREE})")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--question", default=None, help="default: the first question of eval/gold.jsonl")
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "cold_ab.json", metavar="OUT")
    args = p.parse_args(argv)
    s = Settings.from_env()
    question = args.question or load_gold(GOLD_PATH)[0].question
    with tempfile.TemporaryDirectory(prefix="shiori-cold-") as tmp:
        results = run_cold_ab(args.revs or ["HEAD", WORKTREE], s.corpus_dir, s.index_dir, question, Path(tmp),
                              rounds=args.rounds)
    _write(args.json, results)
    print(cold_ab_table(results))
    logger.info("results: %s", args.json)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="[bench] %(message)s", stream=sys.stderr)
    command = argv.pop(0) if argv and argv[0] in ("scale", "show", "serve", "cold") else "run"

    if command == "serve":
        from bench.serve import main as serve_main

        return serve_main(argv)

    if command == "cold":
        return cold_main(argv)

    if command == "show":
        p = argparse.ArgumentParser(
            prog="python -m bench show",
            description="print the tables of results files (scale files are merged)",
        )
        p.add_argument("files", type=Path, nargs="+")
        args = p.parse_args(argv)
        from bench.report import e2e_report, pipeline_report, scale_report, serve_report
        from bench.scale import merge_scale

        data = [json.loads(f.read_text(encoding="utf-8")) for f in args.files]
        scale = [d for d in data if d.get("kind") == "scale"]
        from bench.report import cold_ab_table

        reports = {"serve": serve_report, "e2e": e2e_report, "cold_ab": cold_ab_table}
        for d in data:
            if d.get("kind") != "scale":
                print(reports.get(d.get("kind"), pipeline_report)(d))
        if scale:
            print(scale_report(merge_scale(scale)))
        return 0

    if command == "scale":
        from bench.scale import QUICK_SIZES, SIZES, run_scale

        p = argparse.ArgumentParser(
            prog="python -m bench scale", description="synthetic 10k-1M passage study"
        )
        p.add_argument("--quick", action="store_true", help="10k passages only (under a minute)")
        p.add_argument("--sizes", type=_sizes, help="comma-separated passage counts, e.g. 10000,100000")
        p.add_argument("--json", type=Path, default=RESULTS_DIR / "scale.json", metavar="OUT")
        p.add_argument("--workdir", type=Path, help="where synthetic data go (default: a temp dir)")
        p.add_argument("--keep", action="store_true", help="keep generated data and indexes")
        p.add_argument("--no-bm25", action="store_true")
        p.add_argument("--no-cache", action="store_true", help="skip the embedding-cache shard study")
        p.add_argument("--cases", default=None, help="comma-separated dense cases (default: all)")
        p.add_argument("--mem-limit-gib", type=float, default=None, help="address-space cap per child")
        p.add_argument("--e2e", action="store_true",
                       help="end to end: generate, write, load, query and update one index (bench/e2e.py)")
        p.add_argument("--passages", type=_sizes, default=None,
                       help="--e2e: passages of the generated corpus (default 1000000)")
        p.add_argument("--queries", type=int, default=None, help="--e2e: queries timed (default 200)")
        p.add_argument("--reserve", action="store_true",
                       help="--e2e with --keep --workdir: time serving again on the kept index (a quieter "
                            "moment); build and update figures are kept from the --json file")
        args = p.parse_args(argv)
        from bench.report import scale_report
        from bench.scale import DENSE_CASES

        if args.e2e:
            from bench.e2e import E2E_PASSAGES, QUERIES, run_e2e
            from bench.report import e2e_report

            out = args.json if args.json != RESULTS_DIR / "scale.json" else RESULTS_DIR / "e2e.json"
            n = (args.passages or (E2E_PASSAGES,))[0]
            kw = {"queries": args.queries or QUERIES, "mem_limit_gib": args.mem_limit_gib}
            if args.reserve:
                from bench.e2e import reserve_e2e

                if not (args.keep and args.workdir):
                    p.error("--reserve needs --keep --workdir (the kept index)")
                results = reserve_e2e(args.workdir / f"e2e-{n}", out, queries=kw["queries"])
            elif args.keep and args.workdir:  # the corpus and index stay in WORKDIR/e2e-N
                work = args.workdir / f"e2e-{n}"
                work.mkdir(parents=True, exist_ok=True)
                results = run_e2e(n, work, out, keep=True, **kw)
            else:
                with tempfile.TemporaryDirectory(prefix="shiori-e2e-", dir=args.workdir) as tmp:
                    results = run_e2e(n, Path(tmp), out, **kw)
            print(e2e_report(results))
            logger.info("results: %s", out)
            return 0

        sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
        cases = tuple(args.cases.split(",")) if args.cases is not None else DENSE_CASES
        cases = tuple(c for c in cases if c)
        with tempfile.TemporaryDirectory(prefix="shiori-scale-", dir=args.workdir) as tmp:
            results = run_scale(
                sizes,
                Path(tmp),
                out=args.json,
                cases=cases,
                bm25=not args.no_bm25,
                full_tokenize_max=0 if args.quick else 100_000,
                keep=args.keep,
                mem_limit_gib=args.mem_limit_gib,
                cache_shards=() if args.no_cache else (300,) if args.quick else (300, 1500),
            )
        print(scale_report(results))
        logger.info("results: %s", args.json)
        return 0

    p = argparse.ArgumentParser(prog="python -m bench", description="shiori performance benchmarks")
    p.add_argument("--quick", action="store_true",
                   help="the first document only, fewer queries, repeats and gold items (under a minute)")
    p.add_argument("--json", type=Path, default=RESULTS_DIR / "latest.json", metavar="OUT")
    p.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (build always runs)",
    )
    args = p.parse_args(argv)
    sections = tuple(s for s in args.sections.split(",") if s)
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        p.error(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    from bench.report import pipeline_report

    results = run_pipeline_bench(args.quick, sections, args.json)
    print(pipeline_report(results))
    logger.info("results: %s", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
