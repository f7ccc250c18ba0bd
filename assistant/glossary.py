"""English -> Japanese glossary for cross-lingual lexical search.

Staff ask some questions in English about Japanese documents. The multilingual
embedder bridges the languages only roughly, and BM25 over Japanese tokens finds
nothing in an English sentence but Latin names (ITER, QST). This glossary of
policy and fusion-energy vocabulary turns an English question into Japanese
search terms for BM25, so the lexical half of hybrid retrieval works for English
too. It is domain vocabulary, not a translation model, and only an optional boost
(``Settings.glossary``): the general term table of ``crosslingual`` derives Japanese
terms for any topic from the corpus itself.
"""

from __future__ import annotations

import re

from assistant.lazyre import lazy, rx

#: Countries and regions in Japanese (general knowledge, not a topic list; the drafting check
#: reads a place at this level as containing its cities and prefectures).
COUNTRIES = frozenset(
    "日本 我が国 米国 アメリカ 英国 イギリス 欧州 ヨーロッパ EU 中国 韓国 インド ロシア フランス ドイツ イタリア カナダ "
    "オーストラリア スペイン オランダ スイス スウェーデン ブラジル メキシコ 台湾 シンガポール 日米 日欧".split()
)
#: The words by which Japanese official texts name Japan as "our country" (general usage).
OWN_COUNTRY = ("我が国", "わが国", "我国", "本邦")
OWN_COUNTRY_NAME = "日本"

#: One-character names of countries and regions, as lists write them (日、米、英 / 日米英): general usage.
COUNTRY_ABBREVIATIONS = {"日": "日本", "米": "米国", "欧": "欧州", "露": "ロシア", "中": "中国", "韓": "韓国", "印": "インド",
                         "英": "英国", "独": "ドイツ", "仏": "フランス", "伊": "イタリア", "加": "カナダ", "豪": "オーストラリア"}

