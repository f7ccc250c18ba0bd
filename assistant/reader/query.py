"""Question analysis: what is asked, about what, and of which type — computed once.

``analyse`` turns a question into a ``Query``: normalised text, language, the
expected answer type (from the interrogative nearest the end of a Japanese
question, or the first wh-phrase of an English one), the focus (the attribute
asked for: the noun compound just before the interrogative), the content terms
with their IDF, the literals the question is pinned to, and, for a two-part or
comparison question, one sub-query per part. The reader, the drafting check and
the training script all use this one analysis.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from assistant.bm25 import QUESTION_WORDS, Tokenize
from assistant.glossary import is_english
from assistant.lazyre import lazy, rx
from assistant.normalize import normalize_query

AnswerType = str  # "number" | "date" | "person" | "organization" | "place" | "list" | "reason" | "other"
ANSWER_TYPES: tuple[str, ...] = ("number", "date", "person", "organization", "place", "list", "reason", "other")
#: Answer types whose answer is one typed value (the reader gives a ``direct`` answer).
VALUE_TYPES: frozenset[str] = frozenset({"number", "date", "person", "organization", "place"})

#: A question that ends on its topic (…都市は？, …額を教えてください。): the noun before it is the kind asked
#: (matched behind, so that the interrogative's anchor falls after it and the focus is that noun).
_ASKED_END = r"(?:は|を教えて(?:ください)?)[？?。]*$"


def _ends_on(*nouns: str) -> str:
    return "(?:" + "|".join(f"(?<={n})" for n in nouns) + ")" + _ASKED_END


#: どこが before a predicate of difference or quality (どこが違うか, どこが優れているか) asks in what
#: respect, not which body or place: the answer is a description.
_WHERE_RESPECT = r"(?!が(?:違|ちが|異な|優れ|劣|特徴|強み|弱み|新し|良い|よい|悪い|問題|変わ))"
#: Units of measure written in Latin letters, as the span rules count them (62万kW, 5.5MA): asked
#: 何kW, 何MA. Not glued to further letters (何MeV is another unit).
_LATIN_UNITS = r"(?:kW|MW|GW|MA|keV|km|m2|m3)(?![A-Za-z0-9])"
#: Fees named by what they are paid for (受講料, 参加料): general words for a price, asked as a noun.
_FEES = ("受講料", "参加料", "利用料", "使用料", "入場料", "登録料", "手数料", "会費", "参加費", "受講費")
_JA_TYPES: tuple[tuple[str, str], ...] = (
    ("organization", r"どの(?:企業|会社|機関|組織|団体|大学|省庁|省|研究機関|研究所|法人|業界団体)|どこ" + _WHERE_RESPECT + r"が|どこの(?:企業|機関|組織|団体|大学)"
                     r"|何という(?:企業|会社|機関|組織|団体|会議|委員会)|主催者|(?<=事務局)はどこ|何という名称"
                     # A question that ends on the kind of body it asks for (…を実施する機関は？).
                     "|" + _ends_on("機関", "団体", "企業", "会社", "組織", "大学", "法人", "研究所", "省庁", "事業者")),
    ("person", r"誰|だれ|どなた|人物|氏名|何という人|どの人|(?:長|者|員|官|大臣|代表|人|教授|理事)[)）]?の名前"
               # A role held (主査を務めているのは): its holder, a person (not 議長国, 事務局: a body).
               # Matched behind the role, so that the role is the focus.
               r"|(?:" + "|".join(f"(?<={r})" for r in ("長", "者", "員", "主査", "座長", "代表", "代理", "幹事"))
               + r")を務め(?:る|ている|た|ていた)(?:の|人)は"
               # A question that ends on a post one person holds (…欧州側の担当者は？).
               "|" + _ends_on("担当者", "責任者", "代表者", "署名者", "大臣", "長官", "議長", "会長", "所長", "座長",
                              "主査", "理事長", "委員長")),
    ("place", r"どこ" + _WHERE_RESPECT + r"|どの(?:国|都市|県|地域|場所)|場所|開催地|所在地|建設地|会場|実施地|何(?:県|市|町|村|州)"
              "|" + _ends_on("都市", "国", "県", "市", "町", "村")),
    ("number", r"いくら|いくつ|どれだけ|何(?:日|人|食|回)分|何(?:十|百|千)?(?:万|億|兆)?円|何%|何パーセント|何割|何名|何人|何社|何件|何回|何度|何か国|何カ国|何ヶ国|何機|何基|何億|何万|何兆|何倍"
               "|" + _ends_on("の数", "額")
               # A place count, or a unit in katakana (何メートル, 何トン, 何キロワット).
               + r"|何(?:か所|カ所|ヶ所|箇所|(?:立方|平方)?[ァ-ヺー]{2,})"
               # A unit in Latin letters as the documents write it (何万kW, 何MA), machines counted (何台).
               + r"|何(?:十|百|千)?(?:万|億)?(?:台|" + _LATIN_UNITS + r")"
               # An ordinal (第何号, 第何回, 何番目): a number the documents write 第3号, 3番.
               r"|第何|何番"
               # A length bounded or of a term (任期は最長で何年, 期間は何か月): a number of years, not a year.
               r"|(?:" + "|".join(f"(?<={w})" for w in ("最長", "最大", "最短", "最長で", "最大で", "最短で", "任期は",
                                                         "任期", "期間は", "期間")) + r")何(?:年|か月|ヶ月|週間)(?![度目頃])"
               # Days counted roughly (何日くらい), not a day of the month.
               r"|何日(?:くらい|ぐらい|ほど|程度)(?!に)"
               r"|何段階|何項目|何チーム|何年間|何日間|何週間|何(?:年|か月|ヶ月|日|週間)(?:先|後|前)(?!半)|何か月|何ヶ月|何ドル|何ユーロ|何団体|何機関|何分野|何極|何校"
               r"|どれくらい|どれぐらい|どのくらい|どのぐらい|金額|予算額|予算は|割合|比率|人数|件数|規模|総額|分担率|何歳"
               # Days counted over a period (年間何日, 月に何日): a number of days, not a date.
               r"|(?<=年間|月間|週間|年に|月に|週に|合計|延べ)何日(?![目頃ごま])"
               # A fee named as the asked noun (受講料を教えて, 参加料は).
               "|" + _ends_on(*_FEES)),
    ("date", r"いつ|何年|何月|何日|どの時期|時期|日付|年月日|何年度|開催日|期限"
             # A schedule asked as the noun (今年の会合の日程は): dates.
             "|" + _ends_on("日程", "日時")),
    ("reason", r"なぜ|何故|どうして|理由|目的|ねらい|狙い|意義|何のため|背景"
               # "…するのは、…する必要があるからか" / "…何に備えるためか": a question ending in から / ため
               # asks for a reason (not いつからか, どこからか: a time or a place).
               r"|(?<!いつ)(?<!どこ)(?<!何時)(?:から|ため)(?:です|でしょう)?か[。?？]*$"),
    # A number of things asked at once (3つの柱は何か, 二つの目標を教えて): all of them.
    ("list", r"(?<![\d一-九])(?:[2-9]|[二三四五六七八九])つの(?=[^、。？?]{1,12}?(?:は|とは|を)(?:何|なに|教え|挙げ|示し))|挙げ|すべて|全て|全部(?!で)|列挙|一通り|漏れなく|もれなく|何があ|主な|いくつか(?=挙げ|の|示|紹介)|どのようなものがあ|どのような(?:取組|項目|活動|分野|機関)|どんな(?:取組|項目|活動)"
             r"|構成機関|構成員|項目は"
             # What something is made up of (…はどの機関で構成されているか): all of its members; not
             # how many (何名で構成, 5か国で構成: a count).
             r"|(?<![名人社者件])(?<![かヶカケ箇]国)で構成(?:され|して)"
             # Two interrogatives joined (誰と誰, どことどこ): several of that kind asked at once.
             r"|(?:誰|だれ|どこ|何)と(?:誰|だれ|どこ|何)"
             # The asked noun of each of several (各国の政府機関はどこか, 各社の代表は誰か): one of each.
             r"|各[\u3400-\u9fff]{1,3}の[\u3400-\u9fffァ-ヺー]{1,10}(?:は|が)(?:どこ|誰|だれ|どなた)"
             # A count of things (not of years, people, money or times) asked what they are (5段階とは).
             r"|(?<![\d.,第何])[2-9](?![年月日回名人円件社億万兆歳時秒週倍度%か箇ヶカつ]|分(?!野))[\u3400-\u9fffァ-ヺー]{1,4}"
             # A bracketed note after the count (4段階(案)), and each of them asked (それぞれ何).
             r"(?:[(（][^)）]{1,4}[)）])?(?:とは|は(?:それぞれ)?(?:何|なに|どのよう|どんな)|を(?:教え|挙げ|示し))"),
)
#: Auxiliaries and numbers, which end the words before an English type noun (what does the … pay
#: for, which two companies).
_EN_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could|should|may|must)"
_EN_COUNT = r"(?:two|three|four|five|six|seven|eight|nine|ten|\d+)"
_EN_TYPES: tuple[tuple[str, str], ...] = (
    # A kind of body, with up to two words before it (which government body, which research institute).
    ("organization", rf"(?:which|what) (?:(?!{_EN_AUX}\b|{_EN_COUNT}\b)[a-z\-]+ ){{0,2}}?"
                     r"(?:companies|company|organi[sz]ations?|agenc(?:y|ies)|institut(?:e|ion)s?|bod(?:y|ies)|firms?"
                     r"|groups?|ministr(?:y|ies)|universit(?:y|ies)|industry associations?|councils?|committees?"
                     r"|corporations?|enterprises?|authorit(?:y|ies))(?![\w\-])|who (?:hosts|hosted|organi[sz]ed)"),
    # A role names a person, with up to two words before it (which EU commissioner, name the deputy director).
    ("person", r"\bwho\b|\bwhom\b|\bwhose\b|(?:which|name the|name of the) (?:(?!(?:is|are|was|were|do|does|did|has|have|had)\b)[a-z\-]+ ){0,2}?"
               r"(?:person|minister|commissioner|secretary|official|chair(?:man|woman|person)?|president|director"
               r"|head|leader|expert|professor|representative|ambassador|mayor|governor|chief)s?(?![\w\-])"),
    ("place", r"\bwhere\b|(?:which|what) (?:country|countries|city|cities|town|village|prefecture|place|location|region|site|venue)\b"),
    # A measure or an amount asked by its name (what is the maximum subsidy, what annual supply volume).
    ("number", r"how much|how many|what percentage|what percent|what share|what proportion|how large|how big|how long"
               r"|how (?:high|tall|deep|wide|far|heavy)|what amount"
               rf"|what (?:(?:is|was|are|were) (?:the |its |their )?)?(?:(?!{_EN_AUX}\b)[a-z0-9\-]+(?:'s)? ){{0,4}}?(?:amount|budget|cost|number|share"
               r"|rate|ratio|percentage|proportion|volume|capacity|height|length|width|depth|distance|area|size|weight"
               r"|output|price|fee|salary|wage|subsidy|grant|allowance|population|temperature|speed|target|cap|limit"
               r"|ceiling|quota|sum)s?\b"),
    ("date", r"\bwhen\b|(?:what|which) (?:fiscal )?(?:year|month|date|day)\b|by when|since when"),
    ("reason", r"\bwhy\b|what (?:is|was) the (?:purpose|reason|aim|goal|objective)|for what purpose|purpose of|reason for"),
    # "Name the" asks for a list when what it names is plural (name the three bodies), not one role.
    ("list", r"what are the|\blist\b|name (?:the|all)(?: (?:two|three|four|five|\d+))? (?:[a-z\-]+ ){0,2}?[a-z\-]+s\b"
             r"|what kinds|what types|which (?:items|areas|fields|activities|measures)"
             r"|what (?:items|areas|fields|activities|measures)"),
)
_JA_TYPE_RES = [(t, rx(p)) for t, p in _JA_TYPES]
#: English patterns compile on the first English question (a Japanese ask never uses them).
_EN_TYPE_RES = [(t, lazy(p, re.I)) for t, p in _EN_TYPES]
_PRIORITY = {t: i for i, (t, _) in enumerate(_JA_TYPES)}

#: The kind of body an English question names (which university, what research institute) -> the
#: words a Japanese (or Latin) name of that kind holds: general words for kinds of organisation.
_EN_ORG_KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"universit(?:y|ies)", ("大学", "University")),
    (r"institut(?:e|es)|laborator(?:y|ies)", ("研究所", "研究院", "研究機構", "機構", "センター", "Institute",
                                             "Laboratory")),
    (r"compan(?:y|ies)|firms?|corporations?|enterprises?", ("株式会社", "会社", "社", "企業", "Inc", "Ltd",
                                                            "Corporation")),
    (r"ministr(?:y|ies)", ("省", "Ministry")),
    (r"agenc(?:y|ies)", ("庁", "機構", "Agency")),
    (r"committees?", ("委員会",)),
    (r"councils?", ("会議", "協議会", "審議会", "Council")),
    (r"associations?", ("協会", "協議会", "連合会", "Association")),
)
#: A Japanese word for a kind of body (省庁, 企業) -> how a name of that kind ends: the documents
#: name the bodies (甲省、乙庁), not the kind. General vocabulary of Japanese organisations.
JA_ORG_KINDS: dict[str, tuple[str, ...]] = {
    "省庁": ("省", "庁"), "官庁": ("省", "庁"), "府省": ("府", "省"), "府省庁": ("府", "省", "庁"),
    "企業": ("株式会社", "会社"), "会社": ("株式会社", "会社"), "民間企業": ("株式会社", "会社"),
    "大学": ("大学",), "研究機関": ("研究所", "研究機構", "機構", "大学"), "自治体": ("県", "市", "町", "村"),
}
_EN_ORG_KIND = lazy(r"\b(?:which|what)\s+(?:[a-z\-]+\s+){0,2}?(?P<kind>"
                    + "|".join(p for p, _ in _EN_ORG_KINDS) + r")(?![\w\-])", re.I)


#: An English question for the post someone holds (which post, what position does … hold). Not
#: "title" (the title of a plan is its name) nor "role" (what role … plays asks what it does).
_EN_POST = lazy(r"\b(?:which|what)\s+(?:[a-z\-]+\s+){0,2}?(?:posts?|positions?)\b", re.I)


def asks_post(question: str) -> bool:
    """Whether an English question asks for a post (``which post does … hold``)."""
    return is_english(question) and _EN_POST.search(question) is not None


def asked_org_heads(question: str) -> tuple[str, ...]:
    """What a name of the kind of body an English question asks for holds (``which university`` ->
    大学): the answer names a university, not the professor or the field of the roster row. ()
    for a Japanese question or one that names no kind (which body, which organisation)."""
    m = _EN_ORG_KIND.search(question) if is_english(question) else None
    if not m:
        return ()
    kind = m.group("kind").lower()
    return next(heads for pat, heads in _EN_ORG_KINDS if re.fullmatch(pat, kind))


#: Two-part and comparison questions (the parts' patterns compile when a question has a cue).
#: English "both" is left out: "which project have A and B both joined" asks one thing of two subjects.
_TWO_PART_CUE = rx(r"それぞれ|両方|ともに|どちら|比べ|比較|違い|差は|\beach\b|\brespectively\b|\bcompare"
                           r"|\bwhich .{0,30}(?:more|larger|higher|greater|fewer|smaller|lower)\b", re.I)
_COMPARISON_CUE = lazy(r"どちら|比べ|比較|より(?:多|少|大|小|高|低)|差は|違い|compare|which .{0,30}(?:more|larger|higher|greater|fewer|smaller|lower)", re.I)
#: The second conjunct may hold particles of its own (新庁舎建設に向けた用地取得, 合同で開かれた行事);
#: a comma may follow the conjunction (AのXと、BのY) and precede the cue (Bは、それぞれ).
_CONJ_JA = lazy(r"(?P<a>[^、。はがをにでと\s]{1,40}?)(?:と|及び|および|並びに|、)(?P<comma>、)?"
                r"(?P<b>(?:「[^「」]{1,30}」|との|[^、。はがと\s]){1,30}?)(?=(?:の|は|が|を|で|に)?、?"
                r"(?:それぞれ|両方|ともに|どちら|を比べ|の(?:違い|差|比較)|では))")
#: Where the second conjunct's own noun ends and the words both conjuncts share begin (not the の
#: of a particle's での / との / への: ABCでのXYZ機器 is one noun phrase).
_SHARED_TAIL = lazy(r"(?<![でとへ])(?:の|から|より|における|について|に関する)|(?<![でと])への")
_EN_FUNCTION = r"(?:for|of|the|a|an|in|on|to|at|by|with|from|are|is|was|were|do|does|did|what|how|much|many|which|who|when)"
#: English conjuncts: up to three words, none of them a function word (the budgets for A and B → A, B).
_CONJ_EN = lazy(rf"\b(?P<a>(?:(?!{_EN_FUNCTION}\b)[\w\-]+ ){{0,2}}(?!{_EN_FUNCTION}\b)[\w\-]+) and "
                rf"(?:the )?(?P<b>(?:(?!{_EN_FUNCTION}\b)[\w\-]+ ){{0,2}}?(?!{_EN_FUNCTION}\b)[\w\-]+)"
                r"(?=[,?]| respectively| each|$| in\b| for\b| of\b)", re.I)

# Literals a question is pinned to: whatever answers must be about them.
_LITERAL_PATTERNS = (
    rx(r"(?:令和|平成|昭和)?\d+(?:\.\d+)?(?:年度|年|月|日|回|期|次|%|億|万)?"),
    rx(r"(?<=何)[ァ-ヴー]{2,}"),
    rx(r"[A-Za-z][A-Za-z0-9\-]+"),
)
#: Words that name the asked attribute in general terms, never the thing asked about.
_GENERIC = QUESTION_WORDS | frozenset(
    "ます です する ある いる なる れる られる 行う 何 いつ 誰 どこ 教える 下さる ください 知る おく 於く それぞれ 両方 とも 関する 対する 係る 因る よる 向ける 基づく 通じる".split())


@dataclass(frozen=True, slots=True)
class Query:
    """A question analysed once for the reader and the drafting check."""

    text: str
    normalized: str
    language: str  # "ja" or "en"
    answer_type: AnswerType
    #: For a list question, the kind of each item when the question names one (`誰と誰` → person), else "".
    item_type: AnswerType = ""
    #: Content tokens (BM25 token forms) with their IDF, in question order.
    terms: dict[str, float] = field(default_factory=dict)
    #: The attribute asked for (tokens of the noun compound before the interrogative).
    focus: tuple[str, ...] = ()
    literals: tuple[str, ...] = ()
    #: One sub-query per part of a two-part or comparison question (else empty).
    parts: tuple[Query, ...] = ()
    comparison: bool = False
    #: BM25 tokens retrieval used (for an English question: the Japanese terms it derived).
    search_terms: tuple[str, ...] = ()
    #: The unit a number question asks for: "money", "percent" or a counter ("名", "社", "回" ...).
    units: tuple[str, ...] = ()
    #: The scale a number question asks an amount in (何億円, "in millions of yen": ``百万円``), else "".
    scale: str = ""
    #: What the question asks of its value, among several a sentence gives (``ASKS``): the previous
    #: period's, a range's end or start, what a change leads to, an amount in any words.
    asks: frozenset[str] = frozenset()
    #: Words of the question the corpus never uses -> corpus terms of the same meaning, each with
    #: the share of the word's weight a match of it earns (催し -> {イベント: 0.5}; ``Pipeline.analyse``).
    synonyms: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Content terms of a Japanese question the corpus never uses (document frequency 0; set by
    #: ``Pipeline.analyse``): the asker's own words, which no line can hold as written.
    unknown: frozenset[str] = frozenset()

    @property
    def english(self) -> bool:
        return self.language == "en"

    def focus_forms(self, limit: int = 8) -> tuple[str, ...]:
        """The focus compound as written, then with its unknown words replaced by their synonyms."""
        if not self.focus:
            return ()
        forms = [""]
        for part in self.focus:
            alts = (part, *self.synonyms.get(part, {}))
            forms = [f + a for f in forms for a in alts][:limit]
        return tuple(forms)

    def with_search_terms(self, terms: Sequence[str], idf: Callable[[str], float]) -> Query:
        """An English question's content terms are the Japanese terms retrieval derived for it."""
        if not self.english:
            return replace(self, search_terms=tuple(terms))
        extra = {t: idf(t) for t in terms if t not in self.terms and t not in _GENERIC}
        return replace(self, search_terms=tuple(terms), terms={**self.terms, **extra})


