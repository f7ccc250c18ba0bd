"""shiori inside llama-index: ``ShioriRetriever`` and ``ShioriQueryEngine``.

Fast tests run on the fixture corpus with the fake embedder; the ``slow`` ones on the real
corpus and model check that the retriever's top-5 is ``shiori search -k 5`` for every gold
question. The standard llama-index pipeline test uses llama-index's own ``MockLLM`` as the
user's LLM: this workplace has no model server, and the test is about the plumbing (shiori's
nodes flowing through a stock ``RetrieverQueryEngine``), not about generated text.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.embedding import FakeEmbedder
from assistant.errors import UsageError
from assistant.gold import load_gold
from assistant.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
NODE_KEYS = {"doc", "title", "page", "first_line", "last_line", "quote", "citation"}


def _lines(corpus: Path, doc: str, first: int, last: int) -> str:
    return "\n".join((corpus / doc).read_text(encoding="utf-8").split("\n")[first - 1 : last])


@pytest.fixture
def fake_pipeline(tmp_corpus: Path, tmp_path: Path) -> Pipeline:
    # Abstention off: the fake embedder's similarities are unlike the real model's.
    s = Settings.from_env(environ={}, corpus_dir=tmp_corpus, index_dir=tmp_path / "index", embedder="fake",
                          tokenizer="bigram", abstain_threshold=0.0)  # fmt: skip
    return Pipeline(s, FakeEmbedder(), progress=False)


# ------------------------------------------------------------------ fast: fixture corpus


@pytest.mark.parametrize(("k", "mode"), [(None, None), (2, "hybrid"), (3, "bm25"), (1, "dense")])
def test_retriever_is_pipeline_search(fake_pipeline: Pipeline, k: int | None, mode: str | None) -> None:
    from llama_index.core.schema import NodeWithScore, TextNode

    from assistant.llama_index import ShioriRetriever

    query = "原型炉開発の予算額"
    nodes = ShioriRetriever(fake_pipeline, k=k, mode=mode).retrieve(query)
    hits = fake_pipeline.search(query, k=k, mode=mode).hits
    assert [n.node.node_id for n in nodes] == [h.chunk.id for h in hits]
    assert [n.score for n in nodes] == [h.score for h in hits]
    corpus = fake_pipeline.settings.corpus_dir
    for n in nodes:
        assert isinstance(n, NodeWithScore) and isinstance(n.node, TextNode)
        meta = n.node.metadata
        assert NODE_KEYS <= set(meta)
        assert n.node.text == meta["quote"]
        assert meta["quote"] in _lines(corpus, meta["doc"], meta["first_line"], meta["last_line"])
        assert meta["citation"].startswith(f"（出典：{meta['title']}、{meta['doc']} L{meta['first_line']}")


def test_async_retrieve_is_the_same(fake_pipeline: Pipeline) -> None:
    from assistant.llama_index import ShioriRetriever

    r = ShioriRetriever(fake_pipeline, k=3)
    sync = [(n.node.node_id, n.score) for n in r.retrieve("人材育成")]
    # In a thread of its own: an earlier test of the session (the browser's) may leave an
    # event loop running in this one, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as pool:
        nodes = pool.submit(asyncio.run, r.aretrieve("人材育成")).result()
    async_ = [(n.node.node_id, n.score) for n in nodes]
    assert sync == async_ and len(sync) == 2  # the fixture index has two passages


def test_bad_arguments_are_refused_when_made(fake_pipeline: Pipeline) -> None:
    from assistant.llama_index import ShioriQueryEngine, ShioriRetriever

    with pytest.raises(UsageError, match="unknown mode 'semantic'"):
        ShioriRetriever(fake_pipeline, mode="semantic")
    with pytest.raises(UsageError, match="between 1 and 100"):
        ShioriRetriever(fake_pipeline, k=0)
    with pytest.raises(UsageError, match="unknown answer mode"):
        ShioriQueryEngine(fake_pipeline, answer_mode="abstractive")
    with pytest.raises(UsageError, match="not both"):
        ShioriRetriever(fake_pipeline, settings=fake_pipeline.settings)


def test_query_engine_returns_the_cited_answer(fake_pipeline: Pipeline) -> None:
    from llama_index.core.base.response.schema import Response

    from assistant.llama_index import ShioriQueryEngine

    question = "予算額はいくらか。"
    response = ShioriQueryEngine(fake_pipeline).query(question)
    answer = fake_pipeline.ask(question)
    assert isinstance(response, Response)
    assert not answer.abstained and response.response == answer.answer
    assert [n.node.metadata["n"] for n in response.source_nodes] == [c.n for c in answer.citations]
    corpus = fake_pipeline.settings.corpus_dir
    for node, c in zip(response.source_nodes, answer.citations, strict=True):
        meta = node.node.metadata
        assert (meta["doc"], meta["first_line"], meta["last_line"], meta["quote"]) == (
            c.doc, c.first_line, c.last_line, c.quote,
        )  # fmt: skip
        assert node.node.text == c.quote and node.score == c.score
        assert c.quote in _lines(corpus, c.doc, c.first_line, c.last_line)
        assert f"【{c.n}】" in response.response
    expected = answer.to_json()
    assert {k: v for k, v in response.metadata.items() if k != "timings_ms"} == {
        k: v for k, v in expected.items() if k != "timings_ms"
    }


def test_query_engine_abstains_with_related_passages(tmp_corpus: Path, tmp_path: Path) -> None:
    from assistant.llama_index import ShioriQueryEngine
    from assistant.messages import ABSTAIN_MESSAGE

    # The fake embedder's similarities are unlike the real model's: abstention is forced here.
    s = Settings.from_env(
        environ={}, corpus_dir=tmp_corpus, index_dir=tmp_path / "index", embedder="fake", tokenizer="bigram",
        abstain_threshold=1.01,
    )
    response = ShioriQueryEngine(Pipeline(s, FakeEmbedder(), progress=False)).query(
        "火星探査の予算はいくらか。"
    )
    assert response.response.startswith(ABSTAIN_MESSAGE)
    assert response.source_nodes == [] and response.metadata["abstained"] is True
    assert response.metadata["related"]


def test_plugs_into_a_stock_llama_index_pipeline(fake_pipeline: Pipeline) -> None:
    """A user's own RetrieverQueryEngine + LLM + node postprocessor over shiori's retriever."""
    from llama_index.core.llms.mock import MockLLM
    from llama_index.core.postprocessor import SimilarityPostprocessor
    from llama_index.core.query_engine import RetrieverQueryEngine

    from assistant.llama_index import ShioriRetriever

    retriever = ShioriRetriever(fake_pipeline, k=2)
    engine = RetrieverQueryEngine.from_args(
        retriever,
        llm=MockLLM(max_tokens=8),
        node_postprocessors=[SimilarityPostprocessor(similarity_cutoff=0.0)],
    )
    response = engine.query("原型炉開発")
    wanted = [
        n.node.node_id for n in retriever.retrieve("原型炉開発") if n.score is not None and n.score >= 0.0
    ]
    assert [n.node.node_id for n in response.source_nodes] == wanted and wanted
    assert all(NODE_KEYS <= set(n.node.metadata) for n in response.source_nodes)
    # What the user's LLM is shown: the passage with its title and line span, not the duplicate quote.
    shown = response.source_nodes[0].node.get_content(metadata_mode="llm")
    assert "first_line:" in shown and "title:" in shown and "quote:" not in shown


def test_import_assistant_and_ask_leave_llama_index_out(fake_pipeline: Pipeline) -> None:
    """Only ``assistant.llama_index`` imports llama-index; the CLI's cold path does not."""
    fake_pipeline.index()  # build, so the child process only answers
    s = fake_pipeline.settings
    code = (
        "import sys\n"
        "import assistant\n"
        "before = [m for m in sys.modules if m.split('.')[0] == 'llama_index']\n"
        "from assistant.cli import main\n"
        "rc = main(['-q', 'ask', '--no-rebuild', '--json', '予算額はいくらか。'])\n"
        "after = [m for m in sys.modules if m.split('.')[0] == 'llama_index']\n"
        "print(rc, before, after, file=sys.stderr)\n"
    )
    env = {"SHIORI_CORPUS_DIR": str(s.corpus_dir), "SHIORI_INDEX_DIR": str(s.index_dir),
           "SHIORI_EMBEDDER": "fake", "SHIORI_TOKENIZER": "bigram", "PYTHONIOENCODING": "utf-8"}  # fmt: skip
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHIORI_")}
    proc = subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "0 [] []"
    assert json.loads(proc.stdout)["question"] == "予算額はいくらか。"