#: English phrase (lower case) -> Japanese terms as they appear in Japanese policy documents.
GLOSSARY: dict[str, str] = {
    # policy and government
    "national strategy": "国家戦略", "strategy": "戦略", "innovation": "イノベーション", "vision": "ビジョン",
    "policy": "方針 政策", "cabinet office": "内閣府", "prime minister": "内閣総理大臣 総理", "minister": "大臣",
    "mext": "文部科学省", "ministry of education": "文部科学省", "ministry": "省", "government": "政府",
    "council": "協議会 会議", "committee": "委員会", "task force": "タスクフォース", "working group": "作業部会",
    "headquarters": "ヘッドクォーター", "chair": "会長 主査", "chairperson": "会長 主査", "deputy chair": "主査代理 副会長",
    "vice chair": "副会長", "vice-chair": "副会長", "member": "構成員 会員", "members": "構成員 会員",
    "observer": "オブザーバー", "expert": "有識者 専門家", "experts": "有識者 専門家",
    "joint statement": "共同声明", "statement": "声明", "press statement": "プレス声明", "partnership": "パートナーシップ",
    "summit": "首脳", "leaders": "首脳", "commitment": "コミットメント", "commitments": "コミットメント",
    "outcome document": "成果文書", "meeting": "会合 会議", "decision": "決定", "decided": "決定",
    "revised": "改訂", "revision": "改訂", "baseline": "ベースライン", "agreement": "協定",
    # names of things
    "nickname": "通称 愛称", "abbreviation": "略称", "acronym": "略称", "abbreviated": "略称",
    "official name": "正式名称 名称", "english name": "英名",
    # money
    "budget": "予算 予算額", "draft budget": "予算額(案)", "supplementary budget": "補正予算",
    "fiscal year": "年度", "fy": "年度", "cost": "費用 経費", "costs": "費用 経費", "share": "分担",
    "contribution": "分担金", "subsidy": "補助金", "grant": "補助金 交付金", "fund": "基金", "funding": "予算 経費",
    "investment": "投資", "million yen": "百万円", "billion yen": "億円", "yen": "円", "allocate": "計上",
    "allocated": "計上", "percent": "%", "percentage": "%",
    # fusion science and technology
    "fusion energy": "フュージョンエネルギー", "fusion": "フュージョン 核融合", "nuclear fusion": "核融合",
    "fission": "核分裂", "reactor": "炉", "prototype reactor": "原型炉", "demo reactor": "原型炉", "demo": "原型炉",
    "experimental reactor": "実験炉", "commercial reactor": "商用炉", "plasma": "プラズマ", "first plasma": "初プラズマ",
    "tokamak": "トカマク", "superconducting": "超伝導", "coil": "コイル", "coils": "コイル",
    "toroidal field": "トロイダル磁場", "blanket": "ブランケット", "divertor": "ダイバータ", "tritium": "トリチウム",
    "deuterium": "重水素", "fuel": "燃料", "heating": "加熱", "materials": "材料", "material": "材料",
    "irradiation": "照射", "laser": "レーザー", "measurement": "計測", "simulation": "シミュレーション",
    "safety": "安全 安全性", "regulation": "規制", "regulations": "規制", "standardization": "標準化",
    "design": "設計", "conceptual design": "概念設計", "construction": "建設", "built": "建設", "build": "建設",
    "operation": "運転", "operations": "運転", "operating": "運転",
    "start": "開始", "begin": "開始", "assembly": "組立",
    "broader approach": "幅広いアプローチ BA",
    "technology": "技術", "technologies": "技術", "research and development": "研究開発", "r&d": "研究開発",
    "research": "研究", "development": "開発", "facility": "施設", "facilities": "施設", "site": "サイト",
    "device": "装置", "equipment": "機器", "procurement": "調達", "manufacturing": "製造", "action plan": "アクションプラン",
    "roadmap": "ロードマップ", "stage gate": "ステージゲート", "check and review": "Check&Review",
    "carbon neutrality": "カーボンニュートラル", "carbon neutral": "カーボンニュートラル",
    "energy security": "エネルギー安全保障", "supply chain": "サプライチェーン", "moonshot": "ムーンショット",
    "industrialization": "産業化", "commercialization": "商業化", "demonstration": "実証",
    # industry and people
    "industry": "産業 産業界", "industrial": "産業", "industry council": "産業協議会", "company": "企業 株式会社",
    "companies": "企業 社", "firms": "企業", "startup": "スタートアップ", "startups": "スタートアップ",
    "private sector": "民間企業", "private": "民間", "academia": "アカデミア", "university": "大学",
    "universities": "大学", "human resources": "人材", "talent": "人材", "personnel": "人材 職員",
    "workforce": "人材 労働力", "training": "育成 訓練", "train": "育成", "education": "教育",
    "educational program": "教育プログラム", "program": "プログラム", "programme": "プログラム",
    "school": "スクール", "students": "学生", "student": "学生", "young researchers": "若手研究者",
    "researchers": "研究者", "lecturers": "講師", "lecturer": "講師", "participants": "参加者",
    "postdoc": "ポスドク", "postdoctoral": "ポスドク", "internship": "インターンシップ", "staff": "職員",
    "dispatch": "派遣", "career": "キャリアパス", "outreach": "アウトリーチ", "public": "国民 社会",
    "public understanding": "国民 理解", "public comment": "パブリックコメント", "dialogue": "対話",
    "governance": "ガバナンス", "program director": "プログラムディレクター", "program officer": "プログラムオフィサー",
    "call for proposals": "公募", "open call": "公募", "contractor": "委託者", "bidding": "入札",
    "items": "項目", "item": "項目", "priority": "優先", "founded": "設立", "established": "設立 設置",
    "establishment": "設立", "founding": "設立", "general meeting": "総会", "event": "イベント",
    "website": "ホームページ", "purpose": "目的", "aim": "目的", "objective": "目的", "why": "ため 目的",
    "cooperation": "協力 連携", "collaboration": "連携 協力", "international": "国際", "joint": "共同",
    # posts and roles (general titles of Japanese organisations, most usual first)
    "deputy": "副 代理", "vice": "副", "deputy director": "次長 副所長 部長代理", "professor": "教授",
    "associate professor": "准教授", "assistant professor": "助教", "emeritus": "名誉教授",
    "president": "会長 理事長 学長 社長", "director": "所長 部長 局長 センター長 理事",
    "director general": "局長 事務局長", "executive director": "理事", "secretary general": "事務局長",
    "secretariat": "事務局", "head": "長", "manager": "課長 部長", "post": "役職 職", "position": "役職 職",
    "title": "肩書 役職 名称", "role": "役割", "representative": "代表", "advisor": "顧問", "adviser": "顧問",
    # kinds of organisation
    "institute": "研究所 機構", "research institute": "研究所", "institution": "機関", "center": "センター",
    "centre": "センター", "agency": "庁 機構", "bureau": "局", "department": "部 局", "division": "部門 部 課",
    "section": "課", "office": "室 事務所", "association": "協会 団体", "society": "学会 協会",
    "foundation": "財団", "corporation": "法人 株式会社", "organization": "機関 組織 団体",
    "organisation": "機関 組織 団体", "graduate school": "大学院", "board": "理事会",
    "prefecture": "県", "city": "市", "municipality": "市町村 自治体", "municipalities": "市町村 自治体",
    # more money and dates
    "budget request": "概算要求 要求", "expenditure": "支出 経費", "expenses": "経費 費用", "revenue": "収入",
    "allocation": "配分", "subsidies": "補助金", "grants": "補助金 交付金", "loan": "融資", "total": "合計 総額",
    "amount": "額", "previous year": "前年度 前年", "last year": "前年度 昨年度", "deadline": "締切 期限",
    "period": "期間", "term": "任期 期間", "date": "日付", "participate": "参加", "participation": "参加",
    "take part": "参加",
    # places and parties
    "japan": "日本 我が国", "japanese": "日本", "europe": "欧州", "european": "欧州", "eu": "欧州",
    "united states": "米国", "us": "米国", "u.s.": "米国", "america": "米国", "american": "米国",
    "uk": "英国", "britain": "英国", "china": "中国", "korea": "韓国", "india": "インド", "russia": "ロシア",
    "france": "フランス", "italy": "イタリア", "germany": "ドイツ", "aomori": "青森県", "rokkasho": "六ヶ所村",
    "naka": "那珂", "ibaraki": "茨城県", "kyoto": "京都", "kyushu": "九州", "osaka": "大阪",
    "doe": "DOE エネルギー省", "department of energy": "エネルギー省",
}