#: Cues of what a question asks of its value, each matched on the normalised question.
ASKS: tuple[tuple[str, str], ...] = (
    # The previous period's figure (前年度の予算額, last year's budget).
    ("previous", r"前年度|前年|昨年度|昨年|前期|前の年度?|\b(?:previous|prior|last|preceding) (?:fiscal )?year\b|\bthe year before\b"),
    # A range's end (締切日, 期限, いつまで, deadline) or its start (いつから, 開始).
    ("end", r"締切|締め切|〆切|期限|終了|終わ|最終日|まで|deadline|\buntil\b|\bend\b|\bclos"),
    ("start", r"開始|始ま|始め|いつから|何[年月日時][^\s、。]{0,4}から|\bfrom\b|\bstart|\bbegin|\bopen"),
    # A part of a total (学生のうち国内からの参加者, of whom): the figure stated after うち.
    ("part", r"うち|\bof (?:whom|which|them)\b"),
    # The value something is changed to (いくらに引き上げ, 何%まで高める).
    ("target", r"(?:いくら|何[^\s、。か]{0,4}|どこ|どれ(?:だけ|くらい|ほど)?)(?:に|まで)|\bto (?:what|how)"),
    # The extreme of several (最も大きな割合の国, 最多の, the largest share): which one holds it.
    # Not English "most" or "least" alone: "most important", "at least" ask no extreme.
    ("most", r"最も(?:大き|多|高|重|長)|最大(?!で|限|約|\d)|最多|最高(?!裁)|一番(?:大き|多|高)|\b(?:largest|biggest|highest|greatest)\b"),
    ("least", r"最も(?:小さ|少な|低|軽|短)|最小(?!限)|最少|最低(?!限)|一番(?:小さ|少な|低)|\b(?:smallest|lowest|fewest)\b"),
    # An amount in any words (何百万円, 何分, いくら, how much): the answer type may still be
    # ``other`` when the counter is one the analyser does not know.
    ("amount", r"何(?!か(?![所月国])|[をがのでともにはや？?。、])|いくら|いくつ|どれ(?:だけ|くらい|ぐらい|ほど)|どの(?:程度|くらい|ぐらい)|\bhow (?:much|many|long)\b"),
)
#: ``ASKS`` compiled (on first use), by cue name.
ASK_PATTERNS = {name: lazy(pat, re.I) for name, pat in ASKS}


