"""The gold-set evaluation: run every item through the pipeline and compute the metrics.

Metric names are fixed by docs/INTERFACE.md and used by reports and the CI gate
(``eval/thresholds.toml``). ``run`` takes anything with the ``ask``/``cite``
methods of ``Pipeline`` so other systems (the plain llama-index baseline) are
measured with exactly the same code.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.errors import ShioriError, UsageError
from assistant.gold import GoldItem, answer_matches, citation_matches

METRICS: tuple[str, ...] = (
    "answer_accuracy",
    "citation_accuracy",
    "recall_at_1",
    "recall_at_5",
    "mrr_at_10",
    "abstention_precision",
    "abstention_recall",
    "latency_ms_p50",
    "latency_ms_p95",
    "answer_chars_mean",
    "cited_lines_mean",
    "direct_accuracy",
    "cite_supported_accuracy",
    "cite_conflict_recall",
    "cite_conflict_located",
    "cite_unsupported_recall",
)
#: Metrics where lower is better (the gate treats their thresholds as maxima).
LOWER_IS_BETTER = {"latency_ms_p50", "latency_ms_p95", "answer_chars_mean", "cited_lines_mean"}
PRIMARY_METRIC = "answer_accuracy"


class System(Protocol):
    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> Any: ...

    def cite(self, sentences: Sequence[str], k: int | None = None) -> Any: ...


@dataclass
class ItemRecord:
    id: str
    kind: str
    question: str
    answer: str
    abstained: bool
    citations: list[dict[str, Any]]
    retrieved: list[dict[str, Any]]
    latency_ms: float
    answer_correct: bool | None = None
    citation_correct: bool | None = None
    rank: int | None = None  # 1-based rank of the first retrieved passage on the gold span
    direct: str | None = None
    direct_correct: bool | None = None
    #: ``cite`` items: the verdict, what the item expects, and mismatches found.
    strength: str | None = None
    expect: str | None = None
    mismatches: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Report:
    config: dict[str, Any]
    overall: dict[str, float | None]
    by_kind: dict[str, dict[str, float | None]]
    items: list[ItemRecord] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config,
            "overall": self.overall,
            "by_kind": self.by_kind,
            "primary_metric": PRIMARY_METRIC,
            "items": [i.to_json() for i in self.items],
        }


class OutOfFold:
    """A system that answers each gold item with a reader model fitted without it.

    The gold set is training data for the reader: scoring it with the shipped model
    would measure memory, not reading. Items are split into folds; each fold's model
    is fitted on every other training question (``eval/train.jsonl`` and the other
    folds; any file on another corpus on its own index) by the same code as
    ``python -m assistant.reader.train``.
    """

    def __init__(self, pipeline: Any, models: dict[str, Any]) -> None:
        self.pipeline = pipeline
        self.models = models

    @classmethod
    def fit(cls, pipeline: Any, items: Sequence[GoldItem], progress: bool = True, refit: bool = False,
            folds_path: Any = None) -> OutOfFold:
        """Fold models fitted on the training files, or read from ``folds_path`` (default
        ``train.FOLDS_PATH``, written by the retrain) when its manifest matches these examples, code,
        settings and libraries: the same models either way. A missing or stale file, or ``refit``,
        fits them anew; a line on stderr says which."""
        from assistant.reader import train

        questions = [i for i in items if i.kind != "cite"]
        t = time.perf_counter()
        # Every training file on its own corpus (as the retrain reads them), the scored items on this one.
        examples = train.training_examples(pipeline, asked=questions, progress=progress,
                                           abstain_only=train.ABSTAIN_FILES, rank_only=train.RANK_FILES)
        built = time.perf_counter() - t
        ids = {i.id for i in questions}
        df = pipeline.index().df
        by_id = None
        if refit:
            why = "refit asked for"
        else:
            data = [*train.TRAIN_FILES, *train.RANK_FILES, *train.ABSTAIN_FILES]
            by_id, why = train.load_fold_models(folds_path or train.FOLDS_PATH,
                                                train.fold_manifest(examples, ids, data, df))
        if by_id is None:
            print(f"eval --oof: {why}; fitting the fold models "
                  "(python -m assistant.reader.train writes them for the next run)", file=sys.stderr)
            by_id = train.fold_models(examples, ids, df)
        else:
            print(f"eval --oof: {why} (its manifest matches the training examples, code and settings)",
                  file=sys.stderr)
        print(f"eval --oof: {len(examples)} training examples built in {built:.0f} s; fold models ready "
              f"{time.perf_counter() - t - built:.0f} s later", file=sys.stderr)
        return cls(pipeline, {i.question: by_id[i.id] for i in questions if i.id in by_id})

    def ask(self, question: str, k: int | None = None, mode: str | None = None) -> Any:
        return self.pipeline.with_reader_model(self.models.get(question)).ask(question, k=k, mode=mode)

    def cite(self, sentences: Sequence[str], k: int | None = None) -> Any:
        return self.pipeline.cite(sentences, k=k)


def _span(obj: Any) -> dict[str, Any]:
    return {"doc": obj.doc, "first_line": obj.first_line, "last_line": obj.last_line}


#: Answer kinds whose ``direct`` answer is scored (``direct_accuracy``).
DIRECT_KINDS = ("fact", "number", "en")


def _expect(item: GoldItem) -> str | None:
    return getattr(item, "expect", "supported") if item.kind == "cite" else None


def has_span(item: GoldItem) -> bool:
    """Items with a gold span: everything but ``none`` questions and unsupported draft sentences."""
    return item.kind != "none" and not (item.kind == "cite" and _expect(item) == "unsupported")


def run_item(system: System, item: GoldItem, mode: str | None = None) -> ItemRecord:
    """Run one gold item through ``ask`` (or ``cite`` for kind ``cite``) and judge it."""
    t = time.perf_counter()
    strength = direct = None
    mismatches: list[dict[str, Any]] = []
    if item.kind == "cite":
        res = system.cite([item.question])[0]
        strength = res.strength
        answer, abstained = res.citation, res.strength == "none"
        cits = [_span(s) for s in res.sources]
        hits = res.retrieved
        mismatches = [m.to_json() for m in getattr(res, "mismatches", [])]
    else:
        res = system.ask(item.question, k=10, mode=mode)
        answer, abstained = res.answer, res.abstained
        cits = [_span(c) for c in res.citations]
        hits = res.retrieved
        direct = getattr(res, "direct", None)
    latency = (time.perf_counter() - t) * 1000
    retrieved = [_span(h.chunk) for h in hits[:10]]
    rec = ItemRecord(item.id, item.kind, item.question, answer, abstained, cits, retrieved, round(latency, 3),
                     direct=direct, strength=strength, expect=_expect(item), mismatches=mismatches)
    if item.kind != "cite" and direct is not None and item.answers and item.kind in DIRECT_KINDS:
        rec.direct_correct = answer_matches(direct, item)
    if item.kind == "cite" and strength is not None and has_span(item):
        first = cits[0] if cits else None
        rec.citation_correct = bool(
            first and citation_matches(first["doc"], first["first_line"], first["last_line"], item)
        )
    if item.kind == "cite":
        if has_span(item):
            rec.rank = next((i + 1 for i, r in enumerate(retrieved)
                             if citation_matches(r["doc"], r["first_line"], r["last_line"], item)), None)
        return rec
    if item.kind != "none":
        rec.rank = next(
            (i + 1 for i, r in enumerate(retrieved) if citation_matches(r["doc"], r["first_line"], r["last_line"], item)),
            None,
        )
        first = cits[0] if cits and not abstained else None
        rec.citation_correct = bool(
            first and citation_matches(first["doc"], first["first_line"], first["last_line"], item)
        )
        if item.answers and item.kind != "cite":
            rec.answer_correct = (not abstained) and answer_matches(answer, item)
    return rec


def _mean(xs: Sequence[float]) -> float | None:
    return round(float(np.mean(xs)), 4) if len(xs) else None


def compute_metrics(records: Sequence[ItemRecord]) -> dict[str, float | None]:
    """All interface metrics over ``records`` (``None`` where a metric has no items)."""
    answerable = [r for r in records if r.kind != "none" and r.expect != "unsupported"]
    with_answers = [r for r in answerable if r.answer_correct is not None]
    none_items = [r for r in records if r.kind == "none"]
    # Abstention is about questions: a draft sentence rated `none` is a verdict, not an abstention.
    abstained = [r for r in records if r.abstained and r.kind != "cite"]
    lat = [r.latency_ms for r in records]
    answered = [r for r in records if not r.abstained and r.kind != "cite"]
    spans = [c["last_line"] - c["first_line"] + 1 for r in records if not r.abstained for c in r.citations[:1]]
    direct_items = [r for r in with_answers if r.kind in DIRECT_KINDS]
    cites = [r for r in records if r.kind == "cite" and r.strength is not None]
    supported = [r for r in cites if r.expect == "supported"]
    contradicted = [r for r in cites if r.expect == "contradicted"]
    unsupported = [r for r in cites if r.expect == "unsupported"]
    return {
        "answer_accuracy": _mean([float(bool(r.answer_correct)) for r in with_answers]),
        "citation_accuracy": _mean([float(bool(r.citation_correct)) for r in answerable]),
        "recall_at_1": _mean([float(r.rank == 1) for r in answerable]),
        "recall_at_5": _mean([float(r.rank is not None and r.rank <= 5) for r in answerable]),
        "mrr_at_10": _mean([1.0 / r.rank if r.rank else 0.0 for r in answerable]),
        "abstention_precision": (
            round(sum(r.kind == "none" for r in abstained) / len(abstained), 4) if abstained else None
        ),
        "abstention_recall": _mean([float(r.abstained) for r in none_items]),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 3) if lat else None,
        "latency_ms_p95": round(float(np.percentile(lat, 95)), 3) if lat else None,
        "answer_chars_mean": _mean([len(r.answer) for r in answered]),
        "cited_lines_mean": _mean(spans),
        "direct_accuracy": _mean([float(bool(r.direct_correct)) for r in direct_items]),
        "cite_supported_accuracy": _mean([float(r.strength in ("strong", "partial") and bool(r.citation_correct))
                                          for r in supported]),
        "cite_conflict_recall": _mean([float(r.strength != "strong") for r in contradicted]),
        "cite_conflict_located": _mean([float(r.strength == "conflict" and bool(r.citation_correct))
                                        for r in contradicted]),
        "cite_unsupported_recall": _mean([float(r.strength == "none") for r in unsupported]),
    }


def run(
    system: System,
    items: Sequence[GoldItem],
    config: dict[str, Any] | None = None,
    mode: str | None = None,
    progress: bool = True,
    on_item: Callable[[ItemRecord], None] | None = None,
) -> Report:
    """Evaluate ``system`` on ``items``; a progress bar goes to stderr."""
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="eval", unit="q", file=sys.stderr, leave=False)
    records = []
    for item in items:
        rec = run_item(system, item, mode)
        records.append(rec)
        if on_item:
            on_item(rec)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    kinds = sorted({r.kind for r in records})
    by_kind = {k: compute_metrics([r for r in records if r.kind == k]) for k in kinds}
    return Report(config or {}, compute_metrics(records), by_kind, records)


# ------------------------------------------------------------------ reporting


def _fmt(v: float | None, metric: str) -> str:
    if v is None:
        return "–"
    if metric.startswith("latency") or metric.endswith("_mean"):
        return f"{v:.1f}"
    return f"{v:.3f}"


def markdown_table(report: Report) -> str:
    """Overall and per-kind metrics as a Markdown table."""
    cols = ["overall", *report.by_kind]
    lines = ["| metric | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for m in METRICS:
        row = [_fmt(report.overall.get(m), m)] + [_fmt(report.by_kind[k].get(m), m) for k in report.by_kind]
        lines.append(f"| {m} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def side_by_side(reports: dict[str, Report], metrics: Sequence[str] = METRICS) -> str:
    """One column per system/mode, overall metrics."""
    names = list(reports)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for m in metrics:
        lines.append(f"| {m} | " + " | ".join(_fmt(reports[n].overall.get(m), m) for n in names) + " |")
    return "\n".join(lines)


def load_report(path: Path) -> dict[str, Any]:
    """A saved report (``shiori eval --json``); raises ``UsageError`` naming the file when unusable."""
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"cannot read report {path}: {e.strerror or e}") from e
    except ValueError as e:
        raise UsageError(f"report {path} is not valid JSON: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("overall"), dict) or not isinstance(
        data.get("by_kind"), dict
    ):
        raise UsageError(f"report {path} is not a `shiori eval --json` report (no overall/by_kind)")
    return data


#: Per-kind rows of the corpora table: the answer, the first citation, retrieval.
CORPORA_KIND_METRICS: tuple[str, ...] = ("answer_accuracy", "citation_accuracy", "recall_at_5")


def report_label(data: dict[str, Any], n_items: int | None = None) -> str:
    """A report's column name in the corpora table: its corpus, gold file and size."""
    config = data.get("config", {})
    n = n_items if n_items is not None else len(data.get("items", []))
    corpus = _rel(config["corpus_dir"]) if config.get("corpus_dir") else "?"
    return f"{corpus} ({config.get('gold', '?')}, {n} items)"


