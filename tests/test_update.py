"""Incremental updates: ``shiori add`` + ``shiori index`` append to the index in place.

The contract: the updated index equals a full rebuild of the same corpus (the same
bytes in every column file and in BM25, the same answers), a crash mid-update
leaves the previous index whole, and anything but appended documents rebuilds.
Fast: the fixture corpus, the fake embedder and the bigram tokenizer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import Settings
from assistant.corpus import add_document, read_manifest, write_manifest
from assistant.embedding import FakeEmbedder
from assistant.pipeline import Pipeline
from assistant.store import MANIFEST, build_index
from assistant.writer import IndexWriter, update_index

NEW_DOC = (
    "核融合科学研究所の概要\n"
    "\n"
    "名称：大型ヘリカル装置（LHD）\n"
    "所在地：岐阜県土岐市\n"
    "運転開始：1998年3月\n"
    "\n"
    "LHDは超伝導コイルを用いたヘリカル型の実験装置である。プラズマの長時間保持に取り組んでいる。\n"
    "・重水素実験は2017年に始まった。\n"
    "・年間予算は約120億円である。\n"
)
QUERIES = ("大型ヘリカル装置の所在地", "原型炉開発", "年間予算", "ITER計画")
#: Manifest keys that record when and how fast, not what.
TIMING_KEYS = {"created", "updated", "updates", "build_seconds", "update_seconds", "embed_seconds",
               "crosslingual_seconds", "annotate_seconds", "embedded_new", "bm25_dir", "store"}


@pytest.fixture
def settings(tmp_corpus: Path, tmp_path: Path) -> Settings:
    return Settings.from_env(environ={}, corpus_dir=tmp_corpus, index_dir=tmp_path / "index", embedder="fake",
                             tokenizer="bigram", chunk_chars=80, chunk_overlap=10, auto_rebuild=False)


def _add(corpus: Path, tmp_path: Path, text: str = NEW_DOC, name: str = "lhd.txt") -> str:
    src = tmp_path / name
    src.write_text(text, encoding="utf-8")
    return add_document(corpus, src).id


def _files(directory: Path, manifest: dict) -> dict[str, str]:
    """Digest of every file, BM25's directory under one name; the manifest and graph left out."""
    out = {}
    bm25 = manifest.get("bm25_dir", "bm25")
    for p in sorted(directory.rglob("*")):
        rel = str(p.relative_to(directory))
        if p.is_dir() or rel == MANIFEST or rel.endswith(".faiss"):
            continue
        if rel.startswith(bm25 + "/"):
            rel = "bm25/" + rel[len(bm25) + 1:]
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _answers(p: Pipeline) -> list:
    out = []
    for q in QUERIES:
        hits = p.search(q, k=5).hits
        out.append([(h.chunk.id, round(h.score, 6)) for h in hits])
        answer = p.ask(q).to_json()
        answer.pop("timings_ms")
        out.append(answer)
    return out


def _compare_with_rebuild(settings: Settings, tmp_path: Path, updated: dict, graph: bool = False) -> None:
    rebuilt_settings = dataclasses.replace(settings, index_dir=tmp_path / "rebuilt")
    rebuilt = build_index(rebuilt_settings, FakeEmbedder(), progress=False)
    assert {k: v for k, v in updated.items() if k not in TIMING_KEYS} == \
        {k: v for k, v in rebuilt.items() if k not in TIMING_KEYS}
    a, b = _files(settings.index_dir, updated), _files(rebuilt_settings.index_dir, rebuilt)
    assert a == b
    assert _answers(Pipeline(settings, FakeEmbedder(), progress=False)) == \
        _answers(Pipeline(rebuilt_settings, FakeEmbedder(), progress=False))


def test_added_document_is_appended_and_equals_a_rebuild(settings: Settings, tmp_path: Path) -> None:
    first = build_index(settings, FakeEmbedder(), progress=False)
    before = {p.name: p.stat().st_ino for p in settings.index_dir.iterdir() if p.is_file()}
    doc = _add(settings.corpus_dir, tmp_path)

    p = Pipeline(settings, FakeEmbedder(), progress=False)
    manifest = p.build()  # what `shiori index` runs
    assert manifest["updates"] == 1 and manifest["created"] == first["created"]
    assert manifest["passages"] > first["passages"] and manifest["cells"] > first["cells"]
    assert manifest["bm25_dir"] == f"bm25.{manifest['passages']}"
    assert not (settings.index_dir / "bm25").exists()  # the replaced BM25 is gone
    # Column files grew in place (same inodes); BM25, the token vocabulary and the manifest were rewritten.
    after = {p.name: p.stat().st_ino for p in settings.index_dir.iterdir() if p.is_file()}
    rewritten = {MANIFEST, "sentence_tokens_vocab.json"}
    assert {k for k in before if after.get(k) == before[k]} == set(before) - rewritten
    assert any(h.chunk.doc == doc for h in p.search("大型ヘリカル装置", k=3).hits)
    _compare_with_rebuild(settings, tmp_path, manifest)

    # A second document updates the updated index again.
    _add(settings.corpus_dir, tmp_path, "第二の追加文書\n\n原型炉の設計活動は2025年に始まる。\n", "second.txt")
    again = Pipeline(settings, FakeEmbedder(), progress=False).build()
    assert again["updates"] == 2
    assert not (settings.index_dir / manifest["bm25_dir"]).exists()
    _compare_with_rebuild(settings, tmp_path, again)


