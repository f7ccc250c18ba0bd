"""The ``shiori`` command line.

Only ``argparse``, ``atexit``, ``gc``, ``json``, ``logging``, ``os`` and ``sys`` are imported
at the top: each subcommand imports what it needs inside its handler, so ``shiori --help``
and a cold ``shiori ask`` do not pay for llama-index, torch or gradio.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

logger = logging.getLogger("shiori")


#: The project's gold set (relative to the working directory, like the CI gate).
DEFAULT_GOLD = "eval/gold.jsonl"


def _settings(args: argparse.Namespace, **extra: Any):  # type: ignore[no-untyped-def]
    from assistant.config import Settings

    overrides = {
        "top_k": getattr(args, "k", None),
        "mode": getattr(args, "mode", None),
        "store": getattr(args, "store", None),
        "answer_mode": getattr(args, "answer_mode", None),
        "embed_engine": "ray" if getattr(args, "ray", False) else None,
        **extra,
    }
    if getattr(args, "no_rebuild", False):
        overrides["auto_rebuild"] = False
    return Settings.from_env(**overrides)


def _pipeline(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from assistant.pipeline import Pipeline

    return Pipeline(_settings(args), progress=not getattr(args, "quiet", False))


def _one_shot_process() -> None:
    """This process answers one question and exits: no cyclic garbage collection.

    Shiori's imports create ~25,000 long-lived objects (modules, classes, functions)
    that the collector would walk again and again during start-up and once more in the
    interpreter's final collections at exit, finding nothing to free; one answer makes
    little cyclic garbage. Objects alive at exit are frozen (left out of those final
    collections): the operating system frees them with the process. What it saves is
    in docs/PERFORMANCE.md ("Cold start").
    """
    gc.disable()
    atexit.register(gc.freeze)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _console():  # type: ignore[no-untyped-def]
    """A rich console when stdout is a terminal, else ``None`` (plain text)."""
    if not sys.stdout.isatty() or os.environ.get("NO_COLOR"):
        return None
    from rich.console import Console

    return Console(highlight=False)


# ----------------------------------------------------------------- commands


def cmd_chunks(args: argparse.Namespace) -> int:
    from assistant.chunking import chunk_corpus
    from assistant.corpus import load_corpus
    from assistant.errors import UsageError
    from assistant.messages import format_lines

    s = _settings(args)
    docs = load_corpus(s.corpus_dir)
    if args.doc:
        docs = [d for d in docs if d.id == args.doc]
        if not docs:
            raise UsageError(f"no document {args.doc!r} in {s.corpus_dir}; see corpus/manifest.json")
    chunks = chunk_corpus(docs, s.chunk_chars, s.chunk_overlap)
    if args.json:
        _print_json([c.to_json() for c in chunks])
        return 0
    for c in chunks:
        head = f"{c.doc} {format_lines(c.first_line, c.last_line)}" + (f" p.{c.page}" if c.page else "")
        print(f"── {head}  [{c.heading}]" if c.heading else f"── {head}")
        print(c.text)
    print(f"{len(chunks)} passages", file=sys.stderr)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from assistant.corpus import add_document

    s = _settings(args)
    info = add_document(s.corpus_dir, Path(args.path), title=args.title, issuer=args.issuer or "",
                        doc_date=args.date)
    if args.json:
        _print_json(info.to_json())
    else:
        pages = f", {len(info.page_starts)} pages" if info.page_starts else ""
        print(f"added {args.path} as {info.id} ({info.title}{pages}); run `shiori index` to update the index")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    p = _pipeline(args)
    manifest = p.build(rebuild=args.rebuild)
    summary = {
        "index_dir": str(p.settings.index_dir),
        "passages": manifest["passages"],
        "sentences": manifest.get("sentences"),
        "dimension": manifest["embedder"]["dim"],
        "embedder": manifest["embedder"]["name"],
        "dense": manifest["dense"]["kind"],
        "store": manifest.get("store", {}).get("kind", "faiss"),
        "store_uri": manifest.get("store", {}).get("uri"),
        "seconds": manifest.get("build_seconds"),
        "created": manifest.get("created"),
    }
    if args.json:
        _print_json(summary)
    else:
        print(
            f"index {summary['index_dir']}: {summary['passages']} passages, dimension {summary['dimension']}, "
            f"{summary['dense']} dense index, built in {summary['seconds']} s ({summary['created']})"
        )
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    p = _pipeline(args)
    res = p.search(args.query, k=args.k, mode=args.mode)
    if args.json:
        _print_json(res.to_json())
        return 0
    from assistant.render import render_search

    render_search(res, _console())
    return 0


def _progress_bar(args: argparse.Namespace, unit: str, desc: str):  # type: ignore[no-untyped-def]
    """A tqdm bar on stderr (none with -q) and the ``(done, total)`` callback that moves it."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, desc=desc, file=sys.stderr, disable=args.quiet, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        if bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    return bar, update