def question_asks(question: str) -> frozenset[str]:
    """The cues of ``ASKS`` a (normalised) question carries."""
    return frozenset(name for name, pat in ASK_PATTERNS.items() if pat.search(question))


def answer_type(question: str) -> AnswerType:
    """The expected answer type of a (normalised) question."""
    return typed(question)[0]


#: The kinds of thing a list may be asked of, each item one (誰と誰 → people, どこを全部 → places).
ITEM_TYPES: frozenset[str] = frozenset({"person", "organization", "place"})


#: A relative "who" (the member who chairs …, Tanaka, who met …): after a comma or a noun, not after
#: a preposition (to whom, by whom) nor at the start, it describes someone the question names.
_EN_RELATIVE = lazy(r"(?:,\s*|\b(?!(?:to|by|with|for|from|of|and|or|is|are|was|were)\b)[a-z][a-z\-']*\s+)$", re.I)


def _relative_who(question: str, m: re.Match[str]) -> bool:
    """Whether an English type match is a bare relative "who" / "whom", which asks nothing."""
    return m.group(0).lower() in ("who", "whom") and _EN_RELATIVE.search(question[: m.start()]) is not None


def typed(question: str) -> tuple[AnswerType, AnswerType]:
    """The expected answer type of a (normalised) question and, for a list, the kind of its items.

    A Japanese question is typed by its interrogative nearest the end; a list cue that reaches
    that interrogative or comes after it (`どことどこ`, `…はどこか。全部教えて`, `誰を全部挙げて`) asks
    for several of that kind: a list whose items are of the interrogative's kind (the item type,
    "" when it names none of ``ITEM_TYPES``)."""
    if is_english(question):
        # A relative "who" asks nothing when another phrase asks (…, who met X, serves in which post).
        # A post asked for (which post) is no person, whoever the relative clause names.
        found = [(m.start(), _PRIORITY[t], t) for t, pat in _EN_TYPE_RES
                 for m in [next((m for m in pat.finditer(question) if not _relative_who(question, m)), None)] if m]
        if not found and asks_post(question):
            return "other", ""
        found = found or [(m.start(), _PRIORITY[t], t) for t, pat in _EN_TYPE_RES for m in [pat.search(question)] if m]
        return (min(found)[2] if found else "other"), ""
    found2 = [(m.start(), len(m.group()), -_PRIORITY[t], t, m.end())
              for t, pat in _JA_TYPE_RES for m in pat.finditer(question)]
    if not found2:
        return "other", ""
    best = max(found2)
    kinds = [f for f in found2 if f[3] != "list"]
    if best[3] != "list":
        if not any(f[3] == "list" and f[4] > best[0] for f in found2):
            return best[3], ""
        kind = best[3]  # a list cue at or after the interrogative: several of its kind
    else:
        kind = max(kinds)[3] if kinds else ""
    return "list", kind if kind in ITEM_TYPES else ""


