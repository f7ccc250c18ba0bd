"""栞 shiori — the Gradio app: chat with line-exact sources, citation lookup, documents.

``python app.py`` (or ``shiori serve``) loads or builds the index of the default
corpus (progress on the console) and serves on 127.0.0.1:7860. The app calls the
same ``Pipeline.ask``/``Pipeline.cite`` as the CLI; HTML rendering lives in
``assistant/ui.py``. Named API endpoints ``ask`` and ``cite`` return the CLI's JSON
(see docs/APP.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant import ui
from assistant.config import Settings
from assistant.corpus import load_corpus
from assistant.errors import ShioriError, UsageError
from assistant.pipeline import Pipeline

logger = logging.getLogger("shiori.app")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: Draft sentences accepted by one citation lookup.
MAX_CITE_SENTENCES = 50
#: Questions of a list, or sentences of a draft, accepted by one upload (the pipeline is shared).
MAX_BATCH_ROWS = 500
#: Result files are kept this long for download, then removed (they may hold confidential drafts).
DOWNLOAD_TTL_S = 3600

BATCH_KINDS = [("質問リストに回答（.txt / .csv / .xlsx）", "questions"), ("下書きの出典を確認（.docx / .md / .txt）", "draft")]
BATCH_FORMATS: dict[str, list[tuple[str, str]]] = {
    "questions": [("Excel（.xlsx）", ".xlsx"), ("CSV（.csv）", ".csv"), ("JSON Lines（.jsonl）", ".jsonl")],
    "draft": [("Excel（.xlsx）", ".xlsx"), ("Markdown（.md）", ".md"), ("JSON Lines（.jsonl）", ".jsonl")],
}
BATCH_FILE_TYPES = [".txt", ".csv", ".xlsx", ".docx", ".md"]

EXAMPLES = [
    "ITER計画の建設期に日本が分担する費用の割合は？",
    "JT-60SAはどの研究所にある装置か。",
    "フュージョンエネルギー産業協議会で会長を務めているのはどの企業ですか。",
    "安全確保検討タスクフォースの主な検討事項は何か。",
    "原型炉開発でステージゲート方式を導入して進捗管理を行うのはなぜか。",
    "Where is the ITER experimental reactor being built?",
]
CITE_EXAMPLES = [
    "JT-60SAは令和5年10月に初プラズマを生成した。ITER計画の建設期における日本の費用分担は45.5%である。"
    "原型炉の建設地は青森県六ヶ所村に決定している。"
]
MODE_CHOICES = [
    ("ハイブリッド（推奨）", "hybrid"),
    ("ベクトル検索", "dense"),
    ("キーワード検索（BM25）", "bm25"),
]
ANSWER_MODE_CHOICES = [("抽出型（原文を引用）", "extractive"), ("生成型（LLM）", "llm")]

#: Sources panels: a click on "文書で表示" opens the cited lines in the Documents tab.
OPEN_DOC_JS = """
element.addEventListener('click', (e) => {
  const b = e.target.closest('button.open-doc');
  if (!b) return;
  trigger('click', {doc: b.dataset.doc, first: Number(b.dataset.first), last: Number(b.dataset.last)});
});
"""

HEADER = (
    '<div class="app-head"><span class="logo">栞</span><span class="name">shiori</span>'
    '<span class="tagline">政策文書への質問に、根拠の文書名と行番号を添えて答えます</span></div>'
)

CSS = """
.gradio-container { max-width: 1320px !important; }
.app-head { display: flex; align-items: baseline; gap: 10px; padding: 4px 2px 0; }
.app-head .logo { font-size: 1.9em; font-weight: 700; color: var(--color-accent); }
.app-head .name { font-size: 1.3em; font-weight: 600; }
.app-head .tagline { color: var(--body-text-color-subdued); }
.src-section { font-weight: 600; margin: 2px 0 8px; }
.src-empty { color: var(--body-text-color-subdued); padding: 12px 4px; }
.src-card, .cite-card { border: 1px solid var(--border-color-primary); border-radius: 10px;
  padding: 10px 12px; margin-bottom: 10px; background: var(--background-fill-primary); }