def _batch_paths(args: argparse.Namespace, src: str, module) -> tuple:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from assistant.export import check_output

    path = Path(src)
    out = Path(args.out) if args.out else module.default_output(path)
    check_output(path, out, module.OUTPUT_EXTS)
    return path, out


def cmd_ask_batch(args: argparse.Namespace) -> int:
    """``ask --batch FILE``: answer every row of a question list, write one result file."""
    from assistant import batch

    path, out = _batch_paths(args, args.batch, batch)
    questions = batch.read_questions(path)  # a file that cannot be read stops here, before the model loads
    p = _pipeline(args)
    bar, update = _progress_bar(args, "問", "questions")
    with bar:
        result = batch.answer_questions(p, questions, k=args.k, mode=args.mode, on_progress=update)
    import time

    t = time.perf_counter()
    batch.write_answers(out, result)
    result.timings_s["write"] = time.perf_counter() - t
    summary = {"input": str(path), "out": str(out), **result.summary()}
    if args.json:
        _print_json(summary)
    else:
        print(
            f"wrote {out}: {summary['rows']} rows, {summary['answered']} answered, "
            f"{summary['abstained']} abstained, {summary['errors']} with errors",
            file=sys.stderr,
        )
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.errors import UsageError

    if args.batch is not None:
        if args.question is not None:
            raise UsageError("give either a QUESTION or --batch FILE, not both")
        return cmd_ask_batch(args)
    if args.question is None:
        raise UsageError("a QUESTION is required (or --batch FILE for a list of questions)")
    if args.out is not None:
        raise UsageError("--out goes with --batch FILE")
    if args.own_process:
        _one_shot_process()
    p = _pipeline(args)
    ans = p.ask(args.question, k=args.k, mode=args.mode)
    if args.json:
        _print_json(ans.to_json())
        return 0
    from assistant.render import render_answer

    render_answer(ans, _console())
    return 0


def cmd_cite_draft(args: argparse.Namespace) -> int:
    """``cite --draft DRAFT``: check every sentence of a draft, write one report."""
    import time

    from assistant import draft

    path, out = _batch_paths(args, args.draft, draft)
    t = time.perf_counter()
    sentences = draft.draft_sentences(draft.read_blocks(path))  # unreadable drafts stop here
    read_s = time.perf_counter() - t
    p = _pipeline(args)
    bar, update = _progress_bar(args, "文", "sentences")
    with bar:
        report = draft.check_sentences(p, sentences, k=args.k, on_progress=update)
    report = draft.DraftReport(path.name, report.rows, {"read": read_s, **report.timings_s})
    t = time.perf_counter()
    draft.write_report(out, report)
    report.timings_s["write"] = time.perf_counter() - t
    summary = {"input": str(path), "out": str(out), **report.summary()}
    if args.json:
        _print_json(summary)
    else:
        counts = ", ".join(f"{n} {v}" for v, n in summary["verdicts"].items())
        print(f"wrote {out}: {summary['sentences']} sentences ({counts})", file=sys.stderr)
    return 0