#: A place question whose focus names an organisation (``業界団体はどこか``) asks for an organisation.
_ORG_HEADS = ("団体", "機関", "組織", "企業", "会社", "省", "庁", "府", "大学", "研究所", "協議会", "機構", "司令塔",
              "主体", "事務局", "委員会", "ホスト", "主催")
#: The noun the place interrogative asks about names an organisation (…の主催者はどこか), even
#: when the focus taken before it is another word.
_ORG_ASKED = lazy("(?:" + "|".join((*_ORG_HEADS, "主催者")) + r")(?:は|が)(?:どこ|何処)")
_DATE_WORDS = frozenset("令和 平成 昭和 年度 年 月 日 第 回".split())


_UNIT_ASKED = rx(r"何(?:十|百)?(?:万|千)?(%|パーセント|割|回分|人分|食分|日分|名|人|社|件|回|か国|カ国|ヶ国|機|基|倍|段階|項目|チーム|団体|機関|分野|極|校"
                         r"|年間|日間|週間|か月|ヶ月|年(?=先|後|前)|か所|カ所|ヶ所|箇所|分間|分(?!の)|秒|港|施設|棟|戸|世帯|区域|地域|拠点|自治体"
                         r"|市町村|店舗|食|円|歳|(?:億|万)?(?:キロワット|メガワット|ギガワット|キロメートル|平方メートル|立方メートル|メートル|トン)"
                         r"|台|" + _LATIN_UNITS +
                         r"|(?:億|万)(?![ァ-ヺA-Za-z]))")  # 何万キロワット, 何万kW ask for an output (kW), not yen
