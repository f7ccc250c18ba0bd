"""User-facing strings and formats shared by the CLI, the app, the eval and tests."""

from __future__ import annotations

ABSTAIN_MESSAGE = "資料には該当する記述が見つかりませんでした。"
ABSTAIN_MESSAGE_EN = "The documents do not appear to answer this question."
CITE_MARK = "【{n}】"
CITATION_FORMAT = "（出典：{title}、{doc} L{first}–L{last}）"
EN_LEAD = "According to {title}:"
LLM_FALLBACK_NOTICE = "（生成モードを利用できなかったため、抽出型の回答を表示しています：{reason}）"
STRENGTH_LABELS = {"strong": "強い裏付け", "partial": "部分的な裏付け", "none": "裏付けなし"}