.cite-card .src-card { margin: 8px 0 0; border-style: dashed; }
.src-head, .cite-head { display: flex; gap: 8px; align-items: baseline; font-weight: 600; }
.src-n { color: var(--color-accent); font-weight: 700; white-space: nowrap; }
.src-meta { display: flex; justify-content: space-between; align-items: center; gap: 8px;
  font-size: 0.85em; color: var(--body-text-color-subdued); margin: 4px 0 6px; }
.src-span { font-family: var(--font-mono); }
button.open-doc { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 1px 10px;
  font-size: 0.95em; cursor: pointer; background: var(--button-secondary-background-fill);
  color: var(--button-secondary-text-color); white-space: nowrap; }
button.open-doc:hover { background: var(--button-secondary-background-fill-hover); }
.lines { font-size: 0.9em; line-height: 1.65; border-left: 3px solid var(--border-color-primary); }
.ln { display: flex; gap: 10px; }
.ln .no { flex: 0 0 3.4em; text-align: right; color: var(--body-text-color-subdued);
  font-family: var(--font-mono); font-size: 0.9em; user-select: none; }
.ln .tx { white-space: pre-wrap; word-break: break-all; }
.ln .pua { color: var(--body-text-color-subdued); }
.ln.hl { background: rgba(255, 214, 0, 0.10); }
.lines mark { background: #ffe066; color: #1f2328; padding: 0 1px; border-radius: 2px; }
.src-cite { margin-top: 8px; font-size: 0.88em; padding: 4px 8px; border-radius: 6px;
  background: var(--background-fill-secondary); }
.src-cite.none { color: var(--body-text-color-subdued); }
.cite-sentence { margin: 6px 0 2px; }
.strength { padding: 1px 10px; border-radius: 999px; font-size: 0.85em; font-weight: 600; }
.strength-strong { background: #d3f9d8; color: #1b5e20; }
.strength-partial { background: #fff3bf; color: #7a5c00; }
.strength-none { background: #ffe3e3; color: #8a1f1b; }
.strength-conflict { background: #ffd8a8; color: #8a3b00; }
mark.diff { background: #ffc9c9; color: #8a1f1b; font-weight: 600; padding: 0 2px; border-radius: 3px; }
mark.same { background: #d3f9d8; color: #1b5e20; padding: 0 2px; border-radius: 3px; }
.mismatch { margin: 4px 0; font-weight: 600; color: #8a3b00; }
.notice { border-left: 4px solid #f0ad4e; background: #fff8e6; color: #6b4400; padding: 8px 12px;
  border-radius: 6px; margin: 4px 0 10px; }
.notice-error { border-left-color: #d9534f; background: #fdecea; color: #8a1f1b; }
.doc-head { margin-bottom: 8px; }
.batch-done { padding: 8px 4px; }
.strength-conflict { background: #ffc9c9; color: #8a1f1b; }
.strength-no-statement, .strength-error { background: var(--background-fill-secondary);
  color: var(--body-text-color-subdued); }
table.batch-preview { width: 100%; border-collapse: collapse; font-size: 0.88em; }
table.batch-preview th, table.batch-preview td { border-bottom: 1px solid var(--border-color-primary);
  padding: 4px 6px; text-align: left; vertical-align: top; }
table.batch-preview td:first-child { white-space: nowrap; color: var(--body-text-color-subdued); }
table.batch-preview .err { color: #8a1f1b; }
.doc-head .src-title { font-weight: 700; font-size: 1.05em; }
.page-start { font-size: 0.8em; color: var(--body-text-color-subdued); border-top: 1px dashed
  var(--border-color-primary); margin: 4px 0 2px; padding-left: 4.6em; font-family: var(--font-mono); }
"""


def make_theme() -> gr.themes.Base:
    """Soft theme with locally installed Japanese fonts (no web-font download)."""
    return gr.themes.Soft(
        primary_hue="indigo",
        font=["Noto Sans CJK JP", "Noto Sans JP", "Hiragino Sans", "Yu Gothic", "Meiryo", "sans-serif"],
        font_mono=["Noto Sans Mono CJK JP", "DejaVu Sans Mono", "monospace"],
    )


# ------------------------------------------------------------ pipeline calls


def _as_k(k: Any) -> int | None:
    if k is None or k == "":
        return None
    if isinstance(k, bool):
        raise UsageError(f"k must be a whole number between 1 and 100, got {k!r}")
    try:
        value = float(k)
    except (TypeError, ValueError):
        raise UsageError(f"k must be a whole number between 1 and 100, got {k!r}") from None
    if not value.is_integer() or not 1 <= value <= 100:
        raise UsageError(f"k must be a whole number between 1 and 100, got {k!r}")
    return int(value)


def ask_answer(
    pipeline: Pipeline, question: Any, k: Any = None, mode: str | None = None, answer_mode: str | None = None
):
    """``Pipeline.ask`` with the app's settings; raises ``ShioriError`` on bad input."""
    if not isinstance(question, str):
        raise UsageError("the question must be text")
    kwargs: dict[str, Any] = {"k": _as_k(k), "mode": mode or None}
    notice = None
    if answer_mode and answer_mode != pipeline.settings.answer_mode:
        if "answer_mode" in inspect.signature(pipeline.ask).parameters:
            kwargs["answer_mode"] = answer_mode
        else:
            labels = {v: k for k, v in ANSWER_MODE_CHOICES}
            current = labels.get(pipeline.settings.answer_mode, pipeline.settings.answer_mode)
            notice = f"回答方式はサーバーの設定（SHIORI_ANSWER_MODE）で決まるため、{current}で回答しました。"
    answer = pipeline.ask(question, **kwargs)
    if notice:
        answer = dataclasses.replace(answer, notice=" ".join(x for x in (answer.notice, notice) if x))
    return answer


def cite_sentences(pipeline: Pipeline, text: Any, k: Any = None):
    """``Pipeline.cite`` over the sentences of ``text`` (a pasted paragraph or one sentence a line).

    Raises ``ShioriError`` on bad input.
    """
    from assistant.claims import split_draft

    if not isinstance(text, str):
        raise UsageError("the sentences must be text")
    lines = split_draft(text)
    if len(lines) > MAX_CITE_SENTENCES:
        raise UsageError(
            f"too many sentences ({len(lines)}; the limit is {MAX_CITE_SENTENCES} per lookup); "
            "split the draft into smaller parts"
        )
    return pipeline.cite(lines, k=_as_k(k))


def _result_dir(workdir: Path) -> Path:
    """A fresh directory for one result file; results older than ``DOWNLOAD_TTL_S`` are removed."""
    now = time.time()
    for old in workdir.iterdir():
        if now - old.stat().st_mtime > DOWNLOAD_TTL_S:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=workdir))


def run_file_workflow(
    pipeline: Pipeline,
    kind: str,
    path: Any,
    fmt: str,
    workdir: Path,
    k: Any = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, dict[str, Any], list[dict[str, Any]]]:
    """Answer a question list or check a draft (``shiori ask --batch`` / ``cite --draft``).

    Returns the result file (named after the upload, in its own directory under
    ``workdir``), the run's summary and the result's flat rows (for a preview);
    raises ``ShioriError`` on a bad upload.
    """
    from assistant import batch, draft

    if kind not in BATCH_FORMATS:
        raise UsageError(f"unknown kind {kind!r}; choose one of {sorted(BATCH_FORMATS)}")
    formats = [ext for _, ext in BATCH_FORMATS[kind]]
    if fmt not in formats:
        raise UsageError(f"unknown output format {fmt!r}; choose one of {formats}")
    if not path:
        raise UsageError("choose a file to upload first")
    src = Path(str(path))
    stem = src.stem or "result"
    if kind == "questions":
        questions = batch.read_questions(src)
        _check_size(len(questions.rows), "questions")
        result = batch.answer_questions(pipeline, questions, k=_as_k(k), on_progress=on_progress)
        out = _result_dir(workdir) / f"{stem}.answers{fmt}"
        batch.write_answers(out, result)
        return out, {"kind": kind, "input": src.name, **result.summary()}, batch.answer_table(result)[1]
    sentences = draft.draft_sentences(draft.read_blocks(src))
    _check_size(len(sentences), "sentences")
    report = draft.check_sentences(pipeline, sentences, k=_as_k(k), on_progress=on_progress)
    report = draft.DraftReport(src.name, report.rows, report.timings_s)
    out = _result_dir(workdir) / f"{stem}.check{fmt}"
    draft.write_report(out, report)
    return out, {"kind": kind, "input": src.name, **report.summary()}, draft.report_rows(report)


def _check_size(n: int, what: str) -> None:
    if n > MAX_BATCH_ROWS:
        raise UsageError(
            f"too many {what} ({n}; the app takes at most {MAX_BATCH_ROWS} per file); "
            "split the file, or run `shiori ask --batch` / `shiori cite --draft` on the command line"
        )
    if n == 0:
        raise UsageError(f"the file has no {what}")


def write_answer_markdown(answer: Any, workdir: Path) -> Path:
    """The answer and its evidence as a Markdown file (for the chat's download button)."""
    from assistant.export import answer_markdown, write_text

    out = _result_dir(workdir) / f"shiori-answer-{time.strftime('%Y%m%d-%H%M%S')}.md"
    write_text(out, answer_markdown(answer.to_json()))
    return out


def error_json(e: BaseException) -> dict[str, Any]:
    """The API's answer to bad input: a message, never a traceback."""
    if isinstance(e, ShioriError):
        d: dict[str, Any] = {"error": e.message, "kind": type(e).__name__}
        if e.hint:
            d["hint"] = e.hint
        return d
    return {"error": f"internal error: {type(e).__name__}: {e}", "kind": "InternalError"}


def _user_message(e: BaseException) -> str:
    if isinstance(e, ShioriError):
        return f"入力を確認してください：{e}" if isinstance(e, UsageError) else f"エラー：{e}"
    return f"内部エラーが発生しました（{type(e).__name__}: {e}）。詳細はサーバーのログを確認してください。"


# ------------------------------------------------------------------ the app


def build_app(pipeline: Pipeline) -> gr.Blocks:
    """The Blocks app over ``pipeline`` (not launched; see ``launch``)."""
    s = pipeline.settings
    docs = load_corpus(s.corpus_dir)
    by_id = {d.id: d for d in docs}
    llm_ready = bool(s.llm_base_url)
    workdir = Path(tempfile.mkdtemp(prefix="shiori-app-"))

    # ---- handlers (each catches its own errors and shows the message) ----
    def respond(question: str, history: list[dict[str, Any]], k: float, mode: str, answer_mode: str):
        history = list(history or [])
        try:
            ans = ask_answer(pipeline, question, k, mode, answer_mode)
        except Exception as e:  # shown in the notice box; unexpected ones are logged in full
            if not isinstance(e, ShioriError):
                logger.exception("ask failed")
            error = ui.notice_html(_user_message(e), "error")
            return gr.update(), history, gr.update(), gr.update(), error, gr.update()
        history.append({"role": "user", "content": ui.md_text(ans.question)})
        history += ui.answer_messages(ans)
        notice = ui.abstain_notice(ans) if ans.abstained else None
        notice = " ".join(x for x in (notice, ans.notice) if x) or None
        download = gr.DownloadButton(value=str(write_answer_markdown(ans, workdir)), interactive=True)
        return "", history, ui.sources_html(ans), ui.citation_lines(ans), ui.notice_html(notice), download

    def clear_chat():
        return [], ui.EMPTY_SOURCES, "", "", gr.DownloadButton(value=None, interactive=False)

    def batch_formats(kind: str):
        choices = BATCH_FORMATS.get(kind, BATCH_FORMATS["questions"])
        return gr.Radio(choices=choices, value=choices[0][1])

    def run_batch(kind: str, path: str | None, fmt: str, k: float, progress=gr.Progress()):  # noqa: B008
        unit = "問" if kind == "questions" else "文"
        progress(0, desc="ファイルを読み込んでいます")

        def update(done: int, total: int) -> None:
            progress((done, total), desc="回答しています" if kind == "questions" else "出典を確認しています", unit=unit)

        try:
            out, summary, rows = run_file_workflow(pipeline, kind, path, fmt, workdir, k, on_progress=update)
        except Exception as e:
            if not isinstance(e, ShioriError):
                logger.exception("batch failed")
            return ui.notice_html(_user_message(e), "error"), None, ""
        return ui.batch_summary_html(summary, out.name), str(out), ui.batch_preview_html(kind, rows)

    def run_cite(text: str, k: float):
        try:
            results = cite_sentences(pipeline, text, k)
        except Exception as e:
            if not isinstance(e, ShioriError):
                logger.exception("cite failed")
            return ui.notice_html(_user_message(e), "error"), ""
        return ui.cite_results_html(results), ui.cited_draft(results)

    def view_doc(doc_id: str | None, first: float | None, last: float | None, context: float):
        doc = by_id.get(doc_id or "")
        if doc is None:
            return ui.document_html(doc), gr.update(), gr.update()
        # Line numbers start at 1: the span is clamped to the document and written back.
        a, b = ui.clamp_span(len(doc.lines), first, last)
        return ui.document_html(doc, a, b, int(context)), a, b

    def full_doc(doc_id: str | None):
        doc = by_id.get(doc_id or "")
        return ui.document_html(doc), 1, 1

    def open_source(context: float, evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        doc = by_id.get(str(data.get("doc", "")))
        if doc is None:
            return gr.update(), gr.update(), gr.update(), gr.update(), gr.update()
        try:
            first, last = ui.clamp_span(len(doc.lines), int(data.get("first") or 1), data.get("last"))
        except (TypeError, ValueError):
            first = last = 1
        return (
            gr.Tabs(selected="docs"),
            doc.id,
            first,
            last,
            ui.document_html(doc, first, last, int(context)),
        )

    # ---- API endpoints (the CLI's JSON; bad input gives {"error": ...}) ----
    def ask(question: str, k: int = s.top_k, mode: str = s.mode) -> dict:
        """Answer a question: the `shiori ask --json` document, or {"error": message}."""
        try:
            return ask_answer(pipeline, question, k, mode).to_json()
        except Exception as e:
            if not isinstance(e, ShioriError):
                logger.exception("api ask failed")
            return error_json(e)

    def cite(text: str) -> dict:
        """Find sources for draft sentences (one per line): {"results": [...]}, or {"error": message}."""
        try:
            return {"results": [r.to_json() for r in cite_sentences(pipeline, text)]}
        except Exception as e:
            if not isinstance(e, ShioriError):
                logger.exception("api cite failed")
            return error_json(e)

    # With batched query encodings, requests run together (their queries share encoder calls and
    # the rest of their work overlaps); without, one at a time as before (docs/PERFORMANCE.md).
    busy = {"concurrency_id": "pipeline", "concurrency_limit": s.max_batch if s.batch_queries else 1}

    with gr.Blocks(
        title="栞 shiori — 政策文書QA", analytics_enabled=False, delete_cache=(DOWNLOAD_TTL_S, DOWNLOAD_TTL_S)
    ) as demo:
        gr.HTML(HEADER, js_on_load=None)
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("チャット", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            label="会話",
                            elem_id="chat",
                            height=440,
                            buttons=["copy", "copy_all"],
                            feedback_options=None,
                            latex_delimiters=[],
                            placeholder="資料に基づいて答えます。回答の【1】【2】は右の出典に対応します。",
                        )
                        notice = gr.HTML("", elem_id="notice", js_on_load=None)
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(
                                show_label=False,
                                placeholder="質問を入力して Enter（日本語・英語）",
                                elem_id="question",
                                scale=6,
                                autofocus=True,
                            )
                            send = gr.Button("送信", variant="primary", elem_id="send", scale=1, min_width=80)
                            clear = gr.Button("クリア", elem_id="clear", scale=1, min_width=80)
                        gr.Examples([[q] for q in EXAMPLES], inputs=[question], label="質問の例")
                        with gr.Accordion("設定", open=False, elem_id="settings"):
                            k = gr.Slider(1, 20, value=s.top_k, step=1, label="参照する文章の数（k）")
                            mode = gr.Radio(MODE_CHOICES, value=s.mode, label="検索方式")
                            answer_mode = gr.Radio(
                                ANSWER_MODE_CHOICES,
                                value=s.answer_mode if llm_ready else "extractive",
                                label="回答方式",
                                interactive=llm_ready,
                                info=None
                                if llm_ready
                                else "生成型（LLM）は SHIORI_LLM_BASE_URL を設定すると選べます。",
                            )
                    with gr.Column(scale=2, min_width=360):
                        sources = gr.HTML(
                            ui.EMPTY_SOURCES, elem_id="sources", js_on_load=OPEN_DOC_JS, max_height=560
                        )
                        citation_box = gr.Textbox(
                            label="出典表記（コピー用）",
                            elem_id="citation-copy",
                            buttons=["copy"],
                            interactive=False,
                            lines=2,
                            max_lines=6,
                        )
                        answer_dl = gr.DownloadButton(
                            "回答と出典を保存（Markdown）",
                            elem_id="answer-download",
                            interactive=False,
                            size="sm",
                        )
            with gr.Tab("出典検索", id="cite"):
                gr.Markdown(
                    "下書きの文や段落を貼り付けると、文ごとに裏付ける箇所・判定（strong 裏付けあり / partial 一部 / "
                    "conflict 資料と食い違い / none 裏付けなし）・食い違う数値や日付・そのまま貼り付けられる出典表記を示します。"
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=360):
                        draft = gr.Textbox(label="下書き（段落のまま貼り付けられます）", lines=7, elem_id="draft")
                        cite_btn = gr.Button("出典を探す", variant="primary", elem_id="cite-btn")
                        gr.Examples([[t] for t in CITE_EXAMPLES], inputs=[draft], label="例")
                        cited = gr.Textbox(
                            label="出典付きの文（コピー用）",
                            elem_id="cited-draft",
                            buttons=["copy"],
                            interactive=False,
                            lines=4,
                        )
                    with gr.Column(scale=3, min_width=420):
                        cite_out = gr.HTML(ui.EMPTY_CITE, elem_id="cite-results", js_on_load=OPEN_DOC_JS)
            with gr.Tab("一括処理", id="batch"):
                gr.Markdown(
                    "**質問リスト**（.txt は1行に1問、.csv / .xlsx は「質問」または question の列）に"
                    "まとめて回答するか、**下書き**（.docx / .md / .txt）の文ごとに出典と裏付けの強さを確認し、"
                    "結果をファイルで受け取ります。空欄や読めないセルなどの行は、その行にエラーを記入して続けます。"
                )
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=360):
                        batch_kind = gr.Radio(BATCH_KINDS, value="questions", label="処理", elem_id="batch-kind")
                        batch_file = gr.File(
                            label="ファイル", file_types=BATCH_FILE_TYPES, type="filepath", elem_id="batch-file"
                        )
                        batch_fmt = gr.Radio(
                            BATCH_FORMATS["questions"], value=".xlsx", label="結果の形式", elem_id="batch-format"
                        )
                        batch_btn = gr.Button("実行", variant="primary", elem_id="batch-run")
                    with gr.Column(scale=3, min_width=420):
                        batch_summary = gr.HTML(ui.EMPTY_BATCH, elem_id="batch-summary", js_on_load=None)
                        batch_result = gr.File(label="結果ファイル", elem_id="batch-result", interactive=False)
                        batch_preview = gr.HTML("", elem_id="batch-preview", js_on_load=None)
            with gr.Tab("文書", id="docs"):
                with gr.Row(equal_height=True):
                    doc_dd = gr.Dropdown(
                        ui.document_choices(docs),
                        value=docs[0].id if docs else None,
                        label="文書",
                        elem_id="doc-select",
                        scale=5,
                    )
                    # Line numbers start at 1 (an empty box showed 0). No minimum/maximum: Gradio
                    # would refuse a typed 0 or 9999 with an error before the handler, which
                    # clamps it to the document's lines and writes it back.
                    first = gr.Number(1, label="開始行", precision=0, elem_id="doc-first", scale=1)
                    last = gr.Number(1, label="終了行", precision=0, elem_id="doc-last", scale=1)
                    context = gr.Slider(0, 50, value=ui.CONTEXT_LINES, step=1, label="前後の行数", scale=2)
                with gr.Row():
                    show_btn = gr.Button("指定した行を表示", elem_id="doc-show")
                    full_btn = gr.Button("全文を表示", elem_id="doc-full")
                doc_view = gr.HTML(
                    ui.document_html(docs[0] if docs else None), elem_id="doc-view", js_on_load=None
                )

        # ---- events (UI-only endpoints are private; the API is ask/cite below) ----
        chat_io = dict(
            fn=respond,
            inputs=[question, chatbot, k, mode, answer_mode],
            outputs=[question, chatbot, sources, citation_box, notice, answer_dl],
            api_visibility="private",
            show_progress="minimal",
            **busy,
        )
        question.submit(**chat_io)
        send.click(**chat_io)
        clear.click(
            clear_chat, None, [chatbot, sources, citation_box, notice, answer_dl], api_visibility="private"
        )
        batch_kind.change(batch_formats, [batch_kind], [batch_fmt], api_visibility="private")
        batch_btn.click(
            run_batch,
            [batch_kind, batch_file, batch_fmt, k],
            [batch_summary, batch_result, batch_preview],
            api_visibility="private",
            show_progress="full",
            **busy,
        )
        cite_btn.click(run_cite, [draft, k], [cite_out, cited], api_visibility="private", **busy)
        doc_outputs = [tabs, doc_dd, first, last, doc_view]
        sources.click(open_source, [context], doc_outputs, api_visibility="private")
        cite_out.click(open_source, [context], doc_outputs, api_visibility="private")
        doc_dd.input(full_doc, [doc_dd], [doc_view, first, last], api_visibility="private")
        full_btn.click(full_doc, [doc_dd], [doc_view, first, last], api_visibility="private")
        view = dict(
            fn=view_doc, inputs=[doc_dd, first, last, context], outputs=[doc_view, first, last],
            api_visibility="private",
        )
        show_btn.click(**view)
        first.submit(**view)
        last.submit(**view)
        gr.api(ask, api_name="ask", **busy)
        gr.api(cite, api_name="cite", **busy)
    return demo


def launch(
    app: gr.Blocks,
    *,
    host: str = DEFAULT_HOST,
    port: int | None = DEFAULT_PORT,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> tuple[Any, str, str]:
    """Serve ``app`` with the shiori theme; returns gradio's (app, local_url, share_url)."""
    return app.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        theme=make_theme(),
        css=CSS,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        show_error=False,
    )


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``user:pass`` -> (user, pass); ``None``/empty -> no login."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise UsageError("--auth/SHIORI_AUTH must look like user:password")
    return user, password


def main(argv: list[str] | None = None) -> int:
    """``python app.py [--host H] [--port P] [--auth user:pass]``; returns an exit code."""
    parser = argparse.ArgumentParser(prog="shiori serve", description="栞 shiori の Web アプリを起動します。")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--auth", default=None, help="require a login, user:pass (or env SHIORI_AUTH)")
    parser.add_argument("--debug", action="store_true", help="debug logs and tracebacks")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        auth = parse_auth(args.auth if args.auth is not None else os.environ.get("SHIORI_AUTH"))
        settings = Settings.from_env()
        pipeline = Pipeline(settings, progress=True)
        print(
            f"shiori: loading the index for {settings.corpus_dir} "
            "(the first build takes about 30 s; progress below)",
            file=sys.stderr,
        )
        pipeline.index()
        if settings.mode != "bm25":
            pipeline.encode_queries(["準備"])  # load the model (and start the batcher) now, not on the first question
        app = build_app(pipeline)
    except ShioriError as e:
        if args.debug:
            raise
        print(f"shiori: {e}", file=sys.stderr)
        return e.exit_code
    if args.host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        logger.warning("serving on %s without a login; set --auth user:pass or SHIORI_AUTH", args.host)
    launch(app, host=args.host, port=args.port, auth=auth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