_UNIT_WORDS: tuple[tuple[str, str], ...] = (
    # Not いくら / how much alone: they ask for an output (kW) or a volume (トン) as often as for money.
    (r"金額|予算|(?<!消)費(?!量)|受講料|参加料|利用料|使用料|入場料|登録料|手数料|総額|(?<![^\s、。のはをがにで])額|(?<=[月年日])額|手当|コスト|価格|単価|料金|値段|補助額|交付額|(?:分担|拠出|補助|交付|助成|負担|出資|寄[付附]|給付|奨励|委託|支援|基|資)金|\bbudget|(?<!many )\bfund(?:s|ing)?\b|\bcosts?\b|\byen\b|\bprice|\bfees?\b|\bsubsid|\bgrants?\b|\bsalar|\bwages?\b|\ballowances?\b|\binvestment", "money"),
    (r"割合|比率|分担率|シェア|percentage|percent|\bshare\b|\brate\b|\bratio\b|proportion", "percent"),
    # People counted, under any general word for them (how many employees, how many new researchers).
    (r"人数|how many (?:[a-z\-]+ ){0,2}?(?:people|persons|workers|staff|employees|members|participants|attendees|residents"
     r"|experts|students|lecturers|teachers|researchers|scientists|engineers|officials|officers|delegates|speakers"
     r"|visitors|users|applicants|volunteers|trainees|interns|postdocs|fellows|children|patients|doctors|nurses|nationals"
     r"|inspectors|judges|instructors|employers|citizens)\b"
     r"|participants|lecturers|students", "名"),
    (r"件数|how many cases", "件"),
)
#: What an English question counts, as the Japanese counter (how many ports -> 港): a general
#: vocabulary of counters, as ``_UNIT_ASKED`` is for Japanese, not a topic's words.
_EN_COUNTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"companies|firms|businesses", ("社",)),
    (r"countries|nations", ("か国",)),
    (r"times", ("回",)),
    (r"facilities", ("施設",)),
    (r"ports|harbou?rs", ("港",)),
    (r"sites|locations|places", ("か所",)),
    (r"buildings|houses", ("棟", "戸")),
    (r"households", ("世帯",)),
    (r"schools", ("校",)),
    (r"municipalities", ("市町村", "自治体")),
    (r"regions|areas|zones", ("地域", "区域")),
    (r"years", ("年", "年間")),
    (r"months", ("か月",)),
    (r"weeks", ("週間",)),
    (r"days", ("日", "日間")),
    (r"hours", ("時間",)),
    (r"minutes", ("分", "分間")),
    (r"seconds", ("秒",)),
)
_EN_COUNTED = lazy(r"how many\s+(?:[a-z\-]+\s+){0,3}?(?P<noun>" + "|".join(p for p, _ in _EN_COUNTERS) + r")\b", re.I)
_UNIT_CANON = {"人": "名", "カ国": "か国", "ヶ国": "か国", "ヶ月": "か月", "カ所": "か所", "ヶ所": "か所", "箇所": "か所",
               "%": "percent", "パーセント": "percent",
               "割": "percent", "円": "money", "億": "money", "万": "money",
               # Units of measure in katakana, as the span rules spell them (4メートル is 4m).
               "キロワット": "kW", "メガワット": "MW", "ギガワット": "GW", "キロメートル": "km", "平方メートル": "m2",
               "立方メートル": "m3",
               "メートル": "m", "トン": "t"}


