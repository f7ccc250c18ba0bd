"""Generative mode against a real OpenAI-compatible HTTP server started on 127.0.0.1.

The server speaks the chat-completions protocol (what llama.cpp server, vLLM and
Ollama expose); its canned replies exercise the marker check and the fallbacks.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.generate import check_markers
from assistant.messages import ABSTAIN_MESSAGE

pytestmark = pytest.mark.slow


class _Handler(BaseHTTPRequestHandler):
    reply: str = ""
    status: int = 200
    delay: float = 0.0
    requests: list[dict] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        type(self).requests.append({"path": self.path, "body": body})
        time.sleep(type(self).delay)
        if type(self).status != 200:
            self.send_response(type(self).status)
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "boom"}}')
            return
        payload = {
            "id": "cmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "m"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": type(self).reply}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except BrokenPipeError:  # the client gave up (the timeout test)
            pass


@pytest.fixture(scope="module")
def llm_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.fixture
def llm_pipeline(real_pipeline, llm_server):
    from assistant.pipeline import Pipeline

    settings = replace(real_pipeline.settings, answer_mode="llm", llm_base_url=llm_server,
                       llm_model="test-model", llm_timeout=2.0)
    p = Pipeline(settings, embedder=real_pipeline.embedder, progress=False)
    p._index = real_pipeline.index()
    _Handler.status, _Handler.delay, _Handler.requests = 200, 0.0, []
    return p


def _doc_text(settings, doc: str) -> str:
    return (Path(settings.corpus_dir) / doc).read_text(encoding="utf-8")


def test_markers_are_checked_and_unsupported_sentences_dropped(llm_pipeline):
    _Handler.reply = (
        "建設期の費用は欧州が45.5%、日本を含む他の各極が9.1%ずつ分担する。【1】"
        "これは資料にない主張である。"  # no marker: dropped
        "ITERは月面に建設される。【9】"  # marker outside the passages given: dropped
    )
    ans = llm_pipeline.ask("ITER計画の建設期に日本が分担する費用の割合は？")
    assert ans.mode == "llm"
    assert ans.answer.startswith("建設期の費用は")
    assert "資料にない主張" not in ans.answer and "月面" not in ans.answer
    assert "2 件を除外" in (ans.notice or "")
    assert [c.n for c in ans.citations] == [1]
    c = ans.citations[0]
    text = _doc_text(llm_pipeline.settings, c.doc)
    lines = text.split("\n")[c.first_line - 1 : c.last_line]
    assert c.quote in "\n".join(lines)
    # The prompt carried the numbered passages and the question to the server.
    sent = _Handler.requests[-1]["body"]["messages"]
    assert sent[0]["role"] == "system" and "【1】" in sent[0]["content"]
    assert "[1]" in sent[1]["content"] and "ITER" in sent[1]["content"]


def test_generated_sentences_with_values_not_in_their_sources_are_dropped(llm_pipeline):
    _Handler.reply = (
        "建設期の費用は欧州が45.5%、日本が9.1%を分担する。【1】"
        "日本の分担は30%である。【1】"  # a figure the cited passage does not state: dropped
    )
    ans = llm_pipeline.ask("ITER計画の建設期に日本が分担する費用の割合は？")
    assert ans.mode == "llm" and "9.1%" in ans.answer and "30%" not in ans.answer
    assert "1 件を除外" in (ans.notice or "")


def test_server_error_falls_back_to_extractive_with_notice(llm_pipeline):
    _Handler.status = 500
    ans = llm_pipeline.ask("ITER計画の建設期に日本が分担する費用の割合は？")
    assert ans.mode == "extractive"
    assert ans.notice and "抽出型" in ans.notice
    assert ans.citations and "【1】" in ans.answer


def test_timeout_falls_back(llm_pipeline):
    _Handler.delay = 3.0
    t = time.perf_counter()
    ans = llm_pipeline.ask("JT-60SAが初プラズマを生成したのはいつか。")
    assert time.perf_counter() - t < 10
    assert ans.mode == "extractive" and ans.notice


def test_not_configured_falls_back(real_pipeline):
    from assistant.pipeline import Pipeline

    settings = replace(real_pipeline.settings, answer_mode="llm", llm_base_url=None)
    p = Pipeline(settings, embedder=real_pipeline.embedder, progress=False)
    p._index = real_pipeline.index()
    ans = p.ask("JT-60SAが初プラズマを生成したのはいつか。")
    assert ans.mode == "extractive" and "SHIORI_LLM_BASE_URL" in (ans.notice or "")


def test_llm_abstention_is_kept(llm_pipeline):
    _Handler.reply = ABSTAIN_MESSAGE
    ans = llm_pipeline.ask("火星探査計画の予算はいくらか。")
    assert ans.abstained and ans.answer == ABSTAIN_MESSAGE and not ans.citations


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        ("Aである。【1】Bである。【2】", [("Aである。", [1]), ("Bである。", [2])], 0),
        ("Aである。【1】【3】", [("Aである。", [1, 3])], 0),
        ("Aである。Bである。【1】", [("Bである。", [1])], 1),
        ("Aである。【7】", [], 1),
        ("A is true [2].", [("A is true .", [2])], 0),
    ],
)
def test_check_markers_table(text, kept, dropped):
    got, n = check_markers(text, n_passages=5)
    assert n == dropped
    assert [(b.replace(" .", "."), nums) for b, nums in got] == [(b.replace(" .", "."), nums) for b, nums in kept]
