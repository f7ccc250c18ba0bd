"""The Gradio app: built with the fake embedder (fast), served for real and called with gradio_client (slow).

The slow tests share one app per session (``live_app``; ``test_browser.py`` uses it
too): the real embedder and a real index over a copy of ``corpus/`` plus one
hostile document (HTML, Markdown and script in its text and title), so the
browser test can check that such text is shown, not run.
"""

from __future__ import annotations

import re
import shutil
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py lives at the project root
    sys.path.insert(0, str(ROOT))

import app  # noqa: E402
from assistant import ui  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.corpus import add_document, load_corpus  # noqa: E402
from assistant.pipeline import Pipeline  # noqa: E402

REAL_CORPUS_DIR = ROOT / "corpus"

# gradio's queue uses pandas APIs that pandas 3 deprecates; not ours to fix.
GRADIO_WARNINGS = (
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:Warning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:Warning"),
)
pytestmark = list(GRADIO_WARNINGS)
QUESTION = "ITER計画の建設期に日本が分担する費用の割合は？"
CITATION_RE = re.compile(r"^（出典：.+、\S+ L\d+(?:–L\d+)?）$")

#: A document whose text and title must never run in the browser.
HOSTILE_TITLE = 'ザクロ検証 <img src=x onerror="window.__xss=5">'
HOSTILE_TEXT = (
    "ザクロ検証文書（表示の安全性）\n"
    "ザクロ検証の注意その一：<script>window.__xss=1</script> という記述は文字として表示される。\n"
    'ザクロ検証の注意その二：<img src=x onerror="window.__xss=2"> という記述も文字として表示される。\n'
    "ザクロ検証の注意その三：[リンク](javascript:window.__xss=3) と **強調** と $$x^2$$ と "
    "${window.__xss=4} と {{constructor}} も文字のまま表示される。\n"
)


# ----------------------------------------------------------------- the live app


@dataclass
class LiveApp:
    url: str
    corpus_dir: Path
    hostile_doc: str
    demo: Any


_LIVE: list[LiveApp] = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_live_app(tmp_path_factory: pytest.TempPathFactory, embeddings: Path) -> LiveApp:
    """One real app per session (memoised so test_app.py and test_browser.py share it)."""
    if _LIVE:
        return _LIVE[0]
    root = tmp_path_factory.mktemp("live_app")
    corpus = root / "corpus"
    shutil.copytree(REAL_CORPUS_DIR, corpus)
    hostile = root / "zakuro.txt"
    hostile.write_text(HOSTILE_TEXT, encoding="utf-8")
    info = add_document(corpus, hostile, title=HOSTILE_TITLE)
    # Passage embeddings are cached by content beside the index: start from the suite's cache of
    # the real corpus (conftest's real_embeddings); the index itself is still built here, for real.
    shutil.copytree(embeddings, root / "index.cache")
    settings = Settings(corpus_dir=corpus, index_dir=root / "index").validated()
    pipeline = Pipeline(settings, progress=False)
    pipeline.index()
    demo = app.build_app(pipeline)
    _, url, _ = app.launch(demo, host="127.0.0.1", port=_free_port(), prevent_thread_lock=True, quiet=True)
    live = LiveApp(url=url, corpus_dir=corpus, hostile_doc=info.id, demo=demo)
    _LIVE.append(live)
    return live


def stop_live_app() -> None:
    while _LIVE:
        _LIVE.pop().demo.close()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Path) -> Iterator[LiveApp]:
    live = start_live_app(tmp_path_factory, real_embeddings)
    yield live
    stop_live_app()


@pytest.fixture(scope="session")
def client(live_app: LiveApp):
    from gradio_client import Client

    return Client(live_app.url, verbose=False, download_files=False)


def _check_citations_exist(corpus_dir: Path, citations: list[dict[str, Any]]) -> None:
    docs = {d.id: d for d in load_corpus(corpus_dir)}
    for c in citations:
        doc = docs[c["doc"]]
        assert 1 <= c["first_line"] <= c["last_line"] <= len(doc.lines)
        assert c["quote"] in doc.line_slice(c["first_line"], c["last_line"])