#: The scale of an amount a question asks for: 何百万円, "in millions of yen" (a table's unit caption).
_SCALE_ASKED = lazy(r"何(?P<ja>兆|億|千万|百万|万|千)円")
_EN_SCALES: tuple[tuple[str, str], ...] = (
    (r"\b(?:hundreds? (?:of )?millions?|100 millions?)(?: of)? yen", "億円"),
    (r"\bmillions?(?: of)? yen", "百万円"),
    (r"\bthousands?(?: of)? yen", "千円"),
)


def asked_scale(question: str) -> str:
    """The scale an amount is asked in (``何百万円`` / "in millions of yen" -> ``百万円``), or ""."""
    m = _SCALE_ASKED.search(question)
    if m:
        return m.group("ja") + "円"
    return next((scale for pat, scale in _EN_SCALES if re.search(pat, question, re.I)), "")


#: A length of time asked without its counter (how long did it last, 期間はどのくらい): any duration
#: answers it, as the span rules write one (5週間, 3年間, 6か月).
DURATION_UNITS: tuple[str, ...] = ("年", "年間", "か月", "週間", "日", "日間", "時間", "分", "分間")
_DURATION_ASKED = lazy(r"\bhow long\b|期間は(?:どのくらい|どれくらい|どれぐらい|どのぐらい|どの程度)"
                       r"|(?:どのくらい|どれくらい|どれぐらい|どのぐらい|どの程度)の期間", re.I)


def duration_asked(question: str) -> bool:
    """Whether ``question`` asks a length of time without naming its counter (``how long``)."""
    return bool(_DURATION_ASKED.search(question))


#: Days counted over a period (年間何日, 月に何日), as the number type's pattern takes them.
_DAYS_COUNTED = lazy(r"(?<=年間|月間|週間|年に|月に|週に|合計|延べ)何日(?![目頃ごま間])")


def asked_units(question: str) -> tuple[str, ...]:
    """The unit(s) a number question asks for (``何名`` -> 名, ``予算額は`` -> money, ``how many ports`` -> 港)."""
    units = [_UNIT_CANON.get(m.group(1), m.group(1)) for m in _UNIT_ASKED.finditer(question)]
    m = _EN_COUNTED.search(question)
    if m:
        noun = m.group("noun").lower()
        units += next(us for pat, us in _EN_COUNTERS if re.fullmatch(pat, noun))
    if _DAYS_COUNTED.search(question):
        units.append("日間")  # 年間何日: the days of a period, as the spans count them (年間150日 -> 150日間)
    if not units and duration_asked(question):
        units += DURATION_UNITS
    if not units:
        # A counter asked outright (何か国, how many countries) is the unit; the words naming a
        # budget or the people of the sentence (予算で, students from …) only when none is.
        units += [u for pat, u in _UNIT_WORDS if re.search(pat, question, re.I)]
    return tuple(dict.fromkeys(units))