_ENGLISH = rx(r"[A-Za-z]")


#: Hiragana: the particles and endings of Japanese grammar. A question that holds any is Japanese
#: however many of its letters a Latin name takes (an English school's name with の受講料を教えて).
_HIRAGANA = rx(r"[\u3041-\u3096]")


def is_english(text: str) -> bool:
    """True when the text is written mostly in Latin letters and holds no hiragana."""
    if _HIRAGANA.search(text):
        return False
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    return sum(1 for c in letters if _ENGLISH.match(c)) / len(letters) > 0.6


_LATIN_TERM = lazy(r"[A-Za-z][A-Za-z0-9&\-\.]*[A-Za-z0-9]|\d[\d,\.]*")
_KEYS = sorted(GLOSSARY, key=len, reverse=True)
# Compiled on first use: only an English question with the glossary on needs it (~10 ms of a cold ask).
# A phrase of four letters or more also stands for its plural (vice-chairs, task forces); a shorter
# key does not (us is no plural of u, uses no plural of us).
_PATTERN = lazy(r"(?<![a-z])(" + "|".join(re.escape(k) for k in _KEYS) + r")(?:(?<=[a-z]{4})(?:s|es))?(?![a-z])")


def glossary_phrases(question: str) -> list[str]:
    """The glossary's Japanese entries for an English question's phrases (longest first), in
    question order: each entry's alternatives, most usual first, separated by spaces."""
    return [GLOSSARY[m.group(1)] for m in _PATTERN.finditer(question.lower())]


def to_japanese_terms(question: str) -> str:
    """Japanese search terms for an English question, plus its Latin names and numbers.

    Longest glossary phrases win (``prototype reactor`` before ``reactor``).
    """
    lowered = question.lower()
    terms = [GLOSSARY[m.group(1)] for m in _PATTERN.finditer(lowered)]
    covered = _PATTERN.sub(" ", lowered)
    # Acronyms and names stay as they are (ITER, QST, JT-60SA, 2024).
    names = [t for t in _LATIN_TERM.findall(question) if t.isupper() or any(c.isdigit() for c in t)
             if t.lower() in covered or t.isupper()]
    return " ".join([*terms, *names])