# -------------------------------------------------------------------- slow: API


@pytest.mark.slow
def test_ask_returns_answer_with_citations(client, live_app: LiveApp) -> None:
    res = client.predict(QUESTION, api_name="/ask")
    assert isinstance(res, dict), res
    assert "error" not in res, res
    assert res["abstained"] is False
    assert "【1】" in res["answer"]
    assert res["citations"], res
    markers = {int(n) for n in re.findall(r"【(\d+)】", res["answer"])}
    assert markers == {c["n"] for c in res["citations"]}
    _check_citations_exist(live_app.corpus_dir, res["citations"])
    assert any("ITER" in c["quote"] or "費用" in c["quote"] for c in res["citations"])


@pytest.mark.slow
def test_ask_takes_k_and_mode(client, live_app: LiveApp) -> None:
    res = client.predict("JT-60SAはどの研究所にある装置か。", 3, "dense", api_name="/ask")
    assert "error" not in res, res
    assert res["citations"] and "【1】" in res["answer"]
    _check_citations_exist(live_app.corpus_dir, res["citations"])
    res = client.predict("JT-60SAはどの研究所にある装置か。", 3, "bm25", api_name="/ask")
    assert "error" not in res, res
    assert res["citations"] or res["related"]  # bm25 alone may abstain; it still shows passages
    _check_citations_exist(live_app.corpus_dir, res["citations"] + res["related"])
    bad = client.predict(QUESTION, 5, "nonsense", api_name="/ask")
    assert "nonsense" in bad["error"] and "hybrid" in bad["error"]
    bad_k = client.predict(QUESTION, 0, "hybrid", api_name="/ask")
    assert "between 1 and 100" in bad_k["error"]


@pytest.mark.slow
def test_cite_finds_sources(client, live_app: LiveApp) -> None:
    text = "JT-60SAは那珂研究所にある世界最大のトカマク型超伝導プラズマ実験装置である。\n\nITERはフランスで建設されている。"
    res = client.predict(text, api_name="/cite")
    assert "error" not in res, res
    assert len(res["results"]) == 2  # blank lines are skipped
    for r in res["results"]:
        assert r["strength"] in ("strong", "partial", "none")
        assert r["sources"]
        _check_citations_exist(live_app.corpus_dir, r["sources"])
        if r["strength"] != "none":
            assert CITATION_RE.match(r["citation"]), r["citation"]
    first = res["results"][0]
    assert first["strength"] == "strong"
    assert first["sources"][0]["doc"] in first["citation"]


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ["/ask", "/cite"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [("", "empty"), ("   \n ", "empty"), ("あ" * 10_000, "too long"), ("核融合\x00\x01", "control")],
)
def test_bad_input_returns_a_message(client, endpoint: str, text: str, expected: str) -> None:
    res = client.predict(text, api_name=endpoint)
    assert isinstance(res, dict) and set(res) >= {"error"}, res
    assert expected in res["error"]
    assert "Traceback" not in str(res)


@pytest.mark.slow
def test_only_ask_and_cite_are_public(client) -> None:
    info = client.view_api(print_info=False, return_format="dict")
    assert set(info["named_endpoints"]) == {"/ask", "/cite"}


# ------------------------------------------------------------------- fast tests


def test_build_app_with_fake_embedder(tmp_corpus: Path, tmp_path: Path) -> None:
    import gradio as gr

    settings = Settings(embedder="fake", corpus_dir=tmp_corpus, index_dir=tmp_path / "index").validated()
    pipeline = Pipeline(settings, progress=False)
    demo = app.build_app(pipeline)
    assert isinstance(demo, gr.Blocks)
    api_names = {d.get("api_name") for d in demo.config["dependencies"]}
    assert {"ask", "cite"} <= api_names
    # The handlers behind the endpoints work without a server.
    ans = app.ask_answer(pipeline, "安全確保の基本的な考え方はいつ策定しますか。")
    assert ans.citations or ans.related
    html_panel = ui.sources_html(ans)
    assert "src-card" in html_panel
    results = app.cite_sentences(pipeline, "予算額は１２億円である。\n\n")
    assert len(results) == 1 and results[0].sources
    demo.close()


