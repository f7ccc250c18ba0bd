"""Statistical NER with ja-ginza (spaCy), used only when an index is built with ``ner = "ginza"``.

GiNZA's extended named-entity labels are mapped onto shiori's span kinds; its
spans are added to the rule spans (``spans.extract_spans``), never replacing
them. spaCy is imported here only, so ``ask`` never pays its ~1.5 s load.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from assistant.errors import EmbedderUnavailableError
from assistant.spans import TypedSpan, _dedupe, _name_key, extract_spans

_PERSON = {"Person"}
_ORG = {"Company", "Corporation_Other", "Government", "International_Organization", "Organization_Other",
        "Political_Organization_Other", "School", "Research_Institute", "Public_Institution", "Political_Party"}
_PLACE = {"Country", "Province", "City", "County", "GPE_Other", "Location_Other", "Domestic_Region",
          "Continental_Region", "Region_Other", "Facility_Other", "Facility", "Station", "Airport", "Port"}
BATCH = 64


@lru_cache(maxsize=1)
def _nlp():  # type: ignore[no-untyped-def]
    try:
        import spacy

        return spacy.load("ja_ginza", disable=["parser", "attribute_ruler", "compound_splitter",
                                                "bunsetu_recognizer"])
    except (ImportError, OSError) as e:
        raise EmbedderUnavailableError(
            f"ja-ginza is not available: {e}", hint='pip install ja-ginza, or build with SHIORI_NER=rules'
        ) from e


def _kind(label: str) -> str | None:
    if label in _PERSON:
        return "person"
    if label in _ORG:
        return "org"
    if label in _PLACE:
        return "place"
    return None


def annotate_ginza(texts: Sequence[str]) -> list[list[TypedSpan]]:
    """Rule spans plus GiNZA's people, organisations and places, for many texts at once."""
    nlp = _nlp()
    out: list[list[TypedSpan]] = []
    for text, doc in zip(texts, nlp.pipe(texts, batch_size=BATCH), strict=True):
        spans = extract_spans(text)
        for ent in doc.ents:
            kind = _kind(ent.label_)
            if kind is None or len(ent.text) < 2:
                continue
            spans.append(TypedSpan(kind, ent.start_char, ent.end_char, ent.text, _name_key(ent.text)))
        out.append(sorted(_dedupe(spans), key=lambda s: (s.start, -s.end, s.kind)))
    return out
