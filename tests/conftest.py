"""Shared fixtures: paths to the real corpus and the tiny fixture corpus."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from assistant.corpus import Document, load_corpus

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
REAL_CORPUS_DIR = ROOT / "corpus"
FIXTURE_CORPUS_DIR = Path(__file__).resolve().parent / "fixtures" / "corpus"


@pytest.fixture(scope="session")
def real_corpus() -> list[Document]:
    """The two documents of ``corpus/`` (read-only: never write to it)."""
    return load_corpus(REAL_CORPUS_DIR)


@pytest.fixture(scope="session")
def fixture_corpus() -> list[Document]:
    """The two short documents of ``tests/fixtures/corpus/``."""
    return load_corpus(FIXTURE_CORPUS_DIR)


@pytest.fixture
def tmp_corpus(tmp_path: Path) -> Path:
    """A writable copy of the fixture corpus directory."""
    dst = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS_DIR, dst)
    return dst


class OneDocument(Protocol):
    def __call__(self, root: Path, text: str, title: str) -> Pipeline: ...


def _one_document_pipeline(root: Path, text: str, title: str) -> Pipeline:
    from assistant.config import Settings
    from assistant.corpus import add_document
    from assistant.embedding import FakeEmbedder
    from assistant.pipeline import Pipeline

    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "manifest.json").write_text('{"schema": 1, "documents": []}', encoding="utf-8")
    src = root / "memo.txt"
    src.write_text(text, encoding="utf-8")
    add_document(corpus, src, title=title)
    s = Settings.from_env(environ={}, corpus_dir=corpus, index_dir=root / "index", embedder="fake",
                          tokenizer="mecab")
    p = Pipeline(s, embedder=FakeEmbedder(), progress=False)
    p.build()
    return p


@pytest.fixture(scope="session")
def one_document() -> OneDocument:
    """Builds a pipeline over a one-document corpus (``text`` under ``title``) in directory ``root``,
    indexed with the fake embedder and MeCab: ``one_document(tmp_path, text, title)``."""
    return _one_document_pipeline


# ------------------------------------------------------------ real-model index
# Built once per session with the bundled model, in a temp copy of the corpus,
# so the repository's own index/ is never read or written. Only slow tests use it.


def _build_real_index(root: Path, embeddings: Path | None) -> Settings:
    """The real corpus copied to ``root`` and indexed there, embeddings cached in ``embeddings`` (a copy)."""
    from assistant.config import Settings
    from assistant.embedding import load_embedder
    from assistant.store import build_index

    corpus = root / "corpus"
    shutil.copytree(REAL_CORPUS_DIR, corpus)
    if embeddings is not None and embeddings.is_dir():  # cached by content: a hit is the same vector
        shutil.copytree(embeddings, root / "index.cache")
    # environ={}: defaults only, whatever SHIORI_* variables the caller's shell has.
    settings = Settings.from_env(environ={}, corpus_dir=corpus, index_dir=root / "index", auto_rebuild=False)
    build_index(settings, load_embedder(settings.embedder), progress=False)
    return settings


@pytest.fixture(scope="session")
def real_embeddings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedding cache holding the real corpus's passages and sentences (the real model's vectors).

    Embedding the corpus is most of a real index build (minutes on two cores). Under pytest-xdist
    each worker is its own session: the first to get here embeds (starting from the checkout's
    ``index.cache/`` when there is one, as ``.ci/run`` leaves it) in the temp directory all workers
    share, under a file lock, and the others wait and reuse it. Every real index of the suite starts
    from a copy of it, so each builds for real but embeds only texts that are new.
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's directory, above each worker's own
    cache = shared / "real_embeddings" / "index.cache"
    with _locked(shared / "real_embeddings.lock"):
        if not (shared / "real_embeddings" / "done").exists():
            root = shared / "real_embeddings"
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            checkout = ROOT / "index.cache"
            _build_real_index(root, checkout if checkout.is_dir() else None)
            (root / "done").write_text("", encoding="utf-8")
    return cache


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (none where ``fcntl`` is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: every worker embeds for itself
        yield
        return
    with open(path, "a+b") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Path) -> Settings:
    """Settings for the real corpus indexed with the real (default) embedder and tokenizer."""
    return _build_real_index(tmp_path_factory.mktemp("real_index"), real_embeddings)


@pytest.fixture(scope="session")
def real_pipeline(real_index: Settings) -> Pipeline:
    """A pipeline over ``real_index`` (the model is loaded once and shared)."""
    from assistant.pipeline import Pipeline

    return Pipeline(real_index, progress=False)