@pytest.mark.parametrize(
    ("n", "first", "last", "span"),
    [
        (100, 1, 1, (1, 1)),
        (100, 0, 0, (1, 1)),  # line numbers start at 1
        (100, -5, 3, (1, 3)),
        (100, None, None, (1, 1)),
        (100, 40, None, (40, 40)),
        (100, 40, 30, (40, 40)),  # an end before the start
        (100, 95, 500, (95, 100)),  # past the end
        (100, 500, 600, (100, 100)),
        (100, 12.0, 14.0, (12, 14)),  # gr.Number sends floats
        (0, 3, 4, (1, 1)),
    ],
)
def test_clamp_span(n: int, first, last, span: tuple[int, int]) -> None:
    assert ui.clamp_span(n, first, last) == span


def _handler(demo, name: str):  # type: ignore[no-untyped-def]
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_document_tab_line_numbers_start_at_1_and_stay_in_the_document(tmp_corpus: Path, tmp_path: Path) -> None:
    settings = Settings(embedder="fake", corpus_dir=tmp_corpus, index_dir=tmp_path / "index").validated()
    demo = app.build_app(Pipeline(settings, progress=False))
    docs = load_corpus(tmp_corpus)
    n0 = len(docs[0].lines)
    boxes = {c["props"]["elem_id"]: c["props"] for c in demo.config["components"]
             if c.get("props", {}).get("elem_id") in ("doc-first", "doc-last")}
    assert len(boxes) == 2
    for props in boxes.values():
        # No bounds in the box: Gradio would answer a typed 0 with an error, not the clamp.
        assert (props["value"], props.get("minimum"), props.get("maximum")) == (1, None, None)
    view, full = _handler(demo, "view_doc"), _handler(demo, "full_doc")
    other = docs[1]
    assert len(other.lines) != n0
    html, first, last = view(other.id, 0, 10_000, 2)
    assert (first, last) == (1, len(other.lines))
    assert 'data-line="1"' in html and f'data-line="{len(other.lines)}"' in html
    html, first, last = view(other.id, 3, 2, 0)
    assert (first, last) == (3, 3) and html.count('class="ln hl"') == 1
    html, first, last = view(other.id, None, None, 0)
    assert (first, last) == (1, 1)
    html, first, last = full(other.id)
    assert (first, last) == (1, 1) and 'class="ln hl"' not in html
    demo.close()


def test_document_tab_marks_pdf_pages(tmp_corpus: Path, tmp_path: Path) -> None:
    from test_pages import make_pdf

    src = tmp_path / "計画.pdf"
    src.write_bytes(make_pdf())
    info = add_document(tmp_corpus, src)
    doc = load_corpus(tmp_corpus)[-1]
    html = ui.document_html(doc)
    assert html.count('class="page-start"') == len(info.page_starts)
    last_page_start = info.page_starts[-1]
    span = ui.document_html(doc, last_page_start - 1, last_page_start, 0)
    assert f"p.{len(info.page_starts) - 1}–{len(info.page_starts)}" in span


def test_error_json_is_a_message(tmp_corpus: Path, tmp_path: Path) -> None:
    from assistant.errors import ShioriError

    settings = Settings(embedder="fake", corpus_dir=tmp_corpus, index_dir=tmp_path / "index").validated()
    pipeline = Pipeline(settings, progress=False)
    for call in (
        lambda: app.ask_answer(pipeline, ""),
        lambda: app.ask_answer(pipeline, "x" * 10_000),
        lambda: app.ask_answer(pipeline, "質問", k="many"),
        lambda: app.cite_sentences(pipeline, "文。\n" * (app.MAX_CITE_SENTENCES + 1)),
    ):
        with pytest.raises(ShioriError) as exc:
            call()
        d = app.error_json(exc.value)
        assert d["error"] and d["kind"] == "UsageError"