def test_update_of_an_hnsw_index_adds_to_the_graph(settings: Settings, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph takes the new nodes and is written under a new name; on a corpus this small
    the rescored pool holds every passage, so search equals the rebuilt index's exactly."""
    monkeypatch.setattr("assistant.dense.HNSW_THRESHOLD", 0)
    build_index(settings, FakeEmbedder(), progress=False)
    _add(settings.corpus_dir, tmp_path)
    manifest = update_index(settings, FakeEmbedder(), progress=False)
    assert manifest is not None and manifest["dense"]["kind"] == "hnsw"
    graph = manifest["store"]["graph"]
    assert graph == f"dense.{manifest['passages']}.faiss" and (settings.index_dir / graph).exists()
    assert not (settings.index_dir / "dense.faiss").exists()
    _compare_with_rebuild(settings, tmp_path, manifest)


def test_crash_mid_update_leaves_the_previous_index(settings: Settings, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(settings, FakeEmbedder(), progress=False)
    old_manifest = (settings.index_dir / MANIFEST).read_bytes()
    old_answers = _answers(Pipeline(settings, FakeEmbedder(), progress=False))
    _add(settings.corpus_dir, tmp_path)

    real_finish = IndexWriter.finish

    def crash(self: IndexWriter, fields: dict, *args: object, **kw: object) -> dict:
        self._bm25()[0].save(self.directory / "bm25.partial")  # some of the new files exist...
        raise RuntimeError("simulated crash before the manifest")  # ...but nothing is committed

    monkeypatch.setattr(IndexWriter, "finish", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        update_index(settings, FakeEmbedder(), progress=False)
    assert (settings.index_dir / MANIFEST).read_bytes() == old_manifest
    # The column files hold uncommitted rows; the index reads only the committed ones.
    assert np.load(settings.index_dir / "sent_rows.npy").shape[0] > json.loads(old_manifest)["sentences"]
    restore = dataclasses.replace(settings)
    infos = read_manifest(settings.corpus_dir)
    write_manifest(settings.corpus_dir, infos[:-1])  # the corpus as the old index knew it
    assert _answers(Pipeline(restore, FakeEmbedder(), progress=False)) == old_answers
    write_manifest(settings.corpus_dir, infos)

    monkeypatch.setattr(IndexWriter, "finish", real_finish)
    manifest = Pipeline(settings, FakeEmbedder(), progress=False).build()
    assert manifest["updates"] == 1
    _compare_with_rebuild(settings, tmp_path, manifest)


def test_anything_but_appended_documents_rebuilds(settings: Settings, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    build_index(settings, FakeEmbedder(), progress=False)
    infos = read_manifest(settings.corpus_dir)
    # Edited in place: its rows cannot be patched.
    doc = settings.corpus_dir / infos[0].id
    text = doc.read_text(encoding="utf-8") + "\n追記。\n"
    doc.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(text.encode()).hexdigest()
    write_manifest(settings.corpus_dir, [dataclasses.replace(infos[0], sha256=sha), *infos[1:]])
    assert update_index(settings, FakeEmbedder(), progress=False) is None
    assert "updates" not in Pipeline(settings, FakeEmbedder(), progress=False).build()
    # Other settings.
    _add(settings.corpus_dir, tmp_path)
    assert update_index(dataclasses.replace(settings, chunk_chars=100), FakeEmbedder(), progress=False) is None
    # A size that needs another store type (flat -> HNSW) rebuilds too.
    n = json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))["passages"]
    monkeypatch.setattr("assistant.dense.HNSW_THRESHOLD", n)
    assert update_index(settings, FakeEmbedder(), progress=False) is None


def test_cli_add_then_index_updates_in_place(tmp_corpus: Path, tmp_path: Path) -> None:
    env = {"SHIORI_CORPUS_DIR": str(tmp_corpus), "SHIORI_INDEX_DIR": str(tmp_path / "index"),
           "SHIORI_EMBEDDER": "fake", "SHIORI_TOKENIZER": "bigram", "PATH": "/usr/bin:/bin"}

    def cli(*args: str) -> dict:
        out = subprocess.run([sys.executable, "-m", "assistant.cli", "-q", *args, "--json"], env=env,
                             capture_output=True, text=True, timeout=300, check=True)
        return json.loads(out.stdout)

    first = cli("index")
    src = tmp_path / "lhd.txt"
    src.write_text(NEW_DOC, encoding="utf-8")
    cli("add", str(src))
    second = cli("index")
    assert second["passages"] > first["passages"]
    manifest = json.loads((tmp_path / "index" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["updates"] == 1