def corpora_table(reports: dict[str, dict[str, Any]], metrics: Sequence[str] = METRICS) -> str:
    """Several corpora side by side: one column per report (``--json`` dicts), overall then per kind."""
    names = list(reports)
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for m in metrics:
        lines.append(f"| {m} | " + " | ".join(_fmt(reports[n]["overall"].get(m), m) for n in names) + " |")
    kinds = sorted({k for r in reports.values() for k in r["by_kind"]})
    for m in CORPORA_KIND_METRICS:
        for k in kinds:
            cells = [_fmt(reports[n]["by_kind"].get(k, {}).get(m), m) for n in names]
            if any(c != "–" for c in cells):
                lines.append(f"| {m} ({k}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ----------------------------------------------------------------------- gate


def load_thresholds(path: Path) -> dict[str, Any]:
    """``[overall]`` metric minimums (maxima for lower-is-better metrics) and ``[by_kind.<kind>]``.

    Raises ``UsageError`` naming the file for a missing or malformed file, an
    unknown metric name (listing the valid ones) or a non-numeric limit.
    """
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10: the same parser ships as the tomli package
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError as e:
            raise ShioriError("reading a thresholds file needs Python 3.11+ or `pip install tomli`") from e
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise UsageError(f"cannot read thresholds file {path}: {e.strerror or e}") from e
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"thresholds file {path} is not valid TOML: {e}") from e
    tables = [("overall", data.get("overall", {}))]
    tables += [(f"by_kind.{k}", v) for k, v in data.get("by_kind", {}).items()]
    for scope, limits in tables:
        if not isinstance(limits, dict):
            raise UsageError(f"thresholds file {path}: [{scope}] must be a table of metric = number")
        for metric, limit in limits.items():
            if metric not in METRICS:
                raise UsageError(
                    f"thresholds file {path}: unknown metric {scope}.{metric}; choose from {sorted(METRICS)}"
                )
            if isinstance(limit, bool) or not isinstance(limit, (int, float)):
                raise UsageError(f"thresholds file {path}: {scope}.{metric} must be a number, got {limit!r}")
    return data