def test_parse_auth() -> None:
    from assistant.errors import UsageError

    assert app.parse_auth(None) is None
    assert app.parse_auth("") is None
    assert app.parse_auth("alice:s3:cret") == ("alice", "s3:cret")
    for bad in ("alice", ":pw", "alice:"):
        with pytest.raises(UsageError):
            app.parse_auth(bad)


def test_main_reports_bad_auth_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert app.main(["--auth", "nopassword"]) == 2
    err = capsys.readouterr().err
    assert "user:password" in err and "Traceback" not in err


HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">[x](javascript:alert(3)) **b** $$y$$ ${z}'


def test_markdown_and_html_are_escaped_in_chat_messages() -> None:
    out = ui.md_text(HOSTILE)
    assert "<" not in out and ">" not in out and '"' not in out
    assert "\\*\\*b\\*\\*" in out and "\\[x\\]\\(javascript" in out and "\\$\\$" in out


def test_passage_marks_the_quote_and_escapes(fixture_corpus) -> None:
    from assistant.answer import Citation

    passage = "前の行 <b>\n" + HOSTILE + "\n次の行"
    c = Citation(
        n=1,
        doc="d.txt",
        title="<i>T</i>",
        first_line=11,
        last_line=11,
        page=None,
        quote=HOSTILE[:30],
        score=1.0,
        passage_id="d.txt:10-12",
        passage_first_line=10,
        passage_text=passage,
    )
    out = ui.source_card(c)
    assert "<script" not in out and "<img" not in out and "<i>" not in out and "<b>" not in out
    assert out.count("<mark>") == 1
    assert f"<mark>{ui.esc(HOSTILE[:30])}</mark>" in out
    assert 'data-line="11"' in out and 'data-doc="d.txt"' in out
    assert "（出典：&lt;i&gt;T&lt;/i&gt;、d.txt L11）" in out


def test_multiline_quote_is_marked_on_each_line() -> None:
    from assistant.answer import Citation

    passage = "一行目\n二行目の後半\n三行目の前半と残り\n四行目"
    quote = "後半\n三行目の前半"
    c = Citation(1, "d.txt", "T", 2, 3, None, quote, 1.0, "d.txt:1-4", 1, passage)
    out = ui.passage_html(c)
    assert out.count("<mark>") == 2
    assert "二行目の<mark>後半</mark>" in out and "<mark>三行目の前半</mark>と残り" in out


def test_document_view_shows_span_in_context(fixture_corpus) -> None:
    doc = fixture_corpus[0]
    out = ui.document_html(doc, 3, 4, context=1)
    numbers = [int(n) for n in re.findall(r'data-line="(\d+)"', out)]
    assert numbers == [2, 3, 4, 5]
    assert out.count('class="ln hl"') == 2
    full = ui.document_html(doc)
    assert len(re.findall(r'data-line="', full)) == len(doc.lines)


def test_abstention_shows_a_notice_and_related_passages() -> None:
    from assistant.answer import Answer, Citation
    from assistant.messages import ABSTAIN_MESSAGE

    rel = Citation(1, "d.txt", "T", 3, 3, None, "近い文。", 0.2, "d.txt:1-4", 1, "一\n二\n近い文。\n四")
    ans = Answer("問い", ABSTAIN_MESSAGE, True, [], [rel], [], {})
    panel = ui.sources_html(ans)
    assert 'class="notice"' in panel and ABSTAIN_MESSAGE in panel
    assert "関連する箇所" in panel and "<mark>近い文。</mark>" in panel
    msgs = ui.answer_messages(ans)
    assert msgs[0]["content"].startswith("⚠")
    assert msgs[1]["metadata"]["title"] == "関連する箇所"
    assert ui.citation_lines(ans) == ""


# ------------------------------------------------------- fast: file workflows


