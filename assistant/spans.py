"""Typed spans: the values a sentence states (amounts, percentages, dates, counts, names).

The reader answers value questions with one of these spans (the ``direct``
answer) and the drafting check compares a claim's spans with its source's. The
rules here work on normalised text (NFKC: half-width digits, ``%``, ``:``) and are
pure; proper names come from the morphological analyser (MeCab proper-noun tags,
available wherever the index is) plus suffix rules for organisations and places,
and, optionally at index time, from a statistical NER (``ner.py``).

Every span carries a canonical ``value`` so two spellings of the same thing
compare equal: ``令和5年10月`` and ``2023年10月`` are both ``2023-10``;
``12,500百万円`` and ``125億円`` are both ``12500000000円``; ``約``/``以上``/``以内``
are kept as a qualifier, not dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.lazyre import lazy

#: Bump when the spans found change: indexes store them, so an older index is then stale.
SPANS_VERSION = 24

SpanKind = Literal["money", "percent", "count", "number", "date", "person", "org", "place", "facility"]
SPAN_KINDS: tuple[str, ...] = ("money", "percent", "count", "number", "date", "person", "org", "place", "facility")

#: Which span kinds answer which expected answer type.
TYPE_KINDS: dict[str, frozenset[str]] = {
    "number": frozenset({"money", "percent", "count", "number"}),
    "date": frozenset({"date"}),
    "person": frozenset({"person"}),
    "organization": frozenset({"org"}),
    # A venue is often a building or an institution (市民会館, 北方大学), not a place name.
    "place": frozenset({"place", "facility", "org"}),
}


@dataclass(frozen=True, slots=True)
class TypedSpan:
    """A value found in a (normalised) text: ``text[start:end]``, its kind and canonical value."""

    kind: str
    start: int
    end: int
    text: str
    value: str
    #: 約 / 以上 / 以下 / 以内 / 未満 / 程度 / 超 / 最大 / 計 ... ("" when exact).
    qualifier: str = ""

    def shifted(self, by: int) -> TypedSpan:
        return TypedSpan(self.kind, self.start + by, self.end + by, self.text, self.value, self.qualifier)


# ----------------------------------------------------------------- numerals

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_MONEY_UNITS = {"兆円": 1e12, "億円": 1e8, "千万円": 1e7, "百万円": 1e6, "万円": 1e4, "千円": 1e3, "円": 1.0,
                "兆ドル": 1e12, "億ドル": 1e8, "万ドル": 1e4, "ドル": 1.0, "億ユーロ": 1e8, "万ユーロ": 1e4,
                "ユーロ": 1.0}
_PREFIX_QUAL = r"(?P<pre>約|およそ|概ね|最大|最低|少なくとも|計|合計|総額|総勢|全|延べ)?"
_SUFFIX_QUAL = r"(?P<post>以上|以下|以内|未満|程度|超|余り|強|弱|前後|ほど)?"
#: Counters of places, buildings and households, and of minutes (分 but not 分の: a fraction),
#: counted only after digits: 十分 is "enough", 一戸建て a house, 一個人 a person.
_DIGITS_ONLY = ("分間", "分", "秒", "港", "施設", "棟", "戸", "世帯", "区域", "地域", "拠点", "自治体", "市町村",
                "店舗", "隻", "個", "枚", "冊", "駅", "病院", "食", "日分")
#: Counters: what is being counted. Longest first so 百万円 wins over 円 etc.
_COUNTERS = ("年",  # a duration (任期5年): four-digit years are dates, matched first
             "か国", "カ国", "ヶ国", "ケ国", "か所", "カ所", "ヶ所", "箇所", "名", "人", "社", "件", "回", "機",
             "基", "台", "校", "団体", "機関", "大学", "極", "倍", "本", "項目", "種類", "チーム", "日間", "週間",
             "か月", "カ月", "ヶ月", "年間", "時間", "分野", "事業", "者", "号機", "段階", "t", "MW", "GW",
             "kW", "km", "m", "m2", "m3", "MA", "keV", "度", "メートル", "キロメートル", "平方メートル", "立方メートル", "トン", "歳",
             "キロワット", "メガワット", "ギガワット",
             *_DIGITS_ONLY)
_COUNTERS_LONGEST = sorted(_COUNTERS, key=len, reverse=True)
#: A count's multiplier (3万人, 1億度): the value is the number it makes.
_COUNT_MULT = {"万": 1e4, "千": 1e3, "億": 1e8, None: 1.0}


def parse_number(text: str) -> float | None:
    """``"10,702"`` -> 10702.0, ``"45.5"`` -> 45.5; kanji numerals up to 99 (``二十一``)."""
    t = text.replace(",", "").strip()
    try:
        return float(t)
    except ValueError:
        pass
    if t and all(c in _KANJI_DIGITS or c == "十" for c in t):
        if "十" in t:
            a, _, b = t.partition("十")
            tens = _KANJI_DIGITS.get(a, 1) if a else 1
            ones = _KANJI_DIGITS.get(b, 0) if b else 0
            return float(tens * 10 + ones)
        return float("".join(str(_KANJI_DIGITS[c]) for c in t))
    return None


def _fmt(x: float) -> str:
    """Canonical number text: no trailing ``.0``, no exponent."""
    if abs(x - round(x)) < 1e-9:
        return str(int(round(x)))
    return f"{x:.6f}".rstrip("0").rstrip(".")


# -------------------------------------------------------------------- dates

_ERA_BASE = {"令和": 2018, "平成": 1988, "昭和": 1925, "R": 2018, "H": 1988}
_DATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    # 令和8年10月21日, 令和9年度, 平成30年3月28日, 令和元年
    lazy(
        r"(?P<era>令和|平成|昭和)\s*(?P<y>\d{1,2}|元)\s*年(?P<fy>度)?"
        r"(?:\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*日)?)?"
    ),
    # R7年度, R7.4.14, H30
    lazy(r"(?<![A-Za-z])(?P<era>[RH])(?P<y>\d{1,2})(?:\s*年(?P<fy>度)?|\.(?P<m>\d{1,2})(?:\.(?P<d>\d{1,2}))?)"),
    # 2026年10月21日, 2027年度, 2041年12月; 2030年代 (a decade, not the year 2030), 2030年代前半 (its first half)
    lazy(
        r"(?<!\d)(?P<y4>(?:19|20)\d{2})\s*年(?:(?P<dec>代)(?P<part>前半|後半|半ば|初頭|初め|末)?|(?P<fy>度)?(?:\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*日)?)?)"
    ),
    # 2023.4, 2023/4/1, 2023-04-01
    lazy(r"(?<![\d.])(?P<y4>(?:19|20)\d{2})[./\-](?P<m>\d{1,2})(?:[./\-](?P<d>\d{1,2}))?(?![\d.])"),
    # 3月22日, 10月, 毎年6月 (no year; but not the month of a year a pattern above missed, 5年10月)
    lazy(r"(?<![\d.])(?<!\d年)(?<!\d\s年)(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*日)?"),
    # 2/1, 4/1(月), 2/1~2/29 (a month and day without a year, as slides write them); not a fraction
    # (全体の1/5~1/4程度): not after の, nor before a qualifier of an amount, ``_slash_date`` checks.
    lazy(r"(?<![\d/.,の])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/.,%])(?P<slash>)"),
)
#: After a month/day or its range: the slash pair is a share of something (1/5~1/4程度), not a date.
_FRACTION_BEFORE = lazy(r"(?:率|割合|比|シェア|分担)\s*(?:は|が|を|で|[:：])?\s*(?:約|最大|概ね)?\s*$")
_FRACTION_AFTER = lazy(r"(?:\s*[~～〜\-]\s*\d{1,2}/\d{1,2})?\s*(?:程度|以上|以下|未満|超|強|弱|ほど|前後|の)")


def _slash_share(text: str, a: int, b: int) -> bool:
    """Whether the slash pair ``text[a:b]`` is a share (全体の1/5~1/4程度, 補助率は1/2), not a month and day."""
    return bool(_FRACTION_AFTER.match(text, b) or _FRACTION_BEFORE.search(text, 0, a))


def _date_value(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    year: int | None = None
    if g.get("era"):
        y = g["y"]
        year = _ERA_BASE[g["era"]] + (1 if y == "元" else int(y))
    elif g.get("y4"):
        year = int(g["y4"])
    month = int(g["m"]) if g.get("m") else None
    day = int(g["d"]) if g.get("d") else None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and not 1 <= day <= 31:
        return None
    if year is None and month is None:
        return None
    if g.get("dec"):
        if year is None or year % 10:
            return None
        return f"{year}s" + (f"-{_DECADE_PART[g['part']]}" if g.get("part") else "")
    parts = [f"FY{year}" if g.get("fy") and year else (str(year) if year else "")]
    if month is not None:
        parts.append(f"{month:02d}")
        if day is not None:
            parts.append(f"{day:02d}")
    return "-".join(parts) if parts[0] else "--" + "-".join(parts[1:])


#: Parts of a decade (2030年代前半 = 2030s-early): a claim of the late 2030s is not the early 2030s.
_DECADE_PART = {"前半": "early", "初頭": "early", "初め": "early", "半ば": "mid", "後半": "late", "末": "late"}


def decade(value: str) -> tuple[int, str] | None:
    """A decade's date value read back: ``2030s`` -> (2030, ""), ``2030s-early`` -> (2030, "early");
    None for any other date value."""
    head, _, part = value.partition("-")
    if not head.endswith("s") or not head[:-1].isdigit() or (part and part not in _DECADE_PART.values()):
        return None
    return int(head[:-1]), part


def date_spans(text: str) -> list[TypedSpan]:
    """Dates: era and Western years (fiscal years marked ``FY``), months, days."""
    out: list[TypedSpan] = []
    taken: list[tuple[int, int]] = []
    for pat in _DATE_PATTERNS:
        for m in pat.finditer(text):
            a, b = m.span()
            if any(a < y and x < b for x, y in taken):
                continue
            value = _date_value(m)
            if value is None or (m.groupdict().get("slash") is not None and _slash_share(text, a, b)):
                continue
            taken.append((a, b))
            out.append(TypedSpan("date", a, b, text[a:b], value))
    return sorted(out, key=lambda s: s.start)


#: A time named relative to the time of writing (来年度末, 本年度内, 年内, 来春): no date, but the answer to
#: "when" of a line that states no other (…来年度末に公表予定).
_RELATIVE_TIME = lazy(r"(?<![前翌\d])(?:(?:今|本|来|再来)年度(?:中|内|末|以降)?|(?:今|本|来)年(?:中|内|末)|年度(?:内|末)"
                      r"|年内|(?:今|来)(?:春|夏|秋|冬)(?!季))")


def relative_time_spans(text: str) -> list[TypedSpan]:
    """The times ``text`` names relative to its time of writing, as ``date`` spans of value ``relative``
    (the reader's, for a when-question whose line states no date; not stored in the index)."""
    return [TypedSpan("date", m.start(), m.end(), m.group(), "relative") for m in _RELATIVE_TIME.finditer(text)]


#: Between the two ends of a range (9月4日~15日, 6月27日から7月2日, 3か月~2年).
_RANGE_MARK = lazy(r"\s*(?:[~～〜\-－]|から)\s*")


def range_joined(text: str, a: TypedSpan, b: TypedSpan) -> bool:
    """Whether ``a`` and ``b`` are the start and end of one range in ``text`` (a ~ b, a から b)."""
    return a.end <= b.start and bool(_RANGE_MARK.fullmatch(text, a.end, b.start))

#: A range's end that gives only the day (~15日); not a duration (10日間) nor a time limit (3日以内).
_DAY_END = lazy(r"(?P<d>\d{1,2})\s*日(?!間|分|以内|程度|ほど|前後|後|前)")


def range_end_spans(text: str, spans: Sequence[TypedSpan]) -> list[TypedSpan]:
    """``spans`` (of ``text``) with the end of each date range stated with the year and month of its
    start: a range end writes only what changes (2023年9月4日~15日, 2026年6月27日から7月2日), so ``15日``
    is 2023-09-15 and ``5月1日`` 2024-05-01. Without this a range's end is no date (15日) or a date of no
    year (5月1日): a claim moving the end of a range (4日から22日まで) could not be told from the source's.

    Not part of ``extract_spans``: a reader taking ``15日`` for a date would answer a range's end alone."""
    out = list(spans)
    by_start = {s.start: i for i, s in enumerate(out) if s.kind == "date"}
    added = []
    for s in spans:
        year, parts, fy = s.value.split("-")[0], [p for p in s.value.split("-")[1:] if p], s.value.startswith("FY")
        m = _RANGE_MARK.match(text, s.end)
        if m is None or fy or not parts or s.value.endswith("s"):
            continue
        at = m.end()
        j = by_start.get(at)
        if j is not None:
            end = out[j]
            if year and end.value.startswith("--"):
                out[j] = TypedSpan("date", end.start, end.end, end.text, year + end.value[1:], end.qualifier)
            continue
        d = _DAY_END.match(text, at)
        if (d is not None and len(parts) == 2 and 1 <= int(d.group("d")) <= 31
                and not any(o.start < d.end() and at < o.end for o in spans)):
            value = f"{year or '-'}-{parts[0]}-{int(d.group('d')):02d}"
            added.append(TypedSpan("date", at, d.end(), text[at : d.end()], value))
    return sorted(out + added, key=lambda s: s.start)


#: Years named relative to the document's own (昨年10月: the October before the document was issued).
RELATIVE_YEARS = {"一昨年": -2, "昨年": -1, "今年": 0, "本年": 0, "来年": 1}
_RELATIVE_YEAR = lazy(r"(?:" + "|".join(sorted(RELATIVE_YEARS, key=len, reverse=True)) + r")\s*(?:の)?\s*$")


def relative_year_spans(text: str, spans: Sequence[TypedSpan], doc_date: str) -> list[TypedSpan]:
    """``spans`` with each date of no year written after a relative year (昨年11月14日, 本年3月) dated from the
    document's date (``2024-02``: 昨年11月14日 is 2023-11-14). Unchanged without a document year.

    Not part of ``extract_spans``: the index's spans do not depend on the manifest's dates."""
    m = re.match(r"(\d{4})", doc_date or "")
    if m is None:
        return list(spans)
    year = int(m.group(1))
    out = []
    for s in spans:
        rel = _RELATIVE_YEAR.search(text, 0, s.start) if s.kind == "date" and s.value.startswith("--") else None
        if rel is not None:
            key = text[rel.start() : rel.end()].strip().rstrip("の").strip()
            s = TypedSpan("date", s.start, s.end, s.text, f"{year + RELATIVE_YEARS[key]}{s.value[1:]}", s.qualifier)
        out.append(s)
    return out


# ------------------------------------------------------------------ amounts

_MONEY = lazy(
    _PREFIX_QUAL + r"(?P<n>" + _NUM + r")\s*(?P<u>" + "|".join(sorted(_MONEY_UNITS, key=len, reverse=True)) + r")"
    + r"(?:の内数)?" + _SUFFIX_QUAL
)
_PERCENT = lazy(_PREFIX_QUAL + r"(?P<n>" + _NUM + r")\s*(?P<u>%|パーセント|割)" + _SUFFIX_QUAL)
#: A share written as a fraction: 3分の1 (denominator first), and 1/4 where the words around it make
#: it a share (全体の1/4程度, 割合は1/3), as ``date_spans`` decides for the same slash pair.
_FRACTION_KANJI = lazy(_PREFIX_QUAL + r"(?P<d>\d{1,3}|[一二三四五六七八九十]{1,3})\s*分の\s*(?P<n>\d{1,3}|[一二三四五六七八九十]{1,3})"
                       + _SUFFIX_QUAL)
_FRACTION_SLASH = lazy(r"(?<![\d/.,])(?P<n>\d{1,2})\s*/\s*(?P<d>\d{1,2})(?![\d/.,%])")
_COUNT = lazy(
    _PREFIX_QUAL + r"(?P<n>" + _NUM + r"|[一二三四五六七八九十]{1,3})\s*(?P<mult>万|千|億)?(?P<u>"
    + "|".join(re.escape(c) for c in _COUNTERS_LONGEST) + r")(?P<worth>分(?![野間]))?(?![A-Za-z村町市区])" + _SUFFIX_QUAL
)
#: Days counted over a period (年間約150日, 月に10日): a number of days (150日間), not a day of a month.
_DAYS_IN_PERIOD = lazy(r"(?:年間|月間|週間|年に|月に|週に|合計|延べ)\s*" + _PREFIX_QUAL + r"(?P<n>\d{1,3})日(?![目間分])"
                       + _SUFFIX_QUAL)
#: A number counting what follows it after の (31の企業・団体, 12の機関): a count whose counter is that noun.
_COUNT_OF = lazy(_PREFIX_QUAL + r"(?<![\d.,第])(?P<n>\d+)の(?P<u>[一-鿿ァ-ヺー]{1,8}(?:・[一-鿿ァ-ヺー]{1,8})?)")
#: Nouns counted after の that a counter names otherwise (31の企業 is 31社).
_COUNTED_AS = {"企業": "社", "会社": "社", "国": "か国", "人": "名"}
_SUFFIX_QUAL_AT = lazy(r"\s*" + _SUFFIX_QUAL)
_BARE_NUMBER = lazy(r"(?<![\w.,])(?P<n>" + _NUM + r")(?![\w.,%])")


def _qual(m: re.Match[str]) -> str:
    return "".join(x for x in (m.group("pre"), m.groupdict().get("post")) if x)


#: Amounts written in two units (4億2千万円, 1兆2,000億円).
_COMPOUND_MONEY = lazy(
    _PREFIX_QUAL + r"(?P<n1>" + _NUM + r")(?P<u1>兆|億)(?P<n2>" + _NUM + r")(?P<u2>千億|百億|億|千万|百万|万|千)?円" + _SUFFIX_QUAL
)
_PART = {"兆": 1e12, "千億": 1e11, "百億": 1e10, "億": 1e8, "千万": 1e7, "百万": 1e6, "万": 1e4, "千": 1e3, None: 1.0}


def amount_spans(text: str, taken: Sequence[tuple[int, int]] = ()) -> list[TypedSpan]:
    """Money (canonical yen/dollar/euro value), percentages and counts, outside ``taken``."""
    out: list[TypedSpan] = []
    busy = list(taken)

    def free(a: int, b: int) -> bool:
        return not any(a < y and x < b for x, y in busy)

    for m in _COMPOUND_MONEY.finditer(text):
        n1, n2 = parse_number(m.group("n1")), parse_number(m.group("n2"))
        a, b = m.span()
        if n1 is None or n2 is None or not free(a, b) or _PART[m.group("u2")] >= _PART[m.group("u1")]:
            continue
        value = n1 * _PART[m.group("u1")] + n2 * _PART[m.group("u2")]
        out.append(TypedSpan("money", a, b, text[a:b], _fmt(value) + "円", _qual(m)))
        busy.append((a, b))

    for m in _MONEY.finditer(text):
        n = parse_number(m.group("n"))
        a, b = m.span()
        if n is None or not free(a, b):
            continue
        unit = m.group("u")
        base = "円" if unit.endswith("円") else "ドル" if unit.endswith("ドル") else "ユーロ"
        out.append(TypedSpan("money", a, b, text[a:b], _fmt(n * _MONEY_UNITS[unit]) + base, _qual(m)))
        busy.append((a, b))
    for m in _PERCENT.finditer(text):
        n = parse_number(m.group("n"))
        a, b = m.span()
        if n is None or not free(a, b):
            continue
        pct = n * 10 if m.group("u") == "割" else n
        out.append(TypedSpan("percent", a, b, text[a:b], _fmt(pct) + "%", _qual(m)))
        busy.append((a, b))
    for m in _FRACTION_KANJI.finditer(text):
        n, d = parse_number(m.group("n")), parse_number(m.group("d"))
        a, b = m.span()
        if n is None or not d or n > d or not free(a, b):
            continue
        out.append(TypedSpan("percent", a, b, text[a:b], _fmt(round(100 * n / d, 2)) + "%", _qual(m)))
        busy.append((a, b))
    for m in _FRACTION_SLASH.finditer(text):
        n, d = int(m.group("n")), int(m.group("d"))
        a, b = m.span()
        if not d or n >= d or not free(a, b) or not _slash_share(text, a, b):
            continue
        qual = _SUFFIX_QUAL_AT.match(text, b)  # always matches: the qualifier is optional
        end = qual.end() if qual.group("post") else b
        out.append(TypedSpan("percent", a, end, text[a:end], _fmt(round(100 * n / d, 2)) + "%",
                             qual.group("post") or ""))
        busy.append((a, end))
    for m in _DAYS_IN_PERIOD.finditer(text):
        n = parse_number(m.group("n"))
        a, b = m.start("pre") if m.group("pre") else m.start("n"), m.end()
        if n is None or not free(a, b):
            continue
        out.append(TypedSpan("count", a, b, text[a:b], _fmt(n) + "日間", _qual(m)))
        busy.append((a, b))
    for m in _COUNT.finditer(text):
        n = parse_number(m.group("n"))
        a, b = m.span()
        if n is None or not free(a, b):
            continue
        if m.group("u") in _DIGITS_ONLY and not m.group("n")[0].isdigit():
            continue
        if glued(text, m.start("n"), m.end()) and not m.group("pre"):
            continue  # プラン4基金: the digits number the word they are glued to, and 基金 is no 基
        unit = m.group("u") + (m.group("worth") or "")  # 3日分, 45,000回分: a stock's worth
        if unit == "分" and text.startswith("の", m.end("u")):
            continue  # 3分の2 is a fraction
        if unit == "分" and text[:a].rstrip().endswith("時"):
            continue  # 14時30分 is a time of day, not thirty minutes
        if n == 1 and _PER.match(text, b):
            continue  # 1人当たり, 1戸あたり: the unit of a rate, not a count the text states
        unit = _UNIT_NAMES.get(unit, unit)
        out.append(TypedSpan("count", a, b, text[a:b], _fmt(n * _COUNT_MULT[m.group("mult")]) + unit, _qual(m)))
        busy.append((a, b))
    for m in _COUNT_OF.finditer(text):
        n = parse_number(m.group("n"))
        a, b = m.span()
        if n is None or not free(a, b):
            continue
        out.append(TypedSpan("count", a, b, text[a:b], _fmt(n) + _counted(m.group("u")), _qual(m)))
        busy.append((a, b))
    return out


#: One spelling of each counter, so that 4メートル and 4m, 12トン and 12t compare.
_UNIT_NAMES = {"カ国": "か国", "ヶ国": "か国", "ケ国": "か国", "カ所": "か所", "ヶ所": "か所", "箇所": "か所",
               "カ月": "か月", "ヶ月": "か月", "人": "名", "メートル": "m", "キロメートル": "km", "平方メートル": "m2",
               "立方メートル": "m3",
               "トン": "t", "キロワット": "kW", "メガワット": "MW", "ギガワット": "GW"}
#: A katakana or Latin letter right before a number, and a kanji right after its counter.
_GLUED_BEFORE = lazy(r"[ァ-ヺA-Za-z]")
_GLUED_AFTER = lazy(r"[一-鿿]")


def glued(text: str, start: int, end: int) -> bool:
    """Whether the count ``text[start:end]`` sits inside a word: glued to a katakana or Latin word
    before it (プラン4, Step2) and continued by a kanji after its counter (4基金, 2人材). Such digits
    number the word (a phase, a step), and the counter is the first character of the next word.
    A count after a katakana noun and before a particle (コイル18個を) is a count."""
    return (start > 0 and bool(_GLUED_BEFORE.match(text, start - 1))
            and bool(_GLUED_AFTER.match(text, end)))


#: After a count of one: the count is what a rate is per (1平方メートル当たり12トン).
_PER = lazy(r"\s*(?:当たり|当り|あたり|につき|ごと|毎)")


def _counted(noun: str) -> str:
    """The counter of a noun counted after の: a counter it starts with (12の機関 counts 機関), the
    counter it is counted by (31の企業: 社), else the noun up to a ・ (31の企業・団体: 企業)."""
    head = noun.split("・")[0]
    for word, counter in _COUNTED_AS.items():
        if head.startswith(word):
            return counter
    return next((c for c in _COUNTERS_LONGEST if len(c) > 1 and head.startswith(c)), head)


def number_spans(text: str, taken: Sequence[tuple[int, int]] = ()) -> list[TypedSpan]:
    """Bare numbers not inside another span (table cells such as ``45.5`` or ``213``)."""
    out = []
    for m in _BARE_NUMBER.finditer(text):
        a, b = m.span()
        if any(a < y and x < b for x, y in taken):
            continue
        n = parse_number(m.group("n"))
        if n is not None:
            out.append(TypedSpan("number", a, b, text[a:b], _fmt(n)))
    return out


# -------------------------------------------------------------------- names

_ORG_SUFFIX = (
    "株式会社", "合同会社", "有限会社", "機構", "研究所", "研究開発機構", "大学", "大学院", "省", "庁", "府", "委員会",
    "協議会", "会議", "学会", "センター", "財団", "法人", "公社", "銀行", "組合", "連合会", "協会", "本部", "事務局",
    "局", "課", "室", "チーム", "タスクフォース", "グループ", "Association", "Council", "Agency", "Institute",
    "Inc.", "Ltd.", "Corporation",
)
_ORG_PREFIX = ("株式会社", "合同会社", "一般社団法人", "公益社団法人", "一般財団法人", "公益財団法人",
               "国立研究開発法人", "独立行政法人", "大学共同利用機関法人", "国立大学法人")
#: Legal forms written before or after a company's name (株式会社甲 / 甲株式会社), which drafts often leave out.
LEGAL_FORMS = ("株式会社", "合同会社", "有限会社", *_ORG_PREFIX[2:])
#: A name-like run: kanji, katakana, Latin letters, digits and the marks inside names.
#: An = joins two katakana words of one name (エクス=マルセイユ大学: NFKC turns ＝ into =).
_NAME_RUN = r"(?:[一-鿿々〆ヶァ-ヺー・A-Za-z0-9&\-]|(?<=[ァ-ヺー])=(?=[ァ-ヺ]))"
_ORG = lazy(
    r"(?:" + "|".join(_ORG_PREFIX) + r")(?:[A-Za-z0-9&\-]+(?:\s[A-Z][A-Za-z0-9&\-]*)+|" + _NAME_RUN + r"{1,30})"
    + r"|" + _NAME_RUN + r"{1,30}?(?:" + "|".join(sorted(_ORG_SUFFIX, key=len, reverse=True)) + r")"
    + r"(?:" + _NAME_RUN + r"{1,12}?(?:" + "|".join(("研究所", "センター", "部門", "部", "課", "室")) + r"))?"
)
#: A figure with its multiplier, date word or unit never sits inside an organisation's name.
_FIGURE_IN_NAME = lazy(r"\d+(?:[万億千]?(?:[kMG]W|年|月|日)|[万億千])")
#: Latin-script organisation names: capitalised words ending in an organisation word.
_LATIN_ORG = lazy(r"(?<![A-Za-z])(?:[A-Z][A-Za-z&\-]*\s)+(?:Association|Council|Agency|Institute|Organization|"
                        r"Organisation|Corporation|Commission|Foundation|Laboratory|University|Department|Ministry)\b")
#: A name right before a title or honorific (山田経済産業大臣, スミス英国エネルギー省次官, 佐藤主査).
_TITLES = ("大臣", "副大臣", "長官", "副長官", "委員長", "委員", "議員", "会長", "副会長", "理事長", "理事", "主査", "主査代理",
           "代表", "教授", "准教授", "総理", "首相", "大統領", "議長", "氏", "様", "所長", "機構長", "センター長", "部長", "次長")
_TITLE_ALT = "|".join(sorted(_TITLES, key=len, reverse=True))
#: A katakana name before a title, possibly with the organisation between (スミス英国エネルギー省次官):
#: a whole katakana word (not the first 8 characters of a longer one), a short office between. In a
#: roster's run-together rows a field (エネルギー政策) stands before a university and a professor.
_PERSON_BEFORE_TITLE = lazy(
    r"(?<![ァ-ヺー])(?P<name>[ァ-ヺー]{2,8})(?![ァ-ヺー])(?=(?:[一-鿿ァ-ヺー()（）A-Za-z・]{0,8}?"
    # Or a country and its ministry between, abbreviation included (スミス英国甲省(ABC)次官).
    r"|[一-鿿]{1,2}国[一-鿿ァ-ヺー()（）A-Za-z・]{1,16}?)(?:" + _TITLE_ALT + r"))"
)
#: After a katakana word, what makes it a portfolio rather than a name: 担当 (…担当大臣) or a ・ joining
#: it to the next portfolio (気候・エネルギー・環境大臣).
_PORTFOLIO_AFTER = lazy(r"[一-鿿ァ-ヺー]{0,4}?担当|・")
#: A title right before a person's name inside a run an organisation rule matched (…研究院教授遠藤典子核融合…大学).
_TITLE_BEFORE = lazy(r"(?:" + _TITLE_ALT + r")$")
#: What may follow a kanji proper noun that names a person: a title, possibly after an office (文部科学大臣).
_TITLE_AFTER = lazy(r"^[一-鿿]{0,6}?(?:" + _TITLE_ALT + r")")
_FACILITY = lazy(r"[一-鿿々ヶァ-ヺーA-Za-z]{1,12}?(?:公邸|大使館|会館|ホール|会議場|国際会議場|庁舎|キャンパス|"
                       r"公園|空港|駅|ホテル|本社)(?![一-鿿ァ-ヺ])")
_PLACE_SUFFIX = lazy(r"(?:北海道|東京都|大阪府|京都府|[一-鿿々ヶ]{1,6}(?:県|市|区|町|村|郡|州))(?![一-鿿])")
_LATIN_NAME = lazy(r"(?<![A-Za-z])[A-Z][A-Za-z0-9\-]*(?:\s+[A-Z][A-Za-z0-9\-]*)*")
#: A Latin-script name written as one word with a second capital or a digit (ABC, X4Y, EUROwind).
_LATIN_WORD = lazy(r"(?<![A-Za-z0-9\-])[A-Z][A-Za-z0-9\-]*[A-Z0-9][A-Za-z0-9\-]*(?![A-Za-z0-9\-])")
#: What joins the items of a list of names (甲、乙 / 甲と乙 / 甲・乙 / 甲及び乙).
_LIST_MARK = lazy(r"\s*(?:、|,|，|・|と|及び|並びに|や)\s*")
#: Words that end like an organisation but name a role or a kind of thing.
_NOT_ORG_HEADS = ("政府", "各省", "関係省", "関係府省", "関係省庁", "本省")


def _tagger():  # type: ignore[no-untyped-def]
    from assistant.bm25 import _tagger as tagger

    return tagger()


def is_country(name: str) -> bool:
    """Whether ``name`` is a country's name and nothing more (unidic tags 日本 and 米国 as 国;
    a city, a region such as 欧州, or a name with more words is not)."""
    nodes = list(_tagger()(name))
    return len(nodes) == 1 and nodes[0].feature.pos4 == "国"


#: One ideograph left of a given name at the end of a roster row (…客員教授根井寿規, the next row's
#: katakana field after it once rows run together): not an honorific or a title's first character.
_GIVEN_TAIL = lazy(r"[\u4e00-\u9fff々](?![\u4e00-\u9fffぁ-ゖ])(?<![氏様君殿長等])")


def mecab_name_spans(text: str) -> list[TypedSpan]:
    """People and places from MeCab's proper-noun tags (unidic: 固有名詞 / 人名, 地名).

    A surname followed by a given name (``天谷 政樹``) is one person span.
    """
    out: list[TypedSpan] = []
    pos = 0
    words = []
    for w in _tagger()(text):
        i = text.find(w.surface, pos)
        if i < 0:
            continue
        pos = i + len(w.surface)
        words.append((i, pos, w.feature))
    k = 0
    while k < len(words):
        a, b, f = words[k]
        if f.pos2 == "固有名詞" and f.pos3 == "人名":
            end = b
            j = k + 1
            while j < len(words) and words[j][2].pos2 == "固有名詞" and words[j][2].pos3 == "人名" \
                    and words[j][0] - end <= 1:
                end = words[j][1]
                j += 1
            tail = _GIVEN_TAIL.match(text, end)
            if tail and end - a <= 3:
                end = tail.end()  # 根井 寿規 with its space removed: MeCab reads 根井寿 + 規
            if end - a >= 2 or j - k > 1:
                out.append(TypedSpan("person", a, end, text[a:end], _name_key(text[a:end])))
            k = j
            continue
        if f.pos2 == "固有名詞" and _TITLE_AFTER.match(text[b : b + 12]) and b - a >= 2 \
                and f.pos4 != "国" and not text[a:b].endswith(("州", "国", "県", "府", "市")):
            # A surname tagged as a place (盛山) is a person when a title follows it.
            out.append(TypedSpan("person", a, b, text[a:b], _name_key(text[a:b])))
        elif f.pos2 == "固有名詞" and f.pos3 == "地名":
            out.append(TypedSpan("place", a, b, text[a:b], _name_key(text[a:b])))
        k += 1
    return out


def bare_org_names(text: str, known: Iterable[TypedSpan]) -> list[TypedSpan]:
    """Organisations of ``known`` (spans of other texts) that ``text`` names without their legal form
    (``甲工業`` for ``甲工業株式会社``): suffix rules cannot see a company name without its 株式会社."""
    out: list[TypedSpan] = []
    seen: set[str] = set()
    for s in known:
        if s.kind != "org":
            continue
        core = s.text
        for form in LEGAL_FORMS:
            core = core.removeprefix(form).removesuffix(form)
        core = core.strip()
        if core == s.text or len(core) < 2 or core in seen:
            continue
        seen.add(core)
        for m in re.finditer(re.escape(core), text):
            out.append(TypedSpan("org", m.start(), m.end(), core, _name_key(core)))
    return out


def is_latin_word(name: str) -> bool:
    """Whether a name is one Latin-script word (ABC, X4Y): an abbreviation, which may stand for a
    name written out in Japanese elsewhere."""
    return bool(_LATIN_WORD.fullmatch(name))


def _listed_latin_names(text: str, names: Sequence[TypedSpan]) -> list[TypedSpan]:
    """Latin-script words listed as names (主催：ABC、EUROwind / ABCとX4Yが…), as organisations.

    A Latin word alone is as often a programme or a device (XYZ計画, AB-12X) as a body: only a
    list whose items are such words or organisations, ending outside a compound (not ITER・BA関連,
    where the list qualifies the word after it), names them.
    """
    words = [(m.start(), m.end()) for m in _LATIN_WORD.finditer(text)
             if not any(o.start <= m.start() and m.end() <= o.end for o in names)
             and not re.fullmatch(r"[RH]\d{1,2}", m.group())]  # R5: an era year (R5.5.20), not a name
    if not words:
        return []
    items = sorted({*words, *((o.start, o.end) for o in names if o.kind == "org")})
    out: list[TypedSpan] = []
    run: list[tuple[int, int]] = []

    def close() -> None:
        tail = text[run[-1][1] : run[-1][1] + 1] if run else ""
        if len(run) > 1 and not re.match(r"[一-鿿々ァ-ヺー]", tail):
            out.extend(TypedSpan("org", a, b, text[a:b], _name_key(text[a:b])) for a, b in run if (a, b) in words)

    for a, b in items:
        if run and a >= run[-1][1] and _LIST_MARK.fullmatch(text, run[-1][1], a):
            run.append((a, b))
            continue
        if run and a < run[-1][1]:
            continue
        close()
        run = [(a, b)]
    close()
    return out


#: Organisation suffixes of one character (課, 室, 省): followed by a kanji, they are a word's middle (課程, 室内).
_SHORT_ORG_SUFFIXES = tuple(x for x in _ORG_SUFFIX if len(x) == 1)


def ends_inside_word(text: str, s: TypedSpan) -> bool:
    """Whether organisation span ``s`` ends on a one-character suffix that a kanji continues in ``text``:
    ``博士課`` of ``博士課程`` is no name (``甲研究所長`` keeps its ``甲研究所``)."""
    return (s.kind == "org" and s.text.endswith(_SHORT_ORG_SUFFIXES)
            and bool(re.match(r"[一-鿿]", text[s.end : s.end + 1])))


def _name_key(name: str) -> str:
    return re.sub(r"[\s・]", "", name).casefold()


#: General nouns for a person by what they do (広報コーディネーター, 法務の専門家): who a body
#: appoints or places is often named so, with no one's name. General vocabulary, no topic's.
_AGENT_HEADS = ("コーディネーター", "コーディネータ", "ディレクター", "マネージャー", "マネジャー", "アドバイザー",
                "コミュニケーター", "オフィサー", "リーダー", "コンサルタント", "エキスパート", "スペシャリスト",
                "プロデューサー", "ファシリテーター", "専門家", "有識者", "担当者", "責任者", "技術者", "実務者")
_AGENT = lazy(r"(?:[一-鿿ァ-ヺー]{2,6}(?<!等)の)?[一-鿿ァ-ヺー]{0,8}?(?:" + "|".join(sorted(_AGENT_HEADS, key=len, reverse=True))
              + r")")


def agent_spans(text: str) -> list[TypedSpan]:
    """Nouns naming a person by what they do (``広報コーディネーター``, ``法務の専門家``), as ``role``
    spans: the answer to who is placed or consulted when the documents name no one. Computed when
    asked, not stored in the index (a who question reads them only when a line has no name)."""
    # The compound runs back to the kana before it (企業と繋ぐ広報コーディネーター: 広報…), or over
    # one の (法務の専門家), not over 等の (甲等の外部専門家: 外部専門家).
    return [TypedSpan("role", m.start(), m.end(), m.group(), m.group()) for m in _AGENT.finditer(text)]


def name_spans(text: str, use_mecab: bool = True) -> list[TypedSpan]:
    """Organisations (suffix/prefix rules), places (suffix rules + MeCab) and people (MeCab)."""
    out: list[TypedSpan] = []
    for m in _ORG.finditer(text):
        a, b = m.span()
        figures = list(_FIGURE_IN_NAME.finditer(text, a, b))
        if figures:
            # A flattened table's row runs into the name (12万kW甲株式会社 → 甲株式会社), and a date
            # into a legal form before the name (4月1日株式会社甲 → 株式会社甲).
            again = _ORG.match(text, figures[-1].end())
            a, b = again.span() if again else (figures[-1].end(), b)
        name = text[a:b]
        if name in _ORG_SUFFIX or name in _ORG_PREFIX or name.endswith(_NOT_ORG_HEADS) or len(name) < 2:
            continue
        out.append(TypedSpan("org", a, b, name, _name_key(name)))
    for m in _LATIN_ORG.finditer(text):
        out.append(TypedSpan("org", m.start(), m.end(), m.group(), _name_key(m.group())))
    for m in _FACILITY.finditer(text):
        out.append(TypedSpan("facility", m.start(), m.end(), m.group(), _name_key(m.group())))
    for m in _PLACE_SUFFIX.finditer(text):
        out.append(TypedSpan("place", m.start(), m.end(), m.group(), _name_key(m.group())))
    for m in _PERSON_BEFORE_TITLE.finditer(text):
        a, b = m.span("name")
        name = m.group("name")
        if _PORTFOLIO_AFTER.match(text, b) or text[a - 1 : a] == "・":
            continue  # a minister's portfolio (エネルギー担当欧州委員, 気候・エネルギー・環境大臣), no name
        # An organisation that starts with the name (スミス英国エネルギー省) starts after it.
        for i, o in enumerate(out):
            if o.kind == "org" and o.start == a and o.end > b:
                rest = text[b : o.end]
                out[i] = TypedSpan("org", b, o.end, rest, _name_key(rest))
            elif o.kind == "org" and o.start < a and b <= o.end:
                break
        else:
            out.append(TypedSpan("person", a, b, name, _name_key(name)))
    out += _listed_latin_names(text, out)
    if use_mecab:
        mecab = mecab_name_spans(text)
        people = [s for s in mecab if s.kind == "person"]
        for i, o in enumerate(out):
            # Roster rows run together: an organisation rule's run may hold a titled person and the
            # next row's organisation (研究院教授遠藤典子核融合物理名古屋大学); the organisation is after the name.
            inside = [p for p in people if o.kind == "org" and o.start < p.start and p.end < o.end
                      and _TITLE_BEFORE.search(text, o.start, p.start)]
            if inside:
                rest = text[inside[-1].end : o.end]
                out[i] = TypedSpan("org", inside[-1].end, o.end, rest, _name_key(rest))
        named = [(s.start, s.end) for s in out]
        for s in mecab:
            # A name inside a longer organisation or place name (京都 in 京都…株式会社, 函館 in
            # 北海道函館市, 那須 in 那須研究所) is part of that name, not an answer of its own.
            if any(x <= s.start and s.end <= y for x, y in named):
                continue
            out.append(s)
    return out


# ------------------------------------------------------------------ all spans


def extract_spans(text: str, use_mecab: bool = True) -> list[TypedSpan]:
    """Every typed span of a normalised text, sorted by position (dates win over counts)."""
    dates = date_spans(text)
    taken = [(s.start, s.end) for s in dates]
    amounts = amount_spans(text, taken)
    taken += [(s.start, s.end) for s in amounts]
    numbers = number_spans(text, taken)
    names = name_spans(text, use_mecab)
    spans = dates + amounts + numbers + names
    return sorted(_dedupe(spans), key=lambda s: (s.start, -s.end, s.kind))


def _dedupe(spans: Iterable[TypedSpan]) -> list[TypedSpan]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for s in spans:
        key = (s.kind, s.start, s.end)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def spans_of_kinds(spans: Iterable[TypedSpan], kinds: Iterable[str]) -> list[TypedSpan]:
    """The spans whose kind is in ``kinds``."""
    want = set(kinds)
    return [s for s in spans if s.kind in want]


def values_equal(a: TypedSpan, b: TypedSpan) -> bool:
    """Whether two spans state the same value (kind-aware; a date without a year matches on month/day)."""
    if a.kind != b.kind and not ({a.kind, b.kind} <= {"count", "number"}):
        return False
    if a.value == b.value:
        return True
    if a.kind == "date":
        return _date_compatible(a.value, b.value)
    if {a.kind, b.kind} <= {"count", "number"}:
        return _leading_number(a.value) == _leading_number(b.value)
    if a.kind in ("person", "org", "place"):
        return a.value in b.value or b.value in a.value
    return False


def _leading_number(v: str) -> str:
    m = re.match(r"[\d.]+", v)
    return m.group() if m else v


def _date_compatible(a: str, b: str) -> bool:
    """``2023-10`` vs ``--10``: a yearless date agrees with a dated one on the parts both have;
    a fiscal year agrees with its calendar year only when no month is given; a decade
    (``2030s``, ``2030s-early``) equals only itself."""
    if decade(a) is not None or decade(b) is not None:
        return False
    pa, pb = a.split("-"), b.split("-")
    ya, yb = pa[0].removeprefix("FY"), pb[0].removeprefix("FY")
    if ya and yb and ya != yb:
        return False
    rest_a, rest_b = [x for x in pa[1:] if x], [x for x in pb[1:] if x]
    n = min(len(rest_a), len(rest_b))
    if rest_a[:n] != rest_b[:n]:
        return False
    return bool(ya and yb) or n > 0


Annotator = Callable[[Sequence[str]], list[list[TypedSpan]]]


def annotate_rules(texts: Sequence[str]) -> list[list[TypedSpan]]:
    """Rule and MeCab spans for many texts (the default index-time annotator)."""
    return [extract_spans(t) for t in texts]
