"""BM25 over Japanese morphological tokens, stored as plain ``.npy`` + JSON.

Japanese has no spaces, so a whitespace splitter sees one token per sentence and
every BM25 score is 0. Text is tokenised with MeCab (fugashi + unidic-lite):
dictionary forms, particles/auxiliaries/symbols dropped, Latin lower-cased. The
tokenizer is injected (``BM25Index.build(texts, tokenize)``) so tests can pass a
character-bigram tokenizer.

The index is term-major: for each vocabulary term a slice of ``postings_docs`` /
``postings_weights`` holding the precomputed BM25 term weight per passage, so a
query is one ``np.bincount`` over the postings of its terms.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from assistant.errors import IndexCorruptError, UsageError

Tokenize = Callable[[str], list[str]]

#: Parts of speech that carry no content for retrieval.
_DROP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}


_TAGGERS = threading.local()


def _tagger():  # type: ignore[no-untyped-def]
    """This thread's MeCab tagger: a tagger's nodes point into its last parse, so threads
    serving requests at once (the app) must not share one; the dictionary is mapped once."""
    tagger = getattr(_TAGGERS, "tagger", None)
    if tagger is None:
        import fugashi

        tagger = _TAGGERS.tagger = fugashi.Tagger()
    return tagger


def mecab_tokenize(text: str) -> list[str]:
    """Content tokens of normalised Japanese text (dictionary forms, lower-cased)."""
    out: list[str] = []
    for w in _tagger()(text):
        f = w.feature
        if f.pos1 in _DROP_POS:
            continue
        base = getattr(f, "orthBase", None) or w.surface
        if base == "*":
            base = w.surface
        tok = base.lower()
        if tok.strip():
            out.append(tok)
    return out


def bigram_tokenize(text: str) -> list[str]:
    """Character bigrams of non-space characters (a dictionary-free tokenizer for tests)."""
    s = re.sub(r"\s+", "", text)
    return [s[i : i + 2] for i in range(len(s) - 1)] or ([s] if s else [])


TOKENIZERS: dict[str, Tokenize] = {"mecab": mecab_tokenize, "bigram": bigram_tokenize}


def get_tokenizer(name: str) -> Tokenize:
    """The tokenizer registered under ``name`` (``Settings.tokenizer``)."""
    try:
        return TOKENIZERS[name]
    except KeyError:
        raise UsageError(f"unknown tokenizer {name!r}; choose one of {sorted(TOKENIZERS)}") from None


class BM25Index:
    """BM25 (Lucene variant) with precomputed term weights."""

    def __init__(
        self,
        vocab: dict[str, int],
        offsets: np.ndarray,
        docs: np.ndarray,
        weights: np.ndarray,
        n_docs: int,
        params: dict[str, float],
        tf: np.ndarray | None = None,
        lengths: np.ndarray | None = None,
        max_weights: np.ndarray | None = None,
    ) -> None:
        self.vocab = vocab
        self.offsets = offsets
        self.docs = docs
        self.weights = weights
        self.n_docs = n_docs
        self.params = params
        #: Term frequency of each posting and tokens per passage: what ``extend`` needs to
        #: recompute the weights (memory-mapped, never read on the query path).
        self.tf = tf
        self.lengths = lengths
        #: Each term's largest weight: a bound that lets ``search`` skip long posting lists.
        self.max_weights = max_weights

    @classmethod
    def build(
        cls, texts: Sequence[str], tokenize: Tokenize, k1: float = 1.2, b: float = 0.75
    ) -> BM25Index:
        """Index ``texts`` (normalised passages) with the given tokenizer.

        Tokens become integer ids as they stream in, and the postings are built
        with numpy from one flat id array (about 4 bytes per token): per-passage
        ``Counter`` objects cost ~23 KiB per passage, ~23 GiB at 1M passages
        (bench scale study).
        """
        term_id: dict[str, int] = {}
        ids: list[np.ndarray] = []
        lengths = np.zeros(len(texts), dtype=np.int64)
        for d, text in enumerate(texts):
            toks = tokenize(text)
            lengths[d] = len(toks)
            ids.append(np.fromiter((term_id.setdefault(t, len(term_id)) for t in toks), np.int32, len(toks)))
        token_ids = np.concatenate(ids) if ids else np.zeros(0, np.int32)
        del ids
        # Ids in sorted-term order, so the vocabulary (and the files) do not depend on text order.
        terms = sorted(term_id)
        rank = np.empty(len(terms), dtype=np.int32)
        rank[np.fromiter((term_id[t] for t in terms), np.int64, len(terms))] = np.arange(len(terms))
        return build_from_ids(rank[token_ids] if len(terms) else token_ids, lengths, terms, k1, b)

    def extend(self, token_lists: Sequence[Sequence[str]]) -> BM25Index:
        """This index with passages ``n_docs..`` appended (their tokens given); equal to a full build.

        The postings of the new passages are inserted at the end of their terms' slices
        (doc ids stay ascending) and new terms take their sorted place in the
        vocabulary, so nothing is re-tokenised. Every weight depends on the passage
        count and the mean length, so the weights are recomputed from the stored term
        frequencies (a vectorised pass over the postings), with the arithmetic of a
        full build: the arrays are identical to ``BM25Index.build`` on all passages.
        """
        if self.tf is None or self.lengths is None:
            raise IndexCorruptError("this BM25 index has no term frequencies to extend",
                                    hint="run `shiori index --rebuild`")
        term_id: dict[str, int] = {}
        ids = [np.fromiter((term_id.setdefault(t, len(term_id)) for t in toks), np.int32, len(toks))
               for toks in token_lists]
        new_len = np.array([len(x) for x in ids], dtype=np.int64)
        local_terms = list(term_id)
        t_local, d_local, tf_new = postings_from_ids(np.concatenate(ids) if ids else np.zeros(0, np.int32),
                                                     new_len)
        old_terms = sorted(self.vocab)  # vocabulary ids are ranks in sorted order
        merged = sorted(set(old_terms).union(local_terms))
        position = {t: i for i, t in enumerate(merged)}
        local_to_merged = np.array([position[t] for t in local_terms], dtype=np.int64)
        new_t = local_to_merged[t_local] if len(t_local) else np.zeros(0, np.int64)
        order = np.lexsort((d_local, new_t))  # by term, then doc
        new_t, new_d, tf_new = new_t[order], d_local[order] + self.n_docs, tf_new[order]
        # Where each new posting goes in the old arrays: after every old term <= its term.
        cut = {t: bisect_right(old_terms, merged[t]) for t in np.unique(new_t).tolist()}
        at = np.asarray(self.offsets)[np.array([cut[t] for t in new_t.tolist()], dtype=np.int64)]
        docs = np.insert(np.asarray(self.docs), at, new_d.astype(np.int32))
        tf = np.insert(np.asarray(self.tf), at, tf_new.astype(np.int32))
        df = np.zeros(len(merged), dtype=np.int64)
        df[np.array([position[t] for t in old_terms], dtype=np.int64)] = np.diff(np.asarray(self.offsets))
        df += np.bincount(new_t, minlength=len(merged))
        lengths = np.concatenate([np.asarray(self.lengths, dtype=np.int64), new_len])
        return _assemble(merged, df, docs, tf, lengths, float(self.params["k1"]), float(self.params["b"]))

    def _ids(self, query_tokens: Sequence[str], term_weights: Mapping[str, float] | None
             ) -> tuple[list[int], list[float] | None]:
        """Vocabulary ids of the query tokens and, with ``term_weights``, each one's weight (default 1)."""
        ids = [self.vocab[t] for t in query_tokens if t in self.vocab]
        if term_weights is None:
            return ids, None
        return ids, [float(term_weights.get(t, 1.0)) for t in query_tokens if t in self.vocab]

    def scores(self, query_tokens: Sequence[str], term_weights: Mapping[str, float] | None = None) -> np.ndarray:
        """BM25 score of every passage for the query tokens (repeats count).

        ``term_weights`` scales a token's contribution (an English question's less likely
        translations count for less than its first ones); a token it leaves out counts 1.
        """
        ids, qw = self._ids(query_tokens, term_weights)
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        # Slices of the postings (views), concatenated once: no index arrays to build and gather.
        spans = [(int(self.offsets[i]), int(self.offsets[i + 1])) for i in ids]
        docs = np.concatenate([self.docs[a:b] for a, b in spans])
        if qw is None:
            weights = np.concatenate([self.weights[a:b] for a, b in spans])
        else:
            weights = np.concatenate([np.asarray(self.weights[a:b], dtype=np.float64) * w
                                      for (a, b), w in zip(spans, qw, strict=True)])
        return np.bincount(docs, weights=weights, minlength=self.n_docs).astype(np.float32)

    def search(self, query_tokens: Sequence[str], k: int,
               term_weights: Mapping[str, float] | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (row, score) with score > 0, best first; ties by row.

        Exact. When the long posting lists of common terms cannot change the top ``k``
        (``_search_bounded``), they are read only at the candidates' rows.
        """
        ids, qw = self._ids(query_tokens, term_weights)
        if not ids or k < 1:
            return []
        hit = self._search_bounded(ids, k, qw) if self.max_weights is not None else None
        if hit is not None:
            return hit
        s = self.scores(query_tokens, term_weights)
        nz = np.flatnonzero(s > 0)
        return _top(nz, s[nz], k)

    def _search_bounded(self, ids: Sequence[int], k: int,
                        qw: Sequence[float] | None = None) -> list[tuple[int, float]] | None:
        """The top ``k`` without scoring the common terms' long lists, or ``None`` when that cannot be exact.

        Max-score pruning: the candidates are the passages holding a rarer term; a passage
        holding none of them scores at most the sum of the common terms' largest weights,
        so when that bound is below the k-th candidate's full score, no such passage can
        enter the top ``k``. Candidates' scores are summed term by term in query order in
        float64, as ``scores``' ``bincount`` does: the same bits, so the same ranking.
        """
        offsets = self.offsets
        df = np.array([int(offsets[i + 1] - offsets[i]) for i in ids], dtype=np.int64)
        long_df = max(BOUND_MIN_DF, self.n_docs // BOUND_LONG_FRACTION)
        common = df >= long_df
        if not common.any() or common.all():
            return None
        rare = [i for i, c in zip(ids, common, strict=True) if not c]
        cand = np.unique(np.concatenate([np.asarray(self.docs[int(offsets[i]) : int(offsets[i + 1])])
                                         for i in rare]))
        if len(cand) < k:
            return None  # passages with common terms only would fill the top k
        qw = [1.0] * len(ids) if qw is None else list(qw)
        maxw = np.asarray(self.max_weights, dtype=np.float64)
        bound = math.fsum(float(maxw[i]) * w for i, c, w in zip(ids, common, qw, strict=True) if c)
        acc = np.zeros(len(cand), dtype=np.float64)
        for i, w in zip(ids, qw, strict=True):
            a, b = int(offsets[i]), int(offsets[i + 1])
            docs = self.docs[a:b]
            pos = np.searchsorted(docs, cand)
            pos[pos == b - a] = 0
            found = np.asarray(docs[pos]) == cand
            part = np.asarray(self.weights[a:b][pos[found]], dtype=np.float64)
            acc[found] += part if w == 1.0 else part * w
        scores = acc.astype(np.float32)
        keep = scores > 0
        cand, scores = cand[keep], scores[keep]
        if len(cand) < k:
            return None
        kth = float(-np.partition(-scores, k - 1)[k - 1])
        if not bound * (1 + 1e-6) < kth:
            return None  # a passage outside the candidates could still reach the top k
        return _top(cand, scores, k)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "offsets.npy", self.offsets, allow_pickle=False)
        np.save(directory / "docs.npy", self.docs, allow_pickle=False)
        np.save(directory / "weights.npy", self.weights, allow_pickle=False)
        (directory / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        (directory / "params.json").write_text(
            json.dumps({**self.params, "n_docs": self.n_docs}), encoding="utf-8"
        )
        if self.tf is not None and self.lengths is not None:
            np.save(directory / "tf.npy", np.asarray(self.tf, dtype=np.int32), allow_pickle=False)
            np.save(directory / "lengths.npy", np.asarray(self.lengths, dtype=np.int32), allow_pickle=False)
        if self.max_weights is not None:
            np.save(directory / "max_weights.npy", np.asarray(self.max_weights, dtype=np.float32),
                    allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> BM25Index:
        try:
            mode = "r" if mmap else None
            d = os.fspath(directory)  # a str: numpy's memmap resolves a Path (a few syscalls a file)
            offsets = np.load(os.path.join(d, "offsets.npy"), mmap_mode=mode, allow_pickle=False)
            docs = np.load(os.path.join(d, "docs.npy"), mmap_mode=mode, allow_pickle=False)
            weights = np.load(os.path.join(d, "weights.npy"), mmap_mode=mode, allow_pickle=False)
            vocab = json.loads((directory / "vocab.json").read_text(encoding="utf-8"))
            params = json.loads((directory / "params.json").read_text(encoding="utf-8"))
            n_docs = int(params.pop("n_docs"))
            extra = [np.load(os.path.join(d, f"{name}.npy"), mmap_mode=mode, allow_pickle=False)
                     if (directory / f"{name}.npy").exists() else None for name in ("tf", "lengths")]
            max_w = np.load(directory / "max_weights.npy", allow_pickle=False) \
                if (directory / "max_weights.npy").exists() else None
        except (OSError, ValueError, KeyError) as e:
            raise IndexCorruptError(
                f"BM25 index in {directory} is unreadable: {e}", hint="run `shiori index --rebuild`"
            ) from e
        tf, lengths = extra
        if len(offsets) != len(vocab) + 1 or len(docs) != len(weights) or int(offsets[-1]) != len(docs) \
                or (tf is not None and len(tf) != len(docs)) or (lengths is not None and len(lengths) != n_docs) \
                or (max_w is not None and len(max_w) != len(vocab)):
            raise IndexCorruptError(
                f"BM25 index in {directory} is inconsistent", hint="run `shiori index --rebuild`"
            )
        return cls(vocab, offsets, docs, weights, n_docs, params, tf, lengths, max_w)


#: ``search`` reads a term's postings only at the candidates' rows when the term is in at least
#: this share of the passages (1/50) and this many (below that a full read is cheap anyway).
BOUND_LONG_FRACTION = 50
BOUND_MIN_DF = 2_000

#: Question words and light nouns that say what is asked, not what it is about.
QUESTION_WORDS = frozenset(
    "何 なに どこ 誰 だれ いつ いくら どれ どの どう なぜ どちら どのよう どんな 何故 人物 とき ため こと もの "
    "よう 側 中 際 方 等 点 上 これ それ 場合 ところ".split()
)


def mecab_content_nouns(text: str) -> list[str]:
    """The nouns of a question that name its subject (question words dropped), in order."""
    out: list[str] = []
    for w in _tagger()(text):
        f = w.feature
        if f.pos1 != "名詞" or f.pos2 == "代名詞":
            continue
        base = getattr(f, "orthBase", None) or w.surface
        if base == "*":
            base = w.surface
        base = base.lower()
        if base not in QUESTION_WORDS and base.strip():
            out.append(base)
    return out


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, score), best first, ties by row (at the k-th place too)."""
    if not len(rows):
        return []
    k = min(k, len(rows))
    if len(rows) > k:
        kth = -np.partition(-scores, k - 1)[k - 1]
        sel = np.flatnonzero(scores >= kth)
        rows, scores = rows[sel], scores[sel]
    order = np.lexsort((rows, -scores))[:k]
    return [(int(rows[j]), float(scores[j])) for j in order]


def postings_from_ids(
    token_ids: np.ndarray, lengths: np.ndarray, chunk_tokens: int = 20_000_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(term, doc, tf) of every posting, sorted by term then doc, from flat token ids.

    Passages are processed in runs of about ``chunk_tokens`` tokens, so the
    temporary (term, doc) keys stay bounded however large the corpus.
    """
    n = len(lengths)
    lengths = np.asarray(lengths, dtype=np.int64)
    doc_end = np.cumsum(lengths)
    parts_t, parts_d, parts_f = [], [], []
    d0 = 0
    while d0 < n:
        base = int(doc_end[d0 - 1]) if d0 else 0
        d1 = min(n, max(d0 + 1, int(np.searchsorted(doc_end, base + chunk_tokens, side="right"))))
        tok = np.asarray(token_ids[base : int(doc_end[d1 - 1])], dtype=np.int64)
        doc = np.repeat(np.arange(d0, d1, dtype=np.int64), lengths[d0:d1])
        keys, counts = np.unique(tok * n + doc, return_counts=True)
        parts_t.append((keys // n).astype(np.int32))
        parts_d.append((keys % n).astype(np.int32))
        parts_f.append(counts.astype(np.int32))
        d0 = d1
    term = np.concatenate(parts_t) if parts_t else np.zeros(0, np.int32)
    docs = np.concatenate(parts_d) if parts_d else np.zeros(0, np.int32)
    tf = np.concatenate(parts_f) if parts_f else np.zeros(0, np.int32)
    del parts_t, parts_d, parts_f
    order = np.argsort(term, kind="stable")  # runs are in doc order: docs stay ascending per term
    return term[order], docs[order], tf[order]


def build_from_ids(
    token_ids: np.ndarray,
    lengths: np.ndarray,
    terms: Sequence[str],
    k1: float = 1.2,
    b: float = 0.75,
    chunk_tokens: int = 20_000_000,
) -> BM25Index:
    """BM25 from a flat token-id array (ids index the sorted ``terms``) and tokens per passage."""
    term, docs, tf = postings_from_ids(token_ids, lengths, chunk_tokens)
    df_all = np.bincount(term, minlength=len(terms))
    del term
    present = np.flatnonzero(df_all)
    return _assemble([terms[i] for i in present.tolist()], df_all[present], docs, tf,
                     np.asarray(lengths, dtype=np.int64), k1, b)


#: Postings per block when computing weights (bounds the float64 temporaries).
_WEIGHT_BLOCK = 8_000_000


def _assemble(terms: Sequence[str], df: np.ndarray, docs: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
              k1: float, b: float) -> BM25Index:
    """The index from sorted ``terms``, their document frequencies and the term-major postings."""
    n = len(lengths)
    df = np.asarray(df, dtype=np.int64)
    avgdl = float(lengths.mean()) if n and lengths.mean() > 0 else 1.0
    dff = df.astype(np.float64)
    idf = np.log(1 + (n - dff + 0.5) / (dff + 0.5))
    offsets = np.concatenate(([0], np.cumsum(df))).astype(np.int64)
    weights = np.empty(len(docs), dtype=np.float32)
    term = np.repeat(np.arange(len(terms), dtype=np.int32), df)
    for s in range(0, len(docs), _WEIGHT_BLOCK):
        e = min(len(docs), s + _WEIGHT_BLOCK)
        tf64 = tf[s:e].astype(np.float64)
        norm = tf64 + k1 * (1 - b + b * lengths[docs[s:e]] / avgdl)
        weights[s:e] = (idf[term[s:e]] * tf64 * (k1 + 1) / norm).astype(np.float32)
    vocab = {t: j for j, t in enumerate(terms)}
    max_w = np.maximum.reduceat(weights, offsets[:-1]) if len(weights) else np.zeros(len(terms), np.float32)
    return BM25Index(vocab, offsets, docs.astype(np.int32), weights, n, {"k1": k1, "b": b, "avgdl": avgdl},
                     tf.astype(np.int32), lengths.astype(np.int32), max_w.astype(np.float32))
