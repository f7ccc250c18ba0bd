"""Cross-validate the drafting check's cut-offs: ``python -m eval.cite_cv``.

Runs the ``cite`` items of eval/gold.jsonl and eval/train.jsonl (never eval/holdout.jsonl)
once through retrieval and candidate gathering, then judges them under each ``CitePolicy``
of a small grid (judging is pure and fast). Reports the four cite metrics of the current
policy, and the out-of-fold metrics of choosing the grid point on the other folds (k-fold
by item, fixed seed): the objective is the lowest of the four metrics, each over its target.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assistant.config import PROJECT_ROOT, Settings
from assistant.gold import GoldItem, citation_matches, load_gold

FILES = (PROJECT_ROOT / "eval" / "gold.jsonl", PROJECT_ROOT / "eval" / "train.jsonl")
#: The issue's acceptance targets of the four cite metrics.
TARGETS = {"supported": 0.90, "not_strong": 0.90, "located": 0.75, "unsupported": 0.85}
#: Cut-offs searched (each a small range around the default).
GRID: dict[str, tuple[float, ...]] = {
    "partial": (0.5, 0.6, 0.7),
    "polarity_item": (0.5, 0.6, 0.7),
    "label": (0.6, 0.8),
}
SEED = 13
FOLDS = 5


@dataclass
class Prepared:
    """One cite item after retrieval and claim analysis: what ``decide`` needs besides the policy."""

    item: GoldItem
    result: Any
    claim: Any
    cands: Any


def prepare(files: Sequence[Path]) -> tuple[Any, list[Prepared]]:
    """The pipeline and every cite item of ``files``, retrieved once."""
    from assistant.pipeline import Pipeline

    items = [i for f in files for i in load_gold(f) if i.kind == "cite"]
    p = Pipeline(Settings.from_env(), progress=False)
    index = p.index()
    from assistant.cite import DEFAULT_CITE_POLICY

    # As ``Pipeline.cite`` retrieves (``passages`` is not in the grid: it changes the retrieval).
    results = p.search_many([i.question for i in items], k=max(p.settings.top_k, DEFAULT_CITE_POLICY.passages))
    from assistant.bm25 import get_tokenizer
    from assistant.cite import analyse_claim

    tokenize = get_tokenizer(p.settings.tokenizer)
    names = p.settings.tokenizer == "mecab"
    out = []
    for item, res in zip(items, results, strict=True):
        q = p.analyse(item.question).with_search_terms(res.query_tokens, index.idf)
        claim, cands = analyse_claim(q, res, index, tokenize, names, DEFAULT_CITE_POLICY.passages)
        out.append(Prepared(item, res, claim, cands))
    return p, out


def verdicts(p: Any, prepared: Sequence[Prepared], policy: Any) -> list[tuple[str, bool]]:
    """(strength, first source right) of each item under ``policy``."""
    from assistant.cite import decide

    index = p.index()
    out = []
    for x in prepared:
        r = decide(x.claim, x.cands, x.result, index, policy)
        first = r.sources[0] if r.sources else None
        ok = bool(first and citation_matches(first.doc, first.first_line, first.last_line, x.item))
        out.append((r.strength, ok))
    return out


def metrics(prepared: Sequence[Prepared], v: Sequence[tuple[str, bool]]) -> dict[str, float]:
    """The four cite metrics (as ``evaluate.compute_metrics`` scores them)."""
    by: dict[str, list[float]] = {k: [] for k in TARGETS}
    for x, (s, ok) in zip(prepared, v, strict=True):
        e = x.item.expect
        if e == "supported":
            by["supported"].append(float(s in ("strong", "partial") and ok))
        elif e == "contradicted":
            by["not_strong"].append(float(s != "strong"))
            by["located"].append(float(s == "conflict" and ok))
        else:
            by["unsupported"].append(float(s == "none"))
    return {k: round(sum(xs) / len(xs), 4) if xs else 1.0 for k, xs in by.items()}


def objective(m: dict[str, float]) -> tuple[float, float]:
    """The lowest metric over its target, then the mean (ties)."""
    r = [m[k] / t for k, t in TARGETS.items()]
    return min(r), sum(r) / len(r)


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.cite import DEFAULT_CITE_POLICY

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-grid", action="store_true", help="only the current policy's metrics and failures")
    ap.add_argument("--failures", action="store_true", help="list the items the current policy gets wrong")
    ap.add_argument("--files", nargs="*", type=Path, default=list(FILES))
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    p, prepared = prepare(args.files)
    base = verdicts(p, prepared, DEFAULT_CITE_POLICY)
    print("current policy:", json.dumps(metrics(prepared, base)), f"({len(prepared)} items)")
    for f in args.files:
        sub = [i for i, x in enumerate(prepared) if x.item.id in {g.id for g in load_gold(f)}]
        print(f"  {f.name}:", json.dumps(metrics([prepared[i] for i in sub], [base[i] for i in sub])))
    if args.failures:
        for x, (s, ok) in zip(prepared, base, strict=True):
            e = x.item.expect
            bad = ((e == "supported" and not (s in ("strong", "partial") and ok))
                   or (e == "contradicted" and not (s == "conflict" and ok)) or (e == "unsupported" and s != "none"))
            if bad:
                print(f"  FAIL {x.item.id} {e} -> {s} (first source right: {ok}) {x.item.question}")
    if args.no_grid:
        return 0
    names = list(GRID)
    points = [dict(zip(names, vals, strict=True)) for vals in itertools.product(*(GRID[n] for n in names))]
    table = [verdicts(p, prepared, replace(DEFAULT_CITE_POLICY, **pt)) for pt in points]
    order = list(range(len(prepared)))
    random.Random(SEED).shuffle(order)
    folds = [order[f::FOLDS] for f in range(FOLDS)]
    oof: list[tuple[str, bool]] = [("none", False)] * len(prepared)
    for held in folds:
        held_set = set(held)
        train = [i for i in range(len(prepared)) if i not in held_set]
        best = max(range(len(points)), key=lambda j: objective(
            metrics([prepared[i] for i in train], [table[j][i] for i in train])))
        print("fold choice:", points[best])
        for i in held:
            oof[i] = table[best][i]
    print("out of fold:", json.dumps(metrics(prepared, oof)))
    best = max(range(len(points)), key=lambda j: objective(metrics(prepared, table[j])))
    print("best on all:", points[best], json.dumps(metrics(prepared, table[best])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