def cmd_cite(args: argparse.Namespace) -> int:
    from assistant.errors import UsageError

    if args.draft is not None:
        if args.sentences:
            raise UsageError("give either SENTENCEs or --draft DRAFT, not both")
        return cmd_cite_draft(args)
    if not args.sentences:
        raise UsageError("a SENTENCE is required (or - for stdin, or --draft DRAFT for a whole draft)")
    if args.out is not None:
        raise UsageError("--out goes with --draft DRAFT")
    sentences: list[str] = list(args.sentences)
    if sentences == ["-"]:
        # Decode ourselves: undecodable bytes become U+FFFD, which the input check
        # refuses with a message (a strict decoder would fail with a traceback-like error).
        buffer = getattr(sys.stdin, "buffer", None)
        raw = buffer.read().decode("utf-8", errors="replace") if buffer else sys.stdin.read()
        sentences = raw.splitlines()
    p = _pipeline(args)
    results = p.cite(sentences, k=args.k)
    if args.json:
        _print_json({"results": [r.to_json() for r in results]})
        return 0
    from assistant.render import render_cite

    render_cite(results, _console())
    return 0


def corpus_index_dir(corpus_dir: str) -> str:
    """The index of an evaluated corpus ``DIR``: ``DIR.index`` beside it, never the main ``index/``."""
    from assistant.config import corpus_index_dir as index_beside

    return index_beside(corpus_dir)