# ------------------------------------------------------------------ slow: the real corpus


@pytest.fixture(scope="module")
def real_retriever(real_index: Settings):  # type: ignore[no-untyped-def]
    """A retriever with its own pipeline (own model load), independent of ``real_pipeline``."""
    from assistant.llama_index import ShioriRetriever

    return ShioriRetriever(settings=real_index, k=5)


@pytest.mark.slow
def test_retriever_top5_is_search_k5_for_every_gold_question(real_retriever, real_pipeline: Pipeline) -> None:  # type: ignore[no-untyped-def]
    items = load_gold(ROOT / "eval" / "gold.jsonl")
    assert len(items) > 100
    for item in items:
        nodes = real_retriever.retrieve(item.question)
        hits = real_pipeline.search(item.question, k=5).hits
        assert [n.node.node_id for n in nodes] == [h.chunk.id for h in hits], item.id
        assert [n.score for n in nodes] == pytest.approx([h.score for h in hits], abs=1e-6), item.id


@pytest.mark.slow
def test_retriever_top5_is_the_cli_search(real_retriever, real_index: Settings) -> None:  # type: ignore[no-untyped-def]
    from test_cli import run_cli

    env = {"SHIORI_CORPUS_DIR": str(real_index.corpus_dir), "SHIORI_INDEX_DIR": str(real_index.index_dir)}
    items = load_gold(ROOT / "eval" / "gold.jsonl")
    for item in (items[0], items[len(items) // 2], items[-1]):
        proc = run_cli("search", item.question, "-k", "5", "--json", "--no-rebuild", env=env)
        assert proc.returncode == 0, proc.stderr
        cli = [r["id"] for r in json.loads(proc.stdout)["results"]]
        assert [n.node.node_id for n in real_retriever.retrieve(item.question)] == cli, item.id


@pytest.mark.slow
def test_query_engine_on_the_real_corpus(real_pipeline: Pipeline) -> None:
    from assistant.llama_index import ShioriQueryEngine

    question = "JT-60SAが初プラズマを生成したのはいつですか。"
    response = ShioriQueryEngine(real_pipeline).query(question)
    assert response.response == real_pipeline.ask(question).answer
    assert response.source_nodes and "令和5年10月" in response.response
    corpus = real_pipeline.settings.corpus_dir
    for node in response.source_nodes:
        m = node.node.metadata
        assert m["quote"] in _lines(corpus, m["doc"], m["first_line"], m["last_line"])