def _anchor(question: str) -> int:
    """Character offset of the interrogative (or the question's end when it has none).

    Adjacent interrogatives form one (何年何月, いつ頃): the anchor is the first of the last run.
    """
    spans = sorted({m.span() for _, pat in _JA_TYPE_RES for m in pat.finditer(question)})
    if not spans:
        return len(question)
    start, _ = spans[-1]
    for a, b in reversed(spans[:-1]):
        if b >= start - 1 and a < start:
            start = a
    return start


#: A figure that is no pin but a rate or a count of the things asked: 1年に何回 (per year), 1回当たり,
#: 2人はそれぞれ (the two people the question is about), 3つの方針 (the documents may list them uncounted).
_NOT_PINNED = rx(r"\d{1,2}(?:年|か月|ヶ月|カ月|週)に|\d+(?:年|か月|ヶ月|カ月|月|週|日|回)?(?:あたり|当たり|につき|ごと|おき)"
                         r"|\d+(?:人|名|つ|社|件|個)")


def question_literals(question: str) -> tuple[str, ...]:
    """The literals a (normalised, Japanese) question is pinned to, in order, without repeats.

    A unit in katakana after 何 is one (何ヘクタール: the documents must write it), except a unit
    the unit analysis knows (何パーセント, 何メートル): the documents write those as symbols (9%,
    12m) as often as in katakana, and the asked-unit check (``asked_units``) reads both.
    """
    found = [m.group() for pat in _LITERAL_PATTERNS for m in pat.finditer(question)
             if not (pat is _LITERAL_PATTERNS[0] and m.group()[0] not in "令平昭"
                     and _NOT_PINNED.match(question, m.start() + _digits_at(m.group())))
             and not (pat is _LITERAL_PATTERNS[1] and m.group() in _UNIT_CANON)]
    return tuple(dict.fromkeys(found))


def _digits_at(literal: str) -> int:
    """Offset of the first digit in a literal (令和9年度 -> 2)."""
    return next((i for i, c in enumerate(literal) if c.isdigit()), 0)


_EN_MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_EN_DATE = lazy(r"\b(?:(?P<fy>FY|fiscal (?:year )?)\s?(?P<fyy>(?:19|20)\d{2})"
                      r"|(?P<mon>" + "|".join(_EN_MONTHS) + r")\s+(?P<my>(?:19|20)\d{2})"
                      r"|(?P<y>(?:19|20)\d{2}))\b", re.I)


#: An ordinal in digits (the 17th meeting, the 3rd round): the documents number it 第17回, 第3次.
_EN_ORDINAL = lazy(r"\b(?P<n>\d{1,3})(?:st|nd|rd|th)\b", re.I)


def english_literals(question: str) -> tuple[str, ...]:
    """The dates an English question is pinned to, as typed spans' canonical values
    (``FY2027``, ``2025-10``, ``2030``): the documents write them in Japanese (令和9年度); and its
    ordinals in digits as the documents number things (the 29th meeting -> ``第29``)."""
    out = [f"第{m.group('n')}" for m in _EN_ORDINAL.finditer(question)]
    for m in _EN_DATE.finditer(question):
        if m.group("fyy"):
            out.append(f"FY{m.group('fyy')}")
        elif m.group("mon"):
            out.append(f"{m.group('my')}-{_EN_MONTHS[m.group('mon').lower()]:02d}")
        else:
            out.append(m.group("y"))
    return tuple(dict.fromkeys(out))


#: A short bracketed note closing the words before the interrogative, with the particle after it
#: (not an abbreviation: 甲スクール(ABC)の主催者 names the school).
_NOTE_BEFORE = rx(r"\s*[(（][^()（）A-Za-z0-9]{1,8}[)）](?=\s*(?:は|が|を|の|で|に|へ|と)?\s*、?\s*$)")


#: The things a list question counts (3つの方針): the type's cue and the noun after it.
_COUNTED_THINGS = rx(r"(?:[2-9]|[二三四五六七八九])つの[一-鿿ァ-ヺー]{1,8}")


#: An interrogative determiner and the noun after it (どの部署に所属, どんな団体と協調): the noun names
#: the kind of the answer when no typed interrogative (どの国, いつ) says it.
_WHICH_KIND = rx(r"(?:どの|どんな|どのような|どういう|どういった|いずれの|何という)(?:ような)?"
                         # Not a degree (どの程度, どの位): how much, no kind.
                         r"(?!程度|位|辺)(?P<kind>[一-鿿ァ-ヺー々〆]{1,12})")