def test_file_workflows_write_a_result_file(tmp_corpus: Path, tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    from assistant.errors import UsageError

    settings = Settings(embedder="fake", corpus_dir=tmp_corpus, index_dir=tmp_path / "index").validated()
    pipeline = Pipeline(settings, progress=False)
    work = tmp_path / "work"
    work.mkdir()
    wb = Workbook()
    for row in (["質問", "担当"], ["予算額はいくらか。", "a"], [None, "b"]):
        wb.active.append(row)
    wb.save(tmp_path / "一覧.xlsx")
    seen: list[tuple[int, int]] = []
    out, summary, preview = app.run_file_workflow(
        pipeline, "questions", str(tmp_path / "一覧.xlsx"), ".xlsx", work, on_progress=lambda d, t: seen.append((d, t))
    )
    assert out.name == "一覧.answers.xlsx" and out.parent.parent == work
    assert summary["rows"] == 2 and summary["errors"] == 1 and seen[-1] == (2, 2)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 3 and rows[2][rows[0].index("error")]
    assert "一覧.xlsx" in ui.batch_summary_html(summary, out.name)
    html_preview = ui.batch_preview_html("questions", preview)
    assert html_preview.count("<tr>") == 3 and "empty" in html_preview

    (tmp_path / "案.md").write_text("# 見出し\n\n予算額は１２億円である。\n", encoding="utf-8")
    out, summary, preview = app.run_file_workflow(pipeline, "draft", str(tmp_path / "案.md"), ".md", work)
    assert out.name == "案.check.md" and summary["sentences"] == 2
    assert "strength-no-statement" in ui.batch_preview_html("draft", preview)
    assert out.read_text(encoding="utf-8").startswith("# 出典確認：案.md")

    (tmp_path / "many.txt").write_text("予算額はいくらか。\n" * (app.MAX_BATCH_ROWS + 1), encoding="utf-8")
    for call, message in (
        (lambda: app.run_file_workflow(pipeline, "questions", str(tmp_path / "many.txt"), ".csv", work), "too many"),
        (lambda: app.run_file_workflow(pipeline, "questions", None, ".csv", work), "choose a file"),
        (lambda: app.run_file_workflow(pipeline, "draft", str(tmp_path / "案.md"), ".csv", work), "format"),
        (lambda: app.run_file_workflow(pipeline, "other", str(tmp_path / "案.md"), ".md", work), "unknown kind"),
    ):
        with pytest.raises(UsageError, match=message):
            call()

    ans = app.ask_answer(pipeline, "安全確保の基本的な考え方はいつ策定しますか。")
    md = app.write_answer_markdown(ans, work)
    text = md.read_text(encoding="utf-8")
    assert md.suffix == ".md" and text.startswith("# 質問")
    for c in ans.citations:
        assert f"【{c.n}】（出典：" in text and f"L{c.first_line}–L{c.last_line}）" in text


def test_ui_handlers_return_one_value_per_output(tmp_corpus: Path, tmp_path: Path) -> None:
    """Each handler, on success and on bad input, fills exactly the outputs its event lists."""
    settings = Settings(embedder="fake", corpus_dir=tmp_corpus, index_dir=tmp_path / "index").validated()
    demo = app.build_app(Pipeline(settings, progress=False))
    fns = {f.name: f for f in demo.fns.values()}
    respond = fns["respond"]
    for question in ("予算額はいくらか。", "   "):
        out = respond.fn(question, [], 5, "hybrid", "extractive")
        assert len(out) == len(respond.outputs), question
    assert len(fns["clear_chat"].fn()) == len(fns["clear_chat"].outputs)
    (tmp_path / "q.txt").write_text("予算額はいくらか。\n", encoding="utf-8")
    run_batch = fns["run_batch"]
    for path in (str(tmp_path / "q.txt"), None):
        out = run_batch.fn("questions", path, ".xlsx", 5, progress=lambda *a, **k: None)
        assert len(out) == len(run_batch.outputs), path
    demo.close()
