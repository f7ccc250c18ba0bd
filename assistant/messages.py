"""User-facing strings and formats shared by the CLI, the app, the eval and tests."""

from __future__ import annotations

ABSTAIN_MESSAGE = "資料には該当する記述が見つかりませんでした。"
ABSTAIN_MESSAGE_EN = "The documents do not appear to answer this question."
#: Why an answer was withheld when the question names something the passages never mention.
MISSING_LITERALS_NOTICE = "質問中の{items}は、回答の候補となる資料の箇所に見当たりません。"
#: … and when the question asks for a value in a unit (円, %, 名) that no candidate passage states.
MISSING_UNIT_NOTICE = "質問が求める{unit}は、回答の候補となる資料の箇所に見当たりません。"
UNIT_NAMES = {"money": "金額", "percent": "割合", "kW": "出力(kW)", "MW": "出力(MW)", "GW": "出力(GW)",
              "m": "長さ(m)", "km": "距離(km)", "m2": "面積(m2)", "t": "重さ(t)"}
CITE_MARK = "【{n}】"
#: ``lines`` is ``format_lines(first, last)``: ``L171``, or ``L171–L175`` (docs/INTERFACE.md).
CITATION_FORMAT = "（出典：{title}、{doc} {lines}）"
EN_LEAD = "According to the documents:"
#: An English answer's lead when the reader found the value (or Latin names) it asks for.
EN_DIRECT_LEAD = "{value} — according to the documents:"
#: Two values of one kind compared (two-part questions).
COMPARE_MORE = "（{more}の方が大きい）"
COMPARE_EQUAL = "（同じ値）"
LLM_FALLBACK_NOTICE = "（生成モードを利用できなかったため、抽出型の回答を表示しています：{reason}）"
STRENGTH_LABELS = {"strong": "強い裏付け", "partial": "部分的な裏付け", "conflict": "資料と食い違い", "none": "裏付けなし"}
#: Verdicts of the drafting check (``shiori cite --draft``): the lookup's, plus sentences not checked.
DRAFT_VERDICT_LABELS = {
    "strong": "強い裏付け",
    "partial": "部分的な裏付け",
    "conflict": "資料と食い違い",
    "none": "裏付けなし",
    "no statement": "確認対象外",
}
#: Why a draft sentence is not checked (``assistant.sentences.REASONS``).
NO_STATEMENT_LABELS = {
    "heading": "見出し",
    "greeting": "挨拶・定型文",
    "lead-in": "前置き・参照",
    "question": "疑問文",
    "date": "日付のみ",
    "value": "数値のみ",
    "label": "項目名・短い語句",
}

#: System prompt of the optional generative mode: the model may use only the numbered passages.
LLM_SYSTEM_PROMPT = (
    "あなたは日本の政策文書について質問に答えるアシスタントです。"
    "与えられた番号付きの資料だけを根拠に、簡潔に（3文以内で）答えてください。"
    "各文の末尾に、根拠とした資料の番号を【1】のように必ず付けてください。"
    "資料に答えがない場合は「" + ABSTAIN_MESSAGE + "」とだけ答えてください。"
    "資料にない情報を加えてはいけません。"
)
LLM_USER_TEMPLATE = "資料:\n{passages}\n\n質問: {question}\n回答（日本語、各文に【番号】）:"
LLM_USER_TEMPLATE_EN = (
    "Sources:\n{passages}\n\nQuestion: {question}\n"
    "Answer in English, in at most 3 sentences, each ending with the source number like 【1】:"
)
LLM_VALUES_NOTICE = "（引用元の資料にない数値・日付・名称を含む文 {n} 件を除外しました）"
LLM_DROPPED_NOTICE = "（出典番号のない、または資料にない番号を示した文 {n} 件を除外しました）"


def format_lines(first: int, last: int) -> str:
    """A line span as shown everywhere: ``L171`` for one line, ``L171–L175`` for several.

    The one place spans are spelled, so the CLI, the app, citation strings and the
    docs cannot drift apart (``L171–L171`` reads like a typo).
    """
    return f"L{first}" if first == last else f"L{first}–L{last}"


def format_citation(title: str, doc: str, first: int, last: int) -> str:
    """``（出典：<title>、<doc> L<first>–L<last>）``, with a single line as ``L<first>``."""
    return CITATION_FORMAT.format(title=title, doc=doc, lines=format_lines(first, last))
