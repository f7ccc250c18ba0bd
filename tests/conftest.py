"""Shared fixtures: paths to the real corpus and the tiny fixture corpus."""

from __future__ import annotations

import shutil
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


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the real corpus indexed with the real (default) embedder and tokenizer."""
    from assistant.config import Settings
    from assistant.embedding import load_embedder
    from assistant.store import build_index

    root = tmp_path_factory.mktemp("real_index")
    corpus = root / "corpus"
    shutil.copytree(REAL_CORPUS_DIR, corpus)
    # environ={}: defaults only, whatever SHIORI_* variables the caller's shell has.
    settings = Settings.from_env(environ={}, corpus_dir=corpus, index_dir=root / "index", auto_rebuild=False)
    build_index(settings, load_embedder(settings.embedder), progress=False)
    return settings


@pytest.fixture(scope="session")
def real_pipeline(real_index: Settings) -> Pipeline:
    """A pipeline over ``real_index`` (the model is loaded once and shared)."""
    from assistant.pipeline import Pipeline

    return Pipeline(real_index, progress=False)