def _eval_inputs(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The gold file and the settings overrides of ``eval`` (``--corpus``, ``--index``)."""
    from pathlib import Path

    from assistant.errors import UsageError

    if args.corpus is None:
        if args.index:
            raise UsageError("--index goes with --corpus (the main index is set by SHIORI_INDEX_DIR)")
        return args.gold or DEFAULT_GOLD, {}
    corpus = Path(args.corpus)
    if not (corpus / "manifest.json").is_file():
        raise UsageError(f"--corpus {args.corpus}: not a corpus directory (no manifest.json in it)")
    gold = args.gold
    if gold is None:  # the gold file of a corpus kept as DIR/../gold.jsonl
        gold = str(corpus.parent / "gold.jsonl")
        if not Path(gold).is_file():
            raise UsageError(f"--corpus {args.corpus} needs --gold FILE (no {gold} beside it)")
    return gold, {"corpus_dir": corpus, "index_dir": Path(args.index or corpus_index_dir(args.corpus))}


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from assistant.cite import DEFAULT_CITE_POLICY
    from assistant.evaluate import check_thresholds, load_report, load_thresholds, markdown_table, run
    from assistant.gold import check_documents, load_gold
    from assistant.pipeline import Pipeline

    # Bad thresholds, gold or report files are reported before the (slow) run, not after it.
    thresholds = load_thresholds(Path(args.thresholds)) if args.thresholds else None
    beside = load_report(Path(args.beside)) if args.beside else None
    gold, overrides = _eval_inputs(args)
    items = load_gold(gold)
    p = Pipeline(_settings(args, **overrides), progress=not args.quiet)
    check_documents(items, gold, p.settings.corpus_dir)
    p.index()  # build before timing anything
    system = p
    config = {**p.settings.to_dict(), "gold": str(gold), "reader": p.reader_policy.to_dict(),
              "cite": (p.cite_policy or DEFAULT_CITE_POLICY).to_dict()}
    if args.oof:
        from assistant.evaluate import OutOfFold

        system = OutOfFold.fit(p, items, progress=not args.quiet, refit=args.refit_folds)
        config["reader_model"] = "out of fold: each item answered by a model fitted without it"
    else:
        from assistant.reader.scorer import load_model

        config["reader_model"] = load_model().info
    report = run(system, items, config=config, mode=args.mode, progress=not args.quiet)
    table = markdown_table(report)
    data = report.to_json()
    others = {}
    if args.compare:
        from assistant.baseline import LlamaIndexDefaults
        from assistant.evaluate import side_by_side

        for mode in ("dense", "bm25"):
            if mode != (args.mode or p.settings.mode):
                others[f"{mode} only"] = run(p, items, config={**p.settings.to_dict(), "mode": mode}, mode=mode,
                                             progress=not args.quiet)
        base = LlamaIndexDefaults(p.settings.corpus_dir, p.embedder)
        others[base.name] = run(base, items, config=base.describe(), progress=not args.quiet)
        data["compare"] = {name: {"config": r.config, "overall": r.overall, "by_kind": r.by_kind}
                           for name, r in others.items()}
        table += "\n\n" + side_by_side({"shiori": report, **others})
    if args.json:
        Path(args.json).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    corpora = ""
    if beside is not None:
        from assistant.evaluate import corpora_table, report_label

        corpora = corpora_table({report_label(beside): beside, report_label(data, len(items)): data})
        table += "\n\n" + corpora
    if args.markdown:
        from assistant.evaluate import render_report

        command = " ".join(["shiori eval", *([f"--corpus {args.corpus}"] if args.corpus else []),
                            *([f"--gold {gold}"] if gold != DEFAULT_GOLD else []),
                            *([f"--mode {args.mode}"] if args.mode else []), *(["--compare"] if args.compare else []),
                            *(["--oof"] if args.oof else []),
                            *([f"--beside {args.beside}"] if args.beside else []),
                            f"--markdown {args.markdown}"])
        Path(args.markdown).write_text(render_report(report, others, gold, len(items), command=command,
                                                     corpora=corpora), encoding="utf-8")
    print(table)
    if thresholds is not None:
        failures = check_thresholds(data, thresholds)
        if failures:
            print("\nEVAL GATE FAILED:", file=sys.stderr)
            for f in failures:
                print(f"  {f}", file=sys.stderr)
            return 1
        print(f"\neval gate passed ({args.thresholds})", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from assistant.config import PROJECT_ROOT

    # app.py sits at the project root (beside corpus/), not inside the package.
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    from app import main as app_main

    return app_main(["--host", args.host, "--port", str(args.port)] + (["--auth", args.auth] if args.auth else []))


# ------------------------------------------------------------------- parser


#: The subcommands, in the order ``shiori --help`` lists them.
COMMANDS: tuple[str, ...] = ("chunks", "add", "index", "search", "ask", "cite", "eval", "serve")

#: The options ``shiori`` itself takes before a COMMAND (none takes a value).
_MAIN_FLAGS: frozenset[str] = frozenset({"--debug", "-q", "--quiet"})


def named_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs, when only ``shiori``'s own flags come before it.

    ``None`` for anything else (no command, ``--help`` or an unknown word first), which
    needs the parser of every subcommand: to list them or to name the valid choices.
    """
    for arg in argv:
        if arg in COMMANDS:
            return arg
        if arg not in _MAIN_FLAGS:
            return None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``shiori`` parser; with ``command``, the only subcommand it knows is that one.

    ``main`` builds just the subcommand it runs: argparse looks up the translation of
    each parser's strings through ``gettext`` (files on disk), so the whole parser cost
    a cold ``shiori ask`` 4-6 ms of CPU and the one it runs costs 2-3 ms (load average
    4-6). The arguments, help texts and errors of that subcommand are the same either way.
    """
    parser = argparse.ArgumentParser(
        prog="shiori",
        description="栞 shiori — answers from Japanese policy documents, with line-exact citations.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def wanted(name: str) -> bool:
        return command is None or command == name

    def common(p: argparse.ArgumentParser, k: bool = True, mode: bool = True) -> None:
        if k:
            p.add_argument("-k", type=int, default=None, help="number of passages (default 5)")
        if mode:
            p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default=None,
                           help="retrieval mode (default hybrid)")
        p.add_argument("--store", choices=["faiss", "milvus"], default=None, help="vector store (default faiss)")
        p.add_argument("--no-rebuild", action="store_true",
                       help="refuse a missing or stale index instead of rebuilding it")
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    if wanted("chunks"):
        p = sub.add_parser("chunks", help="print the passages with their line spans")
        p.add_argument("--doc", help="only this document (file name in corpus/)")
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        p.set_defaults(func=cmd_chunks)

    if wanted("add"):
        p = sub.add_parser("add", help="add a .txt, .md, .pdf or .docx file to the corpus")
        p.add_argument("path")
        p.add_argument("--title", help="document title (default: its first line)")
        p.add_argument("--issuer", help="issuing body, e.g. 国土交通省")
        p.add_argument("--date", help="document date (default: today)")
        p.add_argument("--json", action="store_true", help="print the manifest entry as JSON")
        p.set_defaults(func=cmd_add)

    if wanted("index"):
        p = sub.add_parser("index", help="build or refresh the index")
        p.add_argument("--rebuild", action="store_true", help="rebuild even if the index is up to date")
        p.add_argument("--ray", action="store_true",
                       help="embed with Ray Data (SHIORI_RAY_ADDRESS, else a local Ray); needs shiori[scale]")
        common(p, k=False, mode=False)
        p.set_defaults(func=cmd_index)

    if wanted("search"):
        p = sub.add_parser("search", help="ranked passages for a query")
        p.add_argument("query")
        common(p)
        p.set_defaults(func=cmd_search)

    if wanted("ask"):
        p = sub.add_parser("ask", help="a short answer with numbered citations (or a whole list: --batch)")
        p.add_argument("question", nargs="?")
        p.add_argument("--batch", metavar="FILE",
                       help="answer every question in FILE (.txt one a line; .csv/.xlsx column 質問 or question)")
        p.add_argument("--out", metavar="OUT",
                       help="with --batch: .csv, .xlsx or .jsonl (default: FILE's name + .answers, beside it)")
        common(p)
        p.add_argument("--answer-mode", choices=["extractive", "llm"], default=None,
                       help="extractive (default) or llm (needs SHIORI_LLM_BASE_URL)")
        p.set_defaults(func=cmd_ask)

    if wanted("cite"):
        p = sub.add_parser("cite", help="find the source of draft sentences (one per argument, - for stdin, or --draft)")
        p.add_argument("sentences", nargs="*", metavar="SENTENCE")
        p.add_argument("--draft", metavar="DRAFT", help="check every sentence of a .docx, .md or .txt draft")
        p.add_argument("--out", metavar="OUT",
                       help="with --draft: .xlsx, .md or .jsonl (default: DRAFT's name + .check.xlsx, beside it)")
        common(p, mode=False)
        p.set_defaults(func=cmd_cite)

    if wanted("eval"):
        p = sub.add_parser("eval", help="run the gold Q&A evaluation")
        p.add_argument("--gold", default=None,
                       help=f"gold file (JSON Lines; default {DEFAULT_GOLD}, or gold.jsonl beside --corpus DIR)")
        p.add_argument("--corpus", metavar="DIR", default=None,
                       help="evaluate another corpus directory, with its own index (DIR.index beside it)")
        p.add_argument("--index", metavar="DIR", default=None, help="the index directory for --corpus")
        p.add_argument("--beside", metavar="REPORT_JSON", default=None,
                       help="add a side-by-side table with another corpus's saved report (its --json output)")
        p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default=None)
        p.add_argument("--json", metavar="OUT", help="write the full report as JSON")
        p.add_argument("--markdown", metavar="OUT", help="write the table as Markdown")
        p.add_argument("--thresholds", metavar="TOML", help="fail (exit 1) naming each metric below its threshold")
        p.add_argument("--compare", action="store_true",
                       help="also run dense-only, bm25-only and a plain llama-index pipeline, side by side")
        p.add_argument("--oof", action="store_true",
                       help="score each item with a reader model fitted without it (for the training gold set)")
        p.add_argument("--refit-folds", action="store_true",
                       help="with --oof: fit the fold models even when assistant/reader/folds.json matches")
        p.add_argument("--store", choices=["faiss", "milvus"], default=None)
        p.set_defaults(func=cmd_eval)

    if wanted("serve"):
        p = sub.add_parser("serve", help="start the Gradio app")
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=7860)
        p.add_argument("--auth", default=None, help="user:pass (or SHIORI_AUTH)")
        p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 2 on bad input/usage, 1 on other failures."""
    cmdline = sys.argv[1:] if argv is None else argv
    parser = build_parser(named_command(cmdline))
    try:
        args = parser.parse_args(cmdline)
    except SystemExit as e:  # argparse exits 2 on usage errors, 0 on --help
        return int(e.code or 0)
    #: The command line of this process (the ``shiori`` script, ``python -m assistant.cli``),
    #: not a caller's list (e.g. a test's): the process ends when the command does.
    args.own_process = argv is None
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    from assistant.errors import ShioriError

    try:
        return int(args.func(args) or 0)
    except ShioriError as e:
        if args.debug:
            raise
        print(f"shiori: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("shiori: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`shiori ask … | head`): stop quietly, like other CLI tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as e:  # noqa: BLE001 - the one place that turns any failure into a one-line cause
        if args.debug:
            raise
        print(f"shiori: {type(e).__name__}: {e} (run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
