"""English questions: the JMdict term table against the glossary (``python -m bench.crosslingual``).

For the ``en`` items of the given gold files, four settings of the English BM25
terms: (a) table only, (b) glossary only, (c) both, (d) neither (Latin names and
pseudo-relevance feedback only). Reports Recall@1/@5 of ``search`` (hybrid, top 10) and
answer accuracy of ``ask``, for all questions and per file, and how often the translated terms meet a token of the
gold answer lines (a proxy for the reader's lexical features). Uses the repository's
``index/`` (built when missing). Run with ``OMP_NUM_THREADS=1`` on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench import ROOT

CONDITIONS: dict[str, dict[str, bool]] = {
    "table": {"crosslingual": True, "glossary": False},
    "glossary": {"crosslingual": False, "glossary": True},
    "both": {"crosslingual": True, "glossary": True},
    "neither": {"crosslingual": False, "glossary": False},
}
DEFAULT_GOLD = (ROOT / "eval" / "gold.jsonl", ROOT / "eval" / "train.jsonl")


def run(gold_paths: tuple[Path, ...], k: int = 10) -> dict[str, Any]:
    """Per-condition metrics and per-item ranks for the ``en`` items of ``gold_paths``."""
    from assistant.bm25 import get_tokenizer
    from assistant.config import Settings
    from assistant.crosslingual import english_terms, is_name
    from assistant.evaluate import run_item
    from assistant.glossary import to_japanese_terms
    from assistant.gold import citation_matches, load_gold
    from assistant.normalize import normalize, normalize_query
    from assistant.pipeline import Pipeline

    sources = {it.id: p.name for p in gold_paths for it in load_gold(p) if it.kind == "en"}
    items = [it for p in gold_paths for it in load_gold(p) if it.kind == "en"]
    base = Settings.from_env()
    first = Pipeline(base, progress=False)
    index = first.index()
    tokenize = get_tokenizer(base.tokenizer)
    vocab = index.bm25.vocab
    out: dict[str, Any] = {"items": len(items), "table_keys": len(index.crosslingual), "conditions": {}}

    # Proxy: do the translated terms (no Latin names) meet the tokens of the gold span's lines?
    proxy = {"table": 0, "glossary": 0, "table_or_glossary": 0}
    per_item: dict[str, dict[str, Any]] = {it.id: {"question": it.question} for it in items}
    for it in items:
        first_line, last_line = it.lines
        doc_lines = (base.corpus_dir / it.doc).read_text(encoding="utf-8").split("\n")
        gold = set(tokenize(normalize("\n".join(doc_lines[first_line - 1 : last_line]))))
        table_terms = {t for t in english_terms(it.question, index.crosslingual)
                       if t in vocab and not is_name(t) and not t.isascii()}
        gloss_terms = {t for t in tokenize(normalize_query(to_japanese_terms(it.question)))
                       if t in vocab and not t.isascii()}
        hit_t, hit_g = bool(table_terms & gold), bool(gloss_terms & gold)
        proxy["table"] += hit_t
        proxy["glossary"] += hit_g
        proxy["table_or_glossary"] += hit_t or hit_g
        per_item[it.id].update(table_terms_in_gold=sorted(table_terms & gold),
                               glossary_terms_in_gold=sorted(gloss_terms & gold))
    out["gold_line_overlap"] = {k: round(v / len(items), 4) for k, v in proxy.items()}

    for name, flags in CONDITIONS.items():
        pipe = Pipeline(replace(base, **flags), first.embedder, progress=False)
        pipe._index = index  # the same loaded index for every condition
        for it in items:
            res = pipe.search(it.question, k=k)
            rank = next((h.rank for h in res.hits if citation_matches(h.chunk.doc, h.chunk.first_line,
                                                                      h.chunk.last_line, it)), None)
            rec = run_item(pipe, it)
            per_item[it.id][name] = {"search_rank": rank, "ask_rank": rec.rank,
                                     "answer_correct": rec.answer_correct}
        by_file: dict[str, Any] = {}
        for label in ("all", *dict.fromkeys(sources.values())):
            ranks = [(per_item[it.id][name]["search_rank"], per_item[it.id][name]["answer_correct"])
                     for it in items if label == "all" or sources[it.id] == label]
            by_file[label] = {
                "n": len(ranks),
                "recall_at_1": round(sum(r == 1 for r, _ in ranks) / len(ranks), 4),
                "recall_at_5": round(sum(r is not None and r <= 5 for r, _ in ranks) / len(ranks), 4),
                "answer_accuracy": round(sum(bool(a) for _, a in ranks) / len(ranks), 4),
            }
        out["conditions"][name] = by_file
    out["per_item"] = per_item
    return out


def sweep(gold_paths: tuple[Path, ...], weights: tuple[float, ...], k: int = 10) -> dict[str, dict[str, float]]:
    """Recall@1/@5 of ``search`` for the English questions of ``gold_paths`` under each dense weight
    of the fusion (``Settings.dense_weight_en``), the other settings as configured."""
    from assistant.config import Settings
    from assistant.gold import citation_matches, load_gold
    from assistant.normalize import normalize_query
    from assistant.pipeline import Pipeline

    items = [it for p in gold_paths for it in load_gold(p) if it.kind == "en" and it.doc]
    base = Settings.from_env()
    pipe = Pipeline(base, progress=False)
    vectors = pipe.encode_queries([normalize_query(it.question) for it in items])  # once for every weight
    out: dict[str, dict[str, float]] = {}
    for w in weights:
        pipe.settings = replace(base, dense_weight_en=w)
        ranks = []
        for it, v in zip(items, vectors, strict=True):
            res = pipe._search(it.question, k, None, v)
            ranks.append(next((h.rank for h in res.hits if citation_matches(h.chunk.doc, h.chunk.first_line,
                                                                            h.chunk.last_line, it)), None))
        out[str(w)] = {"n": len(ranks), "recall_at_1": round(sum(r == 1 for r in ranks) / len(ranks), 4),
                       "recall_at_5": round(sum(r is not None and r <= 5 for r in ranks) / len(ranks), 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.crosslingual", description=__doc__.splitlines()[0])
    ap.add_argument("gold", nargs="*", type=Path, default=list(DEFAULT_GOLD))
    ap.add_argument("--json", type=Path, help="write the full results here")
    ap.add_argument("--dense-weights", help="instead: Recall@1/@5 under each of these comma-separated dense "
                                            "weights of English questions (e.g. 0.3,0.4,0.5)")
    args = ap.parse_args(argv)
    if args.dense_weights:
        weights = tuple(float(x) for x in args.dense_weights.split(","))
        table = sweep(tuple(args.gold), weights)
        print("| dense_weight_en | n | Recall@1 | Recall@5 |\n|---|---|---|---|")
        for w, m in table.items():
            print(f"| {w} | {m['n']} | {m['recall_at_1']:.3f} | {m['recall_at_5']:.3f} |")
        return 0
    res = run(tuple(args.gold))
    print(f"{res['items']} English questions ({', '.join(str(p.name) for p in args.gold)}); "
          f"table: {res['table_keys']} keys")
    print("| condition | questions | n | Recall@1 | Recall@5 | answer accuracy |\n|---|---|---|---|---|---|")
    for name, by_file in res["conditions"].items():
        for label, m in by_file.items():
            print(f"| {name} | {label} | {m['n']} | {m['recall_at_1']:.3f} | {m['recall_at_5']:.3f} "
                  f"| {m['answer_accuracy']:.3f} |")
    print("gold answer lines meeting a translated term:", res["gold_line_overlap"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
