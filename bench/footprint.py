"""What an index costs per passage on disk and in memory once loaded, extrapolated to 1M passages.

``.npy`` arrays and the JSONL files are memory-mapped or small and count at their
size; the JSON artefacts become Python objects when loaded, whose memory is measured with
``tracemalloc`` (bytes held by the loaded objects). The vocabularies grow
more slowly than the corpus and are not scaled (the scale study measures BM25).
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

#: How the loader reads each text artefact: JSON whole; JSONL files are memory-mapped and
#: decoded a line at a time (``store.LineTable``), so they count as mapped files.
_LOADERS = {
    ".json": lambda p: json.loads(p.read_text(encoding="utf-8")),
}
#: Vocabularies grow more slowly than the corpus: measured, not scaled. (BM25's directory is
#: ``bm25.<n>`` after an update; the English term table is keyed by the vocabulary and read
#: only for English questions.)
_VOCABS = {"vocab.json", "sentence_tokens_vocab.json", "crosslingual.json"}


def index_footprint(index_dir: Path) -> dict[str, Any]:
    """Per-passage bytes on disk and KiB in memory for every file of ``index_dir``."""
    index_dir = Path(index_dir)
    passages = int(json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["passages"])
    files = []
    for p in sorted(index_dir.rglob("*")):
        if not p.is_file() or p.name == "manifest.json":
            continue
        size = p.stat().st_size
        row: dict[str, Any] = {
            "file": str(p.relative_to(index_dir)),
            "bytes_per_passage": size / passages,
            "memory": "mmap/array",
        }
        loader = _LOADERS.get(p.suffix)
        if p.name in _VOCABS:
            row["memory"] = "python dict/list (not scaled)"
        elif p.suffix == ".jsonl":
            row["memory"] = "read by row (offsets file)"
        elif loader:
            tracemalloc.start()
            obj = loader(p)
            held, _peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del obj
            row["kib_per_passage_loaded"] = held / 1024 / passages
            row["memory"] = "python objects"
        files.append(row)
    return {"passages": passages, "files": files}
