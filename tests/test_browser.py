"""The app in a real headless Chromium (Debian's /usr/bin/chromium, never `playwright install`).

Uses the session's live app from ``test_app.py`` (real embedder and index over a
copy of ``corpus/`` plus a document full of HTML, Markdown and script). Skips with
the reason when Chromium or playwright is missing, except under ``CI=true``,
where that is a failure. Writes ``docs/screenshots/chat.png`` and ``batch.png`` (shown in the README).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_app import GRADIO_WARNINGS, LiveApp, live_app  # noqa: F401  (shared session app)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = ROOT / "docs" / "screenshots" / "chat.png"
BATCH_SCREENSHOT = ROOT / "docs" / "screenshots" / "batch.png"
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOT_QUESTION = "JT-60SAはどの研究所にある装置か。"
TIMEOUT_MS = 60_000

pytestmark = [pytest.mark.slow, *GRADIO_WARNINGS]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def page(browser: Any, live_app: LiveApp) -> Iterator[Any]:  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT, locale="ja-JP", device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(live_app.url, wait_until="domcontentloaded")
    pg.wait_for_selector("#question textarea, #question input", state="visible")
    yield pg
    context.close()


def _ask(page: Any, question: str) -> None:
    box = page.locator("#question textarea, #question input").first
    box.fill(question)
    box.press("Enter")


def _wait_for_answer(page: Any, n_user_messages: int) -> None:
    """Wait until the chat shows ``n_user_messages`` questions and the sources panel is filled."""
    page.wait_for_function(
        """n => document.querySelectorAll('#chat .message-row.user-row, #chat [data-testid="user"]').length >= n
             && document.querySelector('#sources .src-card, #sources .notice') !== null""",
        arg=n_user_messages,
    )


def test_chat_answer_shows_marked_sources(page: Any, live_app: LiveApp) -> None:  # noqa: F811
    _ask(page, SCREENSHOT_QUESTION)
    page.wait_for_selector("#sources mark")
    _wait_for_answer(page, 1)
    chat = page.locator("#chat").inner_text()
    assert SCREENSHOT_QUESTION in chat
    assert "【1】" in chat
    marks = page.locator("#sources mark").all_inner_texts()
    assert marks and all(m.strip() for m in marks)
    assert "【1】" in page.locator("#sources .src-card").first.inner_text()
    copy_box = page.locator("#citation-copy textarea").input_value()
    assert copy_box.startswith("【1】（出典：") and "L" in copy_box

    page.evaluate("document.fonts.ready")
    time.sleep(0.5)  # let the chat finish scrolling before the picture
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 20_000

    # "文書で表示" opens the Documents tab at the cited lines, highlighted, with context.
    btn = page.locator("#sources button.open-doc").first
    first, last = int(btn.get_attribute("data-first")), int(btn.get_attribute("data-last"))
    btn.click()
    page.wait_for_selector("#doc-view .ln.hl", state="visible")
    lit = [
        int(x) for x in page.locator("#doc-view .ln.hl").evaluate_all("els => els.map(e => e.dataset.line)")
    ]
    assert lit == list(range(first, last + 1))
    shown = [
        int(x) for x in page.locator("#doc-view .ln").evaluate_all("els => els.map(e => e.dataset.line)")
    ]
    assert shown[0] == max(1, first - 5) and shown[-1] >= last

    # An empty question shows a message, not a traceback, and leaves the history alone.
    page.get_by_role("tab", name="チャット").click()
    page.locator("#question textarea").fill("   ")
    page.locator("#send").click()
    page.wait_for_selector("#notice .notice-error", state="visible")
    assert "empty" in page.locator("#notice").inner_text()
    assert "Traceback" not in page.content()
    assert page.locator('#chat [data-testid="user"]').count() == 1


CITE_SCREENSHOT = ROOT / "docs" / "screenshots" / "cite.png"
#: One sentence of each verdict, pasted as one paragraph: stated, stated differently, not stated.
CITE_PARAGRAPH = (
    "JT-60SAは令和5年10月に初プラズマを生成した。"
    "ITER計画の建設期における日本の費用分担は45.5%である。"
    "原型炉の建設地は青森県六ヶ所村に決定している。"
)


def test_cite_tab_checks_a_pasted_paragraph(page: Any, live_app: LiveApp) -> None:  # noqa: F811
    page.get_by_role("tab", name="出典検索").click()
    box = page.locator("#draft textarea")
    box.fill(CITE_PARAGRAPH)
    page.locator("#cite-btn").click()
    page.wait_for_function("document.querySelectorAll('#cite-results .cite-card').length >= 3")
    cards = page.locator("#cite-results .cite-card")
    assert cards.count() == 3
    strengths = [cards.nth(i).locator(".strength").inner_text() for i in range(3)]
    assert strengths[0].startswith(("strong", "partial"))
    assert strengths[1].startswith("conflict") and strengths[2].startswith("none")
    # The differing value is marked in the draft sentence and in the quoted source, and said in words.
    conflict = cards.nth(1)
    assert conflict.locator(".cite-sentence mark.diff").inner_text() == "45.5%"
    assert "9.1%" in conflict.locator(".cite-quote mark.diff").all_inner_texts()
    assert "45.5% ≠ 資料では 9.1%" in conflict.locator(".mismatch").inner_text()
    assert "Traceback" not in page.content()
    page.evaluate("document.fonts.ready")
    time.sleep(0.5)
    CITE_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(CITE_SCREENSHOT), full_page=True)
    assert CITE_SCREENSHOT.stat().st_size > 20_000


def test_untrusted_text_is_shown_not_run(page: Any, live_app: LiveApp) -> None:  # noqa: F811
    # A question about the hostile document: its passage reaches the sources panel.
    _ask(page, "ザクロ検証の注意その一は何か。")
    page.wait_for_function(
        "() => (document.querySelector('#sources')?.innerText || '').includes('window.__xss')"
    )
    sources = page.locator("#sources").inner_text()
    assert "<script>window.__xss=1</script>" in sources

    # A hostile question is echoed as text in the chat.
    hostile_q = '<img src=x onerror="window.__xss=7">ザクロ検証の注意その二は **何** か'
    _ask(page, hostile_q)
    _wait_for_answer(page, 2)
    page.wait_for_function(
        "t => (document.querySelector('#chat')?.innerText || '').includes(t)", arg=hostile_q
    )

    # The document itself, opened from its source card.
    page.locator(f'#sources button.open-doc[data-doc="{live_app.hostile_doc}"]').first.click()
    page.wait_for_function(
        "() => (document.querySelector('#doc-view')?.innerText || '').includes('ザクロ検証')"
    )
    page.locator("#doc-full").click()
    page.wait_for_function(
        "() => (document.querySelector('#doc-view')?.innerText || '').includes('{{constructor}}')"
    )
    doc_text = page.locator("#doc-view").inner_text()
    for needle in (
        "<script>window.__xss=1</script>",
        '<img src=x onerror="window.__xss=2">',
        "[リンク](javascript:window.__xss=3)",
        "**強調**",
        "${window.__xss=4}",
        'ザクロ検証 <img src=x onerror="window.__xss=5">',  # the title
    ):
        assert needle in doc_text

    # The citation lookup tab shows a hostile draft sentence as text too.
    page.get_by_role("tab", name="出典検索").click()
    draft = '<img src=x onerror="window.__xss=6">ザクロ検証の注意その三は文字のまま表示される。'
    page.locator("#draft textarea").fill(draft)
    page.locator("#cite-btn").click()
    page.wait_for_selector("#cite-results .cite-card")
    assert draft in page.locator("#cite-results").inner_text()
    assert page.locator("#cite-results .strength").count() == 1

    time.sleep(0.5)  # give any injected handler (there must be none) a chance to run
    assert page.evaluate("typeof window.__xss") == "undefined"
    for panel in ("#sources", "#doc-view", "#cite-results", "#chat .message-row"):
        assert page.locator(f"{panel} img, {panel} script").count() == 0, panel


def test_document_tab_line_numbers_start_at_1_and_are_clamped(page: Any) -> None:
    page.get_by_role("tab", name="文書").click()
    first, last = page.locator("#doc-first input"), page.locator("#doc-last input")
    assert first.input_value() == "1" and last.input_value() == "1"
    first.fill("0")
    last.fill("100000")
    last.press("Enter")
    page.wait_for_function("() => document.querySelector('#doc-last input').value !== '100000'")
    assert first.input_value() == "1"
    n = int(last.input_value())
    assert 1 < n < 100000
    assert f"L1–L{n}" in page.locator("#doc-view").inner_text() and f"全 {n} 行" in page.locator("#doc-view").inner_text()


def test_batch_tab_answers_an_uploaded_question_list(page: Any, live_app: LiveApp, tmp_path: Path) -> None:  # noqa: F811
    from openpyxl import Workbook, load_workbook

    from assistant.corpus import load_corpus

    questions = ["JT-60SAはどの研究所にある装置か。", "ITER計画の建設期に日本が分担する費用の割合は？"] * 4
    wb = Workbook()
    wb.active.append(["番号", "質問"])
    for i, q in enumerate(questions, start=1):
        wb.active.append([i, q])
    wb.active.append([len(questions) + 1, None])  # a bad row: reported in place
    src = tmp_path / "想定問答.xlsx"
    wb.save(src)

    page.get_by_role("tab", name="一括処理").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(src))
    page.wait_for_function(
        "() => (document.querySelector('#batch-file')?.innerText || '').includes('想定問答.xlsx')"
    )
    page.locator("#batch-run").click()
    # The progress indicator counts the questions while they are answered.
    page.wait_for_function(
        "() => /\\d+\\/\\d+/.test(document.querySelector('#batch-summary')?.closest('.column')?.innerText || '')"
    )
    link = page.locator("#batch-result a").first
    link.wait_for(state="visible")
    assert "9 問" in page.locator("#batch-summary").inner_text()
    page.evaluate("document.fonts.ready")
    BATCH_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(BATCH_SCREENSHOT))
    with page.expect_download() as info:
        link.click()
    got = tmp_path / info.value.suggested_filename
    info.value.save_as(got)
    assert got.name == "想定問答.answers.xlsx"

    rows = list(load_workbook(got).active.iter_rows(values_only=True))
    head, body = rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert head[:3] == ("row", "番号", "question")
    assert [r["question"] for r in body[:-1]] == questions and len(body) == len(questions) + 1
    assert "empty" in body[-1]["error"] and body[-1]["answer"] is None
    docs = {d.id: d for d in load_corpus(live_app.corpus_dir)}
    for r in body[:-1]:
        assert r["answer"] and r["citation1_quote"]
        i = 1
        while f"citation{i}_quote" in r and r[f"citation{i}_quote"]:
            lines = docs[r[f"citation{i}_doc"]].line_slice(r[f"citation{i}_first_line"], r[f"citation{i}_last_line"])
            assert r[f"citation{i}_quote"] in lines
            i += 1


def test_chat_answer_downloads_as_markdown(page: Any, live_app: LiveApp, tmp_path: Path) -> None:  # noqa: F811
    _ask(page, SCREENSHOT_QUESTION)
    _wait_for_answer(page, 1)
    button = page.locator("#answer-download")
    page.wait_for_function("() => !document.querySelector('#answer-download')?.disabled")
    with page.expect_download() as info:
        button.click()
    got = tmp_path / info.value.suggested_filename
    info.value.save_as(got)
    text = got.read_text(encoding="utf-8")
    copy_box = page.locator("#citation-copy textarea").input_value()
    assert got.suffix == ".md" and text.startswith("# 質問")
    for line in copy_box.splitlines():  # the copy-ready citations, as in the copy box
        assert line in text