def _focus(question: str, tokenize: Tokenize, pos_tags: bool) -> tuple[str, ...]:
    """The noun compound nearest before the interrogative (``出資比率`` in ``…出資比率は何%``);
    in a question with no typed interrogative, the noun after ``どの``/``どんな`` when it has one."""
    anchor = _anchor(question)
    if anchor == len(question) and (which := _WHICH_KIND.search(question)):
        # …のどの部署に所属している: the compound the determiner asks about, not the verb at the end.
        kind = _focus(which.group("kind") + "は", tokenize, pos_tags)
        if kind:
            return kind
    counted = _COUNTED_THINGS.match(question, anchor)
    # A number of things asked (3つの方針は何か): the things counted are the attribute.
    # A bracketed note right before the interrogative (予算額(案)は何円) qualifies the noun before it.
    head = question[: counted.end()] if counted else _NOTE_BEFORE.sub("", question[:anchor])
    if not pos_tags:
        toks = [t for t in tokenize(head) if t not in _GENERIC]
        return tuple(toks[-2:])
    from assistant.bm25 import _tagger

    words = list(_tagger()(head))
    compound: list[str] = []
    content = False
    for w in reversed(words):
        f = w.feature
        base = (getattr(f, "orthBase", None) or w.surface)
        base = (w.surface if base == "*" else base).lower()
        is_noun = f.pos1 in ("名詞", "接頭辞", "接尾辞") and f.pos2 != "代名詞"
        if is_noun and base not in _GENERIC:
            compound.append(base)
            content = content or not _adverbial(f, base)
            continue
        if is_noun and not compound:
            continue  # a question word right before the anchor (何 / こと)
        if compound and not content and (w.surface in _PAST_ADVERBIAL
                                         or (w.surface in ("の", "(", "（")
                                             and all(c in _STATUS_NOUNS for c in compound))):
            # A compound of adverbial nouns, dates and counters says how or when it is asked, not
            # what (経費は年間いくら, 国は全部でいくつ): the attribute is the noun before it.
            compound = []
            continue
        if compound:
            break
    # Else no focus (最後の1台が…): better than one that no passage can name.
    return tuple(reversed(compound)) if content else ()


#: What may stand between an attribute and the adverbial compound after it (経費は年間, 国は全部で).
_PAST_ADVERBIAL = frozenset(("は", "が", "で", "も", "、", ","))
#: Nouns that say which state of a figure is asked (来年度の案, 昨年の実績), not what it measures: the
#: attribute is the noun before them, across の too.
_STATUS_NOUNS = frozenset(("案", "見込み", "見込", "実績", "概算", "速報値", "確定値", "見通し"))
#: Nouns that total what they follow (全体で, 合計で) and name no attribute of their own.
_TOTALS = frozenset(("全体", "合計", "総計", "計", "全部", "全て", "すべて", "一通り"))


def _adverbial(feature, base: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether a word of a noun compound is no attribute: an adverbial noun (全部, 現在), a prefix
    (来), a numeral, a counter, a date word or a total (全体)."""
    return (getattr(feature, "pos3", "") in ("副詞可能", "助数詞可能") or feature.pos1 == "接頭辞"
            or feature.pos2 == "数詞" or base in _DATE_WORDS or base in _TOTALS or base in _STATUS_NOUNS)


def _parts(question: str) -> tuple[str, ...]:
    """The two part-questions of ``AとBはそれぞれ…`` / ``A and B respectively``, else ()."""
    if not _TWO_PART_CUE.search(question):
        return ()
    pat = _CONJ_EN if is_english(question) else _CONJ_JA
    m = pat.search(question)
    if not m:
        return ()
    a, b = m.group("a").strip(), m.group("b").strip()
    if not a or not b or a == b:
        return ()
    lead, tail = question[: m.start()], question[m.end():]
    shared = ""
    if pat is _CONJ_JA and not m.group("comma") and not b.endswith("」"):
        # The words after the second conjunct belong to both (北市と南町から参加しているのは →
        # 北市から…, 南町から…): the second conjunct is the noun before its first particle. Not after
        # "と、": the comma sets apart two whole phrases (甲の予算額と、乙の職員数).
        cut = _SHARED_TAIL.search(b)
        if cut and cut.start() > 0:
            b, shared = b[: cut.start()], b[cut.start():]
    tail = re.sub(r"^(?:の|は|が|を|で|に)?、?(?:それぞれ|両方|ともに)", "は", tail)
    tail = re.sub(r"^,? (?:respectively|each)\b", "", tail, flags=re.I)
    return (f"{lead}{a}{shared}{tail}", f"{lead}{b}{shared}{tail}")


def analyse(
    question: str,
    tokenize: Tokenize,
    idf: Callable[[str], float],
    pos_tags: bool = True,
    _depth: int = 0,
) -> Query:
    """Analyse a question (already checked by ``validate.clean_query``).

    ``tokenize`` is the index's BM25 tokenizer and ``idf`` its IDF; ``pos_tags``
    says whether MeCab part-of-speech tags are available (the mecab tokenizer).
    """
    norm = normalize_query(question)
    english = is_english(norm)
    atype, item_type = typed(norm)
    tokens = [t for t in tokenize(norm) if t not in _GENERIC and t.strip()]
    terms = {t: idf(t) for t in dict.fromkeys(tokens)}
    focus = () if english else _focus(norm, tokenize, pos_tags)
    content_focus = tuple(t for t in focus if not t.isdigit() and t not in _DATE_WORDS)
    focus = content_focus or focus
    if atype == "place" and ((focus and "".join(focus).endswith(_ORG_HEADS)) or _ORG_ASKED.search(norm)):
        atype = "organization"
    if item_type == "place" and ((focus and "".join(focus).endswith(_ORG_HEADS)) or _ORG_ASKED.search(norm)):
        item_type = "organization"
    literals = english_literals(norm) if english else question_literals(norm)
    parts: tuple[Query, ...] = ()
    if _depth == 0:
        texts = _parts(norm)
        parts = tuple(analyse(t, tokenize, idf, pos_tags, _depth + 1) for t in texts)
    return Query(
        text=question,
        normalized=norm,
        language="en" if english else "ja",
        answer_type=atype,
        item_type=item_type,
        terms=terms,
        focus=focus,
        literals=literals,
        parts=parts,
        comparison=bool(parts) and bool(_COMPARISON_CUE.search(norm)),
        units=asked_units(norm) if atype == "number" else (),
        scale=asked_scale(norm) if atype == "number" else "",
        asks=question_asks(norm),
    )