def check_thresholds(report: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Failures as lines naming metric, value and threshold; empty when the gate passes."""
    failures: list[str] = []

    def check(scope: str, values: dict[str, Any], limits: dict[str, Any]) -> None:
        for metric, limit in limits.items():
            value = values.get(metric)
            if value is None:
                failures.append(f"{scope}.{metric}: missing from the report (threshold {limit})")
            elif metric in LOWER_IS_BETTER and value > limit:
                failures.append(f"{scope}.{metric} = {value} is above the maximum {limit}")
            elif metric not in LOWER_IS_BETTER and value < limit:
                failures.append(f"{scope}.{metric} = {value} is below the threshold {limit} (by {limit - value:.4f})")

    check("overall", report.get("overall", {}), thresholds.get("overall", {}))
    for kind, limits in thresholds.get("by_kind", {}).items():
        check(f"by_kind.{kind}", report.get("by_kind", {}).get(kind, {}), limits)
    return failures


# ------------------------------------------------------------------ the report

#: Targets of the eval issue (default offline configuration).
TARGETS: dict[str, float] = {
    "answer_accuracy": 0.85,
    "recall_at_5": 0.95,
    "citation_accuracy": 0.90,
    "abstention_precision": 0.80,
    "abstention_recall": 0.80,
}
KIND_TARGET = 0.70


def targets_table(report: Report) -> str:
    """Each target beside the achieved value and the gap."""
    lines = ["| target | required | achieved | gap |", "|---|---|---|---|"]
    rows = [(m, TARGETS[m], report.overall.get(m)) for m in TARGETS]
    rows += [(f"answer_accuracy ({k})", KIND_TARGET, v.get("answer_accuracy"))
             for k, v in report.by_kind.items() if v.get("answer_accuracy") is not None]
    for name, want, have in rows:
        if have is None:
            lines.append(f"| {name} | {want:.2f} | – | – |")
            continue
        gap = "met" if have >= want else f"short by {want - have:.3f}"
        lines.append(f"| {name} | {want:.2f} | {have:.3f} | {gap} |")
    return "\n".join(lines)


def _pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{v:.{digits}%}"


def _num(v: float | None, digits: int = 0) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def headline(report: Report, baseline: Report | None = None) -> str:
    """One sentence with the main numbers (for the README)."""
    o = report.overall
    text = (
        f"answer accuracy {_pct(o['answer_accuracy'])}, Recall@5 {_pct(o['recall_at_5'])}, "
        f"citation accuracy {_pct(o['citation_accuracy'])}, abstention precision/recall "
        f"{_pct(o['abstention_precision'], 0)}/{_pct(o['abstention_recall'], 0)}, "
        f"answers of {_num(o['answer_chars_mean'])} characters citing {_num(o['cited_lines_mean'], 1)} lines on average"
    )
    if baseline is not None:
        b = baseline.overall
        text += (
            f" (plain llama-index defaults on the same embedder: answer accuracy {_pct(b['answer_accuracy'])}, "
            f"Recall@5 {_pct(b['recall_at_5'])}, answers of {_num(b['answer_chars_mean'])} characters citing "
            f"{_num(b['cited_lines_mean'])} lines)"
        )
    return text + "."


def render_report(
    main: Report,
    others: dict[str, Report],
    gold: str,
    n_items: int,
    notes: str = "",
    command: str = "shiori eval --compare --markdown eval/REPORT.md",
    corpora: str = "",
) -> str:
    """The Markdown report: headline, targets, per-kind table, side by side (systems, corpora)."""
    baseline = next((r for name, r in others.items() if "llama" in name), None)
    corpus = main.config.get("corpus_dir")
    where = f"Corpus: `{_rel(corpus)}`. " if corpus and Path(corpus).resolve() != _DEFAULT_CORPUS else ""
    parts = [
        "# shiori eval report",
        "",
        f"{where}Gold set: `{gold}` ({n_items} items). Default offline configuration "
        f"(`{main.config.get('embedder')}` embedder, `{main.config.get('mode')}` retrieval, "
        f"`{main.config.get('fusion')}` fusion). Reproduce with `{command}`.",
        "",
        "**Headline:** " + headline(main, baseline),
        "",
        "## Targets",
        "",
        targets_table(main),
        "",
        "## By kind (default configuration)",
        "",
        markdown_table(main),
    ]
    if others:
        parts += [
            "",
            "## Side by side",
            "",
            "Same gold set and metric code for every column; `llama-index defaults` is SentenceSplitter "
            "(1024 tokens) + VectorStoreIndex over the same embedder, top-k retrieval, the top passage as the answer.",
            "",
            side_by_side({"shiori (hybrid)": main, **others}),
        ]
    if corpora:
        parts += [
            "",
            "## The corpora side by side",
            "",
            "The same pipeline, settings and metric code on each corpus, each with its own index; the "
            "other column comes from its saved `--json` report (`--beside`).",
            "",
            corpora,
        ]
    if notes:
        parts += ["", notes]
    return "\n".join(parts) + "\n"


_DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _rel(path: str) -> str:
    """``path`` relative to the working directory when it is under it (reports name no home paths)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
