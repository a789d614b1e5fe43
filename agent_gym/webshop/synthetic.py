"""A deterministic synthetic product catalog in the original WebShop raw formats.

``generate(n, seed)`` yields one ``SyntheticItem`` per product: a record in the
``items_shuffle`` schema, its ``items_ins_v2`` entry (attributes and, for about 40% of
products, a templated "Find me ..." instruction), its ``items_human_ins`` entries (shopper-like
requests for about a quarter of the products) and the noun tokens of its title. The catalog
loader processes these records exactly as it processes the original files, so everything
downstream (search index, goals, reward) is shared. All text comes from the generator's own
vocabulary (``data/synthetic_vocabulary.json`` beside this module: word lists and type
tables; this module is the generator); only the structure and rough statistics follow the
original sample.

Design
------
* ``PRODUCT_TYPES`` (132 types over the original's five categories) each carry the query
  the product was "crawled" for, a 3-5 level ``product_category`` path, title nouns, the
  names shoppers use, an own attribute pool (12-13 short phrases), option dimensions and
  a price range. A product draws its type, then brand, title, bullets, description,
  attributes, options and price from pools, so each query has many near-duplicate
  competitors: same type words, overlapping attributes (half of them, on average, come from
  pools shared by the whole category and by all categories), the same option values, and
  some keyword-stuffed listings, as on the real site. Searching a shopper's request finds the
  right type easily, the exact product only sometimes, and the first hit often misses an
  attribute and never has the requested options unless one picks them.
* Human instructions name the type in shoppers' words, 1-3 of the product's attributes
  (often reworded: "easy to install", "washer safe", "celiac safe"; see ``_SHOPPER_WORDS``)
  and 0-3 option values, one per option dimension. ``instruction_options`` hold the values in
  the loader's processed form (``value.strip().replace('/', ' | ').lower()``), so each equals
  a processed option value of the product. There is never price text: the loader appends
  ", and price lower than X dollars".
* ``title_nouns`` are known by construction: each vocabulary phrase is split into tokens at
  import; a token is a noun unless ``_NOT_NOUNS`` lists it (adjectives, verbs, function words,
  colours) or it holds a digit; brand words are always nouns. On titles this agrees with
  spaCy's NOUN/PROPN tags at ~98% precision (spaCy also tags many title-cased adjectives
  PROPN, which are left out here on purpose).
* Speed: everything that can be is precomputed at import (phrases with their nouns, title
  format strings, multi-sentence bullet/description templates, shuffled orders of pools), so
  a product costs one seeding and ~40 draws: 50-65 us on CPython 3.11 (a shared 2-vCPU VM).

Determinism
-----------
Product ``i`` depends only on ``(seed, i)``: its generator is ``random.Random`` seeded with
an integer made of the seed and the index (``_rng_key``), so any prefix of a catalog is the
catalog of that size. Only ``Random.random()`` is used (choices and samples are done here,
not with ``choice``/``sample``, whose algorithms changed between Python versions), and no
libm function touches the output: prices come from geometric ladders built by
multiplication, the other distributions are tables. Import-time tables (sentence templates,
shuffled orders) are drawn the same way from fixed seeds. Nothing depends on ``hash()``, set
order, time or global random state. ASINs are ``"B0"`` + 8 base-36 digits of a Feistel
permutation of the index: unique, not sequential-looking, the same for every seed.

Knobs and calibration
---------------------
The rule baseline of the WebShop paper (search the instruction, buy the first hit without
choosing options) scored 45.6 with 9.6% success on the original. On the default 10,000
product catalog of this generator it scores 50.7 with 12.2% success (the 500 human goals of
the test split, Lucene BM25 k1=0.9 b=0.4; ``bench/calibrate.py`` and the README's
leaderboard, which ``agent-gym eval --agent rule`` reproduces), and 47.9 with 12.2% success
at 100,000 products (``agent-gym eval --agent rule --products 100000``). Knobs, all read at
generation time except ``PRICE_SPREAD``:

* ``INSTRUCTION_OPTION_WEIGHTS`` (P of 0..3 options named, capped by the product's option
  dimensions) and ``HUMAN_RATE_BY_DIMENSIONS``: the strongest levers on the baseline's
  score; the share of requests naming no option caps its success rate.
* ``PARAPHRASE_RATE`` how often a shopper rewords an attribute; ``SHARED_ATTRIBUTE_RATE``
  share of attributes from shared pools; ``BRAND_MENTION_RATE`` how often the brand is
  named (which makes the exact product easy to find). Higher paraphrase, lower brand rate:
  harder.
* ``INSTRUCTION_ATTRIBUTE_WEIGHTS`` (P of 1..3 attributes named),
  ``SECOND_HUMAN_RATE`` (products with two requests), ``SYNTHETIC_INSTRUCTION_RATE``,
  ``OPTION_RATE``, price knobs.

Bump ``VERSION`` whenever the output changes: built catalogs are cached under it (and
``tests/test_synthetic.py`` pins a digest of the first products).
"""

from __future__ import annotations

import json
import math
import random
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path

VERSION = 2  # 1: an early draft (different output)

# ----- knobs ------------------------------------------------------------------------------
OPTION_RATE = 0.5
SHARED_ATTRIBUTE_RATE = 0.5
SYNTHETIC_INSTRUCTION_RATE = 0.4
# P(human instructions) for a product with 0, 1, 2, 3 option dimensions: shoppers' requests
# go mostly to products with several options, as in the original (~25% of products overall)
HUMAN_RATE_BY_DIMENSIONS = (0.08, 0.2, 0.65, 0.65)
SECOND_HUMAN_RATE = 0.2
INSTRUCTION_OPTION_WEIGHTS = (0.04, 0.2, 0.6, 0.16)  # P(0, 1, 2, 3 options named)
INSTRUCTION_ATTRIBUTE_WEIGHTS = (0.78, 0.18, 0.04)  # P(1, 2, 3 attributes named)
PARAPHRASE_RATE = 0.6
BRAND_MENTION_RATE = 0.05
EMPTY_DESCRIPTION_RATE = 0.25
PRICE_RANGE_RATE = (0.03, 0.17)  # P("$a - $b") without / with options: ~10% overall
NO_PRICE_RATE = 0.02
PRICE_SPREAD = 2.0  # type price ranges are widened by this factor each way (read at import)


# ----- vocabulary (data/synthetic_vocabulary.json) ----------------------------------------
# The generator's word lists and tables live in a data file; what each holds:
# * categories, category_weights: the five categories and the original sample's mix of them
#   (beauty 24%, electronics 23%, garden 22%, ...);
# * option_pools: key -> option name as shown on the page, ordered?, values ("|"-separated).
#   Ordered dimensions (sizes, counts) are cut as contiguous runs; unordered ones (colours,
#   flavours) are sampled;
# * product_types: per category, each type's query, product_category path, title nouns, the
#   names shoppers use, own attributes, option keys (in display order), (min, max) price and,
#   for fashion, the gender its titles name; more_attributes (by query) widen the own pools:
#   larger pools lower the chance that a same-type competitor shares a requested attribute;
# * shared_attributes (per category) and global_attributes: pools shared across types, so
#   products of different types compete for the same attribute words;
# * pre_last_words, pre_first_words, for_last_words, attribute_clauses: how an attribute reads
#   in a sentence: before the noun ("gluten free chips"), after "for" ("for sensitive skin"),
#   as a clause, or after "with" (the rest: "with remote control");
# * shopper_words: how shoppers reword attributes. The search engine stems, so "easy to
#   install" still finds "easy install": only other words make a request miss. An entry
#   starting with that/with/for/without/which is a clause; others take the attribute's place;
# * brands, modifiers, features, uses, materials: title and text words per category;
# * title_templates (slots: B brand, G "Men's"/"Women's", W "Men"/"Women", M modifier, N the
#   product's type noun, n a second type noun, A one of its attributes, F feature phrase, U
#   usage phrase, S spec, V one of its option values, S when it has none);
# * description_sentences and bullets ("all" plus per category; fields brand, noun, a, b
#   (attributes), A (an attribute in capitals), mat, use, feat, spec, year);
# * not_nouns: vocabulary words spaCy would not tag NOUN/PROPN (adjectives, verbs, function
#   words, colours); every other token of a title phrase without digits counts as a noun.
VOCABULARY_PATH = Path(__file__).with_name("data") / "synthetic_vocabulary.json"
_VOCABULARY = json.loads(VOCABULARY_PATH.read_text(encoding="utf-8"))

CATEGORIES: tuple[str, ...] = tuple(_VOCABULARY["categories"])
_CATEGORY_WEIGHTS: dict[str, int] = _VOCABULARY["category_weights"]
_OPTION_POOLS: dict[str, tuple[str, bool, str]] = {
    key: (pool["name"], pool["ordered"], pool["values"]) for key, pool in _VOCABULARY["option_pools"].items()}
# (query, product_category, nouns, human names, attributes, options, (min, max) price[, gender])
_TYPE_TABLE: dict[str, list[tuple]] = {
    category: [(t["query"], t["product_category"], t["nouns"], t["human"], t["attributes"], t["options"],
                tuple(t["price"])) + ((t["gender"],) if "gender" in t else ()) for t in types]
    for category, types in _VOCABULARY["product_types"].items()}
_MORE_ATTRIBUTES: dict[str, str] = _VOCABULARY["more_attributes"]
_SHARED_ATTRIBUTES: dict[str, str] = _VOCABULARY["shared_attributes"]
_GLOBAL_ATTRIBUTES: str = _VOCABULARY["global_attributes"]
_PRE_LAST_WORDS = frozenset(_VOCABULARY["pre_last_words"])
_PRE_FIRST_WORDS = frozenset(_VOCABULARY["pre_first_words"])
_FOR_LAST_WORDS = frozenset(_VOCABULARY["for_last_words"])
_ATTRIBUTE_CLAUSES: dict[str, str] = _VOCABULARY["attribute_clauses"]
_SHOPPER_WORDS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _VOCABULARY["shopper_words"].items()}
_BRANDS: dict[str, str] = _VOCABULARY["brands"]
_MODIFIERS: dict[str, str] = _VOCABULARY["modifiers"]
_FEATURES: dict[str, str] = _VOCABULARY["features"]
_USES: dict[str, str] = _VOCABULARY["uses"]
_MATERIALS: dict[str, str] = _VOCABULARY["materials"]
_TITLE_TEMPLATES: dict[str, list[str]] = _VOCABULARY["title_templates"]
_DESCRIPTION_SENTENCES: dict[str, list[str]] = _VOCABULARY["description_sentences"]
_BULLETS: dict[str, list[str]] = _VOCABULARY["bullets"]
_NOT_NOUNS = frozenset(_VOCABULARY["not_nouns"])


# ----- product types ----------------------------------------------------------------------
@dataclass(frozen=True)
class ProductType:
    """One kind of product: everything a product of this kind is drawn from.

    ``nouns`` are the type's title noun phrases (the first is the canonical one), ``human``
    the names shoppers use for it, ``attributes`` its own attribute pool (shared pools are
    added per category), ``options`` the keys of its option dimensions in display order.
    """

    category: str
    query: str
    product_category: str
    nouns: tuple[str, ...]
    human: tuple[str, ...]
    attributes: tuple[str, ...]
    options: tuple[str, ...]
    price: tuple[float, float]
    gender: str = ""  # "men" / "women" for fashion types: titles say "Men's ..."



def _attribute_kind(attr: str) -> str:
    if attr in _ATTRIBUTE_CLAUSES:
        return "clause"
    first, _, last = attr.partition(" ")
    if last in _FOR_LAST_WORDS:
        return "for"
    if last in _PRE_LAST_WORDS or first in _PRE_FIRST_WORDS:
        return "pre"
    return "with"



# ----- compiled tables (built once at import) --------------------------------------------
_SMALL_WORDS = {"a", "an", "and", "the", "of", "for", "with", "in", "on", "to", "by", "or"}
_TOKEN_SPLIT = re.compile(r"[\s\-/]+")


def _title_case(text: str) -> str:
    """Capitalize each word (and each part of a hyphenated word), keep small words lower."""
    return " ".join(w if w in _SMALL_WORDS else "-".join(p[:1].upper() + p[1:] for p in w.split("-"))
                    for w in text.split(" "))


def _nouns_of(text: str) -> tuple[str, ...]:
    """The noun tokens of a vocabulary phrase (see ``_NOT_NOUNS``), lower-cased, in order."""
    nouns = []
    for token in _TOKEN_SPLIT.split(text.lower()):
        token = token.strip(",.():;!")
        if token.endswith("'s"):
            token = token[:-2]
        if len(token) < 2 or token in _NOT_NOUNS or any(c.isdigit() for c in token):
            continue
        nouns.append(token)
    return tuple(nouns)


def _phrase(text: str, title_case: bool = True) -> tuple[str, str, tuple[str, ...]]:
    """(text as shown in a title, lower-cased text, noun tokens)."""
    text = text.strip()
    return (_title_case(text) if title_case else text, text.lower(), _nouns_of(text))


def _phrases(spec: str, title_case: bool = True) -> tuple:
    return tuple(_phrase(t, title_case) for t in spec.split("|"))


# Title slots -> index into the per-product phrase tuple built in ``_make``; the second
# {M} of a template takes a second modifier.
_SLOTS = {"B": 0, "G": 1, "W": 2, "M": 3, "N": 5, "n": 6, "A": 7, "F": 8, "U": 9, "S": 10, "V": 11}


def _compile_title(template: str) -> tuple[str, itemgetter]:
    """``"{B} {N}, {A}"`` -> (``"{} {}, {}"``, itemgetter(0, 5, 7)): a format string and
    the getter of its phrases, in title order, from the per-product phrase tuple."""
    fmt, slots = [], []
    for i, piece in enumerate(re.split(r"\{(\w)\}", template)):
        if i % 2 == 0:
            fmt.append(piece.replace("{", "{{").replace("}", "}}"))
            continue
        slot = _SLOTS[piece]
        if piece == "M" and 3 in slots:
            slot = 4
        slots.append(slot)
        fmt.append("{}")
    return "".join(fmt), itemgetter(*slots)


# Bullets and descriptions are formatted from one argument list per product:
# 0 brand, 1 noun, 2 material, 3 usage, 4 spec, 5 year, 6.. attributes in a rotating order
# (sentence j gets {a} = 6+2j and {b} = 7+2j), then the capitalised {a}s of the bullets,
# or for descriptions one pool attribute the product may not have (a text-only match).
_N_ROTATION = 12
_UPPER_BASE = 6 + _N_ROTATION
_DISTRACTOR = 6 + _N_ROTATION
_TEXT_FIELDS = {"brand": 0, "noun": 1, "mat": 2, "use": 3, "spec": 4, "year": 5}
_PARAGRAPHS_PER_CATEGORY = 96
_TEXT_SEPARATOR = "\x1f"
_FIRST = itemgetter(0)
_THIRD = itemgetter(2)


def _text_templates(sentences: list[str], n_min: int, n_max: int, category: str, kind: str,
                    joiner: str) -> tuple[str, ...]:
    """Multi-sentence templates drawn once at import (fixed seed, ``random()`` only) so a
    product formats its whole description, or all its bullets, in one call."""
    rng = random.Random(f"synthetic-templates:{category}:{kind}")
    out = []
    for _ in range(_PARAGRAPHS_PER_CATEGORY):
        n = n_min + int(rng.random() * (n_max - n_min + 1))
        pool = list(sentences)
        chosen = []
        for j in range(n):  # partial Fisher-Yates
            m = j + int(rng.random() * (len(pool) - j))
            pool[j], pool[m] = pool[m], pool[j]
            chosen.append(pool[j])
        parts = []
        for j, sentence in enumerate(chosen):
            a = 6 + 2 * j
            if kind == "description" and rng.random() < 0.2:
                a = _DISTRACTOR
            fields = {**{k: f"{{{v}}}" for k, v in _TEXT_FIELDS.items()},
                      "a": f"{{{a}}}", "b": f"{{{7 + 2 * j}}}", "A": f"{{{_UPPER_BASE + j}}}"}
            parts.append(sentence.format(**fields))
        out.append(joiner.join(parts))
    return tuple(out)


_TEXT = {
    c: (_text_templates(_BULLETS["all"] + _BULLETS[c], 3, 6, c, "bullets", _TEXT_SEPARATOR),
        _text_templates(_DESCRIPTION_SENTENCES["all"] + _DESCRIPTION_SENTENCES[c], 2, 6, c, "description", " "))
    for c in CATEGORIES
}


_PERMUTATIONS = 64


def _permutations(items: tuple, label: str) -> tuple[tuple, ...]:
    """``_PERMUTATIONS`` shuffled orders of items, each doubled so that any window
    ``perm[start:start + k]`` (start < len, k <= len) is k distinct items. A product takes a
    random window of a random order: one draw each instead of a per-product shuffle.
    Drawn once at import with a fixed seed and ``random()`` only (see "Determinism")."""
    rng = random.Random(f"synthetic-permutations:{label}")
    out = []
    for _ in range(_PERMUTATIONS):
        perm = list(items)
        for j in range(len(perm) - 1, 0, -1):
            m = int(rng.random() * (j + 1))
            perm[j], perm[m] = perm[m], perm[j]
        out.append(tuple(perm) * 2)
    return tuple(out)


@dataclass(frozen=True)
class _OptionPool:
    name: str
    ordered: bool
    values: tuple[str, ...]
    processed: tuple[str, ...]  # the loader's form: strip, "/" -> " | ", lower
    phrases: tuple  # title phrases of the values
    key: str  # the loader's form of the name: lower-cased
    orders: tuple  # value indices in shuffled orders (see _permutations)


_OPTION_POOL_TABLE = {
    key: _OptionPool(name, ordered, tuple(values.split("|")),
                     tuple(v.strip().replace("/", " | ").lower() for v in values.split("|")),
                     tuple(_phrase(v, title_case=False) for v in values.split("|")), name.lower(),
                     _permutations(tuple(range(len(values.split("|")))), f"option:{key}"))
    for key, (name, ordered, values) in _OPTION_POOLS.items()
}


def _price_ladder(lo: float, hi: float) -> tuple[float, ...]:
    """Geometric price points from lo to hi by repeated multiplication: log-uniform prices
    without libm (IEEE multiplication rounds the same on every machine)."""
    points, p = [], max(float(lo), 1.0)
    while p <= hi:
        points.append(p)
        p *= 1.04
    return tuple(points)


@dataclass(frozen=True)
class _CompiledType:
    spec: ProductType
    nouns: tuple  # title phrases of the type nouns
    human: tuple  # per noun: the shoppers' names that fit it
    own_attributes: tuple[str, ...]
    shared_attributes: tuple[str, ...]
    own_orders: tuple  # shuffled orders of the pools (see _permutations)
    shared_orders: tuple
    option_pools: tuple[_OptionPool, ...]
    spec_values: tuple  # phrases for the S slot: values of the type's size-like dimension
    prices: tuple[float, ...]
    gender: tuple  # (G phrase, W phrase)
    brands: tuple
    modifiers: tuple
    features: tuple  # category features plus "with <attribute>" of the type
    uses: tuple
    materials: tuple[str, ...]
    titles: tuple
    bullets: tuple[str, ...]
    descriptions: tuple[str, ...]


def _compile_type(spec: ProductType, shared: tuple[str, ...]) -> _CompiledType:
    category = spec.category
    nouns = tuple(_phrase(n) for n in spec.nouns)
    human = []
    for n in spec.nouns:  # a mascara is not an "eyebrow pencil": keep names sharing a word
        words = set(n.replace("-", " ").split())
        fitting = tuple(h for h in spec.human if words & set(h.replace("-", " ").replace("'s", "").split()))
        human.append(fitting or (n,))
    pools = tuple(_OPTION_POOL_TABLE[k] for k in spec.options)
    size_like = [p for p in pools if p.ordered] or list(pools)
    gender_word = {"men": "Men", "women": "Women"}.get(spec.gender, "")
    gender = ((gender_word + "'s", "", (gender_word.lower(),)), (gender_word, "", (gender_word.lower(),))) \
        if gender_word else (("", "", ()), ("", "", ()))
    brands = tuple((b, b.lower(), tuple(w.lower() for w in b.replace("&", " ").split()))  # proper nouns
                   for b in _BRANDS[category].split("|"))
    own_with = tuple(_phrase("with " + a) for a in spec.attributes if _attribute_kind(a) == "with")
    return _CompiledType(
        spec=spec, nouns=nouns, human=tuple(human),
        own_attributes=spec.attributes,
        shared_attributes=tuple(a for a in shared if a not in spec.attributes),
        own_orders=_permutations(spec.attributes, f"own:{spec.query}"),
        shared_orders=_permutations(tuple(a for a in shared if a not in spec.attributes), f"shared:{spec.query}"),
        option_pools=pools,
        # bare counts read as packs in titles ("12 Pack", not "Security Camera 12")
        spec_values=tuple(_phrase(f"{v} Pack", title_case=False) if v.isdigit() else ph
                          for v, ph in zip(size_like[0].values, size_like[0].phrases)),
        prices=_price_ladder(spec.price[0] / PRICE_SPREAD, spec.price[1] * PRICE_SPREAD),
        gender=gender,
        brands=brands,
        modifiers=_phrases(_MODIFIERS[category]),
        # a type's own "with" attributes make coherent features ("with Kangaroo Pocket")
        features=_phrases(_FEATURES[category]) + own_with * 2,
        uses=_phrases(_USES[category]),
        materials=tuple(_MATERIALS[category].split("|")),
        titles=tuple(_compile_title(t) for t in _TITLE_TEMPLATES[category]),
        bullets=_TEXT[category][0],
        descriptions=_TEXT[category][1],
    )


def _build_types() -> tuple[tuple[ProductType, ...], tuple[_CompiledType, ...]]:
    specs = []
    global_attrs = tuple(_GLOBAL_ATTRIBUTES.split("|"))
    for category in CATEGORIES:
        for row in _TYPE_TABLE[category]:
            query, path, nouns, human, attrs, options, price = row[:7]
            attrs = tuple(dict.fromkeys(attrs.split("|") + _MORE_ATTRIBUTES[query].split("|")))
            specs.append(ProductType(category, query, path, tuple(nouns.split("|")), tuple(human.split("|")),
                                     attrs, tuple(options.split()),
                                     (float(price[0]), float(price[1])), row[7] if len(row) > 7 else ""))
    compiled = tuple(_compile_type(s, tuple(_SHARED_ATTRIBUTES[s.category].split("|")) + global_attrs)
                     for s in specs)
    for t in compiled:  # attribute windows need pools of at least the largest count (10)
        assert len(t.own_attributes) >= 10 and len(t.shared_attributes) >= 10, t.spec.query
    return tuple(specs), compiled


PRODUCT_TYPES, _TYPES = _build_types()


def _type_cumulative() -> tuple[float, ...]:
    """Cumulative probabilities: a category by its weight, then a type uniformly in it."""
    per_category = {c: sum(1 for t in PRODUCT_TYPES if t.category == c) for c in CATEGORIES}
    total = sum(_CATEGORY_WEIGHTS.values())
    acc, out = 0.0, []
    for t in PRODUCT_TYPES:
        acc += _CATEGORY_WEIGHTS[t.category] / total / per_category[t.category]
        out.append(acc)
    out[-1] = 1.0
    return tuple(out)


_TYPE_CUMULATIVE = _type_cumulative()
_ATTRIBUTE_KIND = {a: _attribute_kind(a) for t in _TYPES for a in t.own_attributes + t.shared_attributes}
_ATTRIBUTE_PHRASES = {a: _phrase(a) for a in _ATTRIBUTE_KIND}
_ATTRIBUTE_UPPER = {a: a.upper() for a in _ATTRIBUTE_KIND}
# steps coprime with n: start + j*step (mod n) visits distinct positions (see _spread)
_STEPS = {n: tuple(s for s in range(1, n) if math.gcd(s, n) == 1) or (1,) for n in range(1, 80)}
_ATTRIBUTE_COUNT_TABLES: dict[float, tuple[tuple[int, int], ...]] = {}


def _attribute_counts(shared_rate: float) -> tuple[tuple[int, int], ...]:
    """(number of attributes, how many from shared pools) as ~1000 equally likely rows: one
    draw per product instead of one per attribute. The shared count is Binomial(n,
    shared_rate); the table is built once per rate (the float maths runs here, never per
    product, and gives the same rounded counts everywhere)."""
    table = _ATTRIBUTE_COUNT_TABLES.get(shared_rate)
    if table is None:
        sizes = (3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 7, 7, 8, 9, 10)  # 3-10, mostly 4-6
        rows = []
        for n in sizes:
            for k in range(n + 1):
                q = float(math.comb(n, k))
                for _ in range(k):  # products, not **: float pow is libm's, this is IEEE-exact
                    q *= shared_rate
                for _ in range(n - k):
                    q *= 1 - shared_rate
                rows += [(n, k)] * round(q * 1000 / len(sizes))
        table = _ATTRIBUTE_COUNT_TABLES[shared_rate] = tuple(rows)
    return table


# Fixed discrete distributions (tables rather than formulas: see "Determinism").
_RATINGS = tuple(f"{r / 10:.1f}" for r in (30, 33, 35, 36, 38, 39, 40, 40, 41, 42, 42, 43, 43, 44, 44, 44, 45, 45,
                                           45, 46, 46, 46, 47, 47, 47, 48, 48, 49, 50, 50))
_CENTS = (99, 99, 99, 95, 49, 0, 0, 97, 89, 50)
_N_DIMENSIONS = (1, 1, 1, 1, 1, 2, 2, 2, 2, 3)  # as the original: ~half 1, ~half 2
_N_VALUES = {1: (2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 9, 10, 11, 12),
             2: (2, 2, 3, 3, 3, 4, 4, 5, 5, 6, 7, 8),
             3: (2, 2, 3, 3, 4)}  # values per dimension, by number of dimensions
_N_IMAGES = (1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 8, 8)
_IMAGE_NAMES = tuple(f"{k}.jpg" for k in range(8))
_YEARS = tuple(str(y) for y in range(1978, 2021))


# ----- ASINs --------------------------------------------------------------------------------
_HALF = 36 ** 4  # a Feistel permutation over (high, low) pairs of 4-digit base-36 halves
_FEISTEL_KEYS = (0x5A17, 0x2C3B9, 0x71D2F)
_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_B36_PAIRS = tuple(a + b for a in _B36 for b in _B36)


def asin_for(index: int) -> str:
    """``"B0"`` + 8 base-36 digits: a bijection of ``index`` in [0, 36**8)."""
    if not 0 <= index < _HALF * _HALF:
        raise ValueError(f"product index {index} out of range")
    left, right = divmod(index, _HALF)
    for key in _FEISTEL_KEYS:  # any round function keeps a Feistel network bijective
        mixed = (right * 2654435761 + key) % 4294967311
        left, right = right, (left + (mixed ^ (mixed >> 13))) % _HALF
    return ("B0" + _B36_PAIRS[left // 1296] + _B36_PAIRS[left % 1296]
            + _B36_PAIRS[right // 1296] + _B36_PAIRS[right % 1296])


# ----- the generator ------------------------------------------------------------------------
@dataclass(frozen=True)
class SyntheticItem:
    """One product in the original raw formats, with the nouns of its title."""

    product: dict  # items_shuffle record
    attributes: dict  # items_ins_v2 entry
    human_instructions: list  # items_human_ins entries for this asin
    title_nouns: list[str]  # lower-cased noun tokens of product["name"], in title order


_new_item = object.__new__


def _rng_key(seed: int, index: int) -> int:
    """A distinct non-negative integer per (seed, index): seeds map to naturals (z -> 2z or
    -2z-1) so that -1 and 1 differ (``random.seed`` drops an int's sign)."""
    s = 2 * seed if seed >= 0 else -2 * seed - 1
    return (s << 48) | index


def generate(n_products: int, seed: int = 0) -> Iterator[SyntheticItem]:
    """Products ``0 .. n_products-1`` of catalog ``seed``; product i never depends on n."""
    if n_products < 0:
        raise ValueError("n_products must be >= 0")
    if n_products > _HALF * _HALF:
        raise ValueError(f"at most {_HALF * _HALF} products")
    rng = random.Random()
    # random.Random.seed passes ints straight to the C seeding: calling that directly gives
    # the same state as random.Random(key) and saves a Python call per product
    reseed = super(random.Random, rng).seed
    base = _rng_key(seed, 0)
    for i in range(n_products):
        reseed(base | i)  # == _rng_key(seed, i)
        yield _make(rng, i)


def make_item(index: int, seed: int = 0) -> SyntheticItem:
    """Product ``index`` of catalog ``seed`` alone (the same as in ``generate``)."""
    return _make(random.Random(_rng_key(seed, index)), index)


def _spread(rnd, seq, k: int) -> list:
    """k distinct elements of seq: an arithmetic walk with a random start and a step coprime
    with len(seq). Cheaper than a shuffle and good enough to vary combinations."""
    n = len(seq)
    if k >= n:
        k = n
    start = int(rnd() * n)
    steps = _STEPS[n]
    step = steps[int(rnd() * len(steps))]
    return [seq[(start + j * step) % n] for j in range(k)]


def _sample(rnd, seq, k: int) -> list:
    """k distinct elements of seq in random order (partial Fisher-Yates on a copy)."""
    pool = list(seq)
    n = len(pool)
    k = min(k, n)
    for j in range(k):
        m = j + int(rnd() * (n - j))
        pool[j], pool[m] = pool[m], pool[j]
    return pool[:k]


def _weighted(rnd, weights) -> int:
    """An index drawn with the given (unnormalised) weights."""
    x = rnd() * sum(weights)
    for j, w in enumerate(weights):
        x -= w
        if x < 0:
            return j
    return len(weights) - 1


def _make(rng: random.Random, index: int) -> SyntheticItem:
    rnd = rng.random
    t = _TYPES[bisect_right(_TYPE_CUMULATIVE, rnd())]
    asin = asin_for(index)

    # attributes: mostly from the type's own pool, a share from the category/global pools
    counts = _ATTRIBUTE_COUNT_TABLES.get(SHARED_ATTRIBUTE_RATE) or _attribute_counts(SHARED_ATTRIBUTE_RATE)
    n_attr, n_shared = counts[int(rnd() * len(counts))]
    own = t.own_attributes
    n_own = n_attr - n_shared
    start = int(rnd() * len(own))
    attributes = list(t.own_orders[int(rnd() * _PERMUTATIONS)][start:start + n_own])
    start = int(rnd() * len(t.shared_attributes))
    attributes += t.shared_orders[int(rnd() * _PERMUTATIONS)][start:start + n_shared]

    # options: about half the products have none; the type's first dimension comes first
    chosen: list[tuple[_OptionPool, list[int]]] = []
    if rnd() < OPTION_RATE:
        pools = t.option_pools
        n_dims = min(len(pools), _N_DIMENSIONS[int(rnd() * 10)])
        dims = [pools[0]] + _spread(rnd, pools[1:], n_dims - 1) if n_dims > 1 else [pools[0]]
        counts = _N_VALUES[n_dims]
        names = set()
        for pool in dims:
            if pool.name in names:  # two dimensions may share a display name ("Size")
                continue
            names.add(pool.name)
            n_vals = len(pool.values)
            k = counts[int(rnd() * len(counts))]
            if k > n_vals:
                k = n_vals
            if pool.ordered:  # sizes and counts come as contiguous runs
                start = int(rnd() * (n_vals - k + 1))
                idx = list(range(start, start + k))
            else:
                start = int(rnd() * n_vals)
                idx = sorted(pool.orders[int(rnd() * _PERMUTATIONS)][start:start + k])
            chosen.append((pool, idx))
    customization = {pool.name: [{"value": pool.values[j], "image": None} for j in idx]
                     for pool, idx in chosen} if chosen else ""

    # title: a template over (brand, G, W, modifier, modifier, noun, noun, attribute,
    # feature, usage, spec, option value); nouns come from the phrases used, in order
    nouns_pool = t.nouns
    noun_i = int(rnd() * len(nouns_pool))
    noun = nouns_pool[noun_i]
    brand = t.brands[int(rnd() * len(t.brands))]
    mods = t.modifiers
    spec = t.spec_values[int(rnd() * len(t.spec_values))]
    use = t.uses[int(rnd() * len(t.uses))]
    if chosen:
        pool, idx = chosen[0]
        value_phrase = pool.phrases[idx[int(rnd() * len(idx))]]
    else:
        value_phrase = spec
    phrases = (brand, t.gender[0], t.gender[1], mods[int(rnd() * len(mods))], mods[int(rnd() * len(mods))], noun,
               nouns_pool[int(rnd() * len(nouns_pool))], _ATTRIBUTE_PHRASES[attributes[0]],
               t.features[int(rnd() * len(t.features))], use, spec, value_phrase)
    fmt, getter = t.titles[int(rnd() * len(t.titles))]
    used = getter(phrases)
    name = fmt.format(*map(_FIRST, used))
    title_nouns = list(chain.from_iterable(map(_THIRD, used)))  # may repeat, as spaCy's do

    # bullets and description: attributes rotate through the sentences so that most of
    # them appear in the text, as the original's attributes were mined from it
    n_a = len(attributes)
    rotation = attributes * (_N_ROTATION // n_a + 2)
    args = [brand[0], noun[1], t.materials[int(rnd() * len(t.materials))], use[1], spec[0],
            _YEARS[int(rnd() * len(_YEARS))]]
    bullet_args = args + rotation[1:1 + _N_ROTATION]  # attributes[0] is in the title already
    bullet_args += map(_ATTRIBUTE_UPPER.__getitem__, bullet_args[6::2])
    bullets = t.bullets[int(rnd() * _PARAGRAPHS_PER_CATEGORY)].format(*bullet_args).split(_TEXT_SEPARATOR)
    if rnd() < EMPTY_DESCRIPTION_RATE:
        description = ""
    else:
        shift = 1 + 2 * len(bullets)
        desc_args = args + rotation[shift % n_a:shift % n_a + _N_ROTATION]
        desc_args.append(own[int(rnd() * len(own))])
        description = t.descriptions[int(rnd() * _PARAGRAPHS_PER_CATEGORY)].format(*desc_args)

    # price: a rung of the type's log-spaced ladder; ranges mostly for products with options
    base = t.prices[int(rnd() * len(t.prices))]
    r = rnd()
    if r < NO_PRICE_RATE:
        pricing = ""
    elif r < NO_PRICE_RATE + PRICE_RANGE_RATE[bool(chosen)]:
        high = base * (1.25 + int(rnd() * 16) / 10)
        pricing = f"${(int(base) * 100 + _CENTS[int(rnd() * 10)]) / 100!r} - " \
                  f"${(int(high) * 100 + _CENTS[int(rnd() * 10)]) / 100!r}"
    else:
        # dollars and cents rendered as the original renders floats: 12.99, 12.0, 877.5
        pricing = f"${(int(base) * 100 + _CENTS[int(rnd() * 10)]) / 100!r}"

    prefix = f"synthetic://img/{asin}/"
    product = {
        "name": name,
        "full_description": description,
        "pricing": pricing,
        "images": list(map(prefix.__add__, _IMAGE_NAMES[:_N_IMAGES[int(rnd() * 13)]])),
        "product_category": t.spec.product_category,
        "small_description": bullets,
        "customization_options": customization,
        "asin": asin,
        "category": t.spec.category,
        "query": t.spec.query,
        "average_rating": _RATINGS[int(rnd() * 30)] if rnd() < 0.6 else "",
        "page": 1 + int(rnd() * rnd() * 400),
    }

    # items_ins_v2 entry
    entry: dict = {"attributes": attributes}
    if rnd() < SYNTHETIC_INSTRUCTION_RATE:
        picked = _sample(rnd, attributes, 2 + int(rnd() * 3))
        entry["instruction"] = _find_me(t.spec.query, picked)
        entry["instruction_attributes"] = picked

    # human instructions
    human: list[dict] = []
    if rnd() < HUMAN_RATE_BY_DIMENSIONS[len(chosen)]:
        for _ in range(2 if rnd() < SECOND_HUMAN_RATE else 1):
            human.append(_human_instruction(rnd, t, noun_i, asin, attributes, chosen, brand[1]))

    # a frozen dataclass's __init__ sets each field through object.__setattr__; filling the
    # instance dict directly gives the same object for a fraction of the cost
    item = _new_item(SyntheticItem)
    item.__dict__.update(product=product, attributes=entry, human_instructions=human, title_nouns=title_nouns)
    return item


def _find_me(query: str, attrs: list[str]) -> str:
    """The items_ins_v2 instruction: "Find me <pre attrs> <query> with <...> for <...>"."""
    pre = [a for a in attrs if _ATTRIBUTE_KIND[a] == "pre"]
    for_ = [a for a in attrs if _ATTRIBUTE_KIND[a] == "for"]
    with_ = [a for a in attrs if _ATTRIBUTE_KIND[a] not in ("pre", "for")]
    text = "Find me " + (", ".join(pre) + " " if pre else "") + query
    if with_:
        text += " with " + ", ".join(with_)
    if for_:
        text += " for " + ", ".join(for_)
    return text


# ----- human instructions ---------------------------------------------------------------
_OPENERS = ("i'm looking for", "i am looking for", "i am looking for", "im looking for", "i need", "i need",
            "i want", "i want", "find me", "i want to buy", "i would like", "i would like to get", "can you find me",
            "get me", "show me", "hello, i'm looking for", "please find", "i'm searching for",
            "i am interested in buying", "i'd like to order", "help me find", "i am searching for", "buy me",
            "i'm shopping for", "looking for")
_TAILS = ("", "", "", "", "", "", ".", ".", ".", " please", " for my husband", " for my wife", " as a gift",
          " for my daughter", " for everyday use", " for my mom", ", thanks", " for my new apartment")
_OPTION_LEADS = (". i want it", ". i'd like it", ", preferably", ". i need it")
_EASY_VERBS = {"use", "clean", "install", "assemble", "carry", "apply", "blend", "make", "connect", "setup"}
_OPTION_PREPOSITIONS = ("in ", "with ", "for ", "made ", "that ")
_CLAUSE_STARTS = ("that ", "with ", "for ", "without ", "which ", "made ")
_HYPHEN_LAST = {"free", "proof", "friendly", "lasting", "resistant", "safe", "based", "fed", "dry", "fit"}
_HYPHEN_FIRST = {"non", "anti", "long", "short", "high", "low"}
# head words too vague to stand alone ("with design")
_VAGUE_HEADS = {"design", "protection", "quality", "style", "formula", "finish", "look", "function", "support",
                "system", "technology", "content", "time", "on", "up", "in", "mode", "control", "size", "type"}


def _attribute_words(rnd, attr: str) -> str:
    """How a shopper writes an attribute: as is, in other words (``_SHOPPER_WORDS``), or
    lightly reworded ("easy to install", "gluten-free")."""
    if rnd() >= PARAPHRASE_RATE:
        return attr
    other = _SHOPPER_WORDS.get(attr)
    if other:
        return other[int(rnd() * len(other))]
    first, _, last = attr.partition(" ")
    if first == "easy" and last in _EASY_VERBS:
        return "easy to set up" if last == "setup" else f"easy to {last}"
    if last in _HYPHEN_LAST or first in _HYPHEN_FIRST:  # "gluten-free", "non-slip"
        return f"{first}-{last}"
    if _ATTRIBUTE_KIND[attr] == "with" and last not in _VAGUE_HEADS and rnd() < 0.6:
        return "with " + last  # vaguer: "with pockets", not "zipper pockets"
    return attr


def _option_words(rnd, name: str, value: str) -> str:
    """A processed option value as a shopper phrases it ("in size large", "pecan flavor")."""
    r = rnd()
    v = value.replace(" | ", " and " if r < 0.5 else "/") if " | " in value else value
    if "(" in v and rnd() < 0.3:
        v = v.replace("(", "").replace(")", "")
    if name == "color":
        return f"in {v}" if r < 0.45 else f"in {v} color" if r < 0.8 else f"in the color {v}"
    if name == "size":
        if v.startswith("fits"):
            return f"that {v}"
        return f"in size {v}" if r < 0.4 else f"size {v}" if r < 0.7 else f"in {v}"
    if name.startswith("flavor"):
        return f"{v} flavor" if r < 0.5 else f"in {v} flavor" if r < 0.8 else f"with {v} flavor"
    if name == "scent":
        if v == "unscented":
            return "that is unscented"
        return f"in {v} scent" if r < 0.5 else f"with {'an' if v[0] in 'aeiou' else 'a'} {v} scent"
    if name == "style":
        if "style" in v or "piece" in v:
            return f"in {v}"
        return f"in {v} style" if r < 0.6 else f"in the {v} style"
    if name in ("item package quantity", "number of items"):
        return f"pack of {v}" if r < 0.6 else f"{v} pack"
    if name == "fit type":
        return f"for {v}" if r < 0.5 else f"in {v} fit"
    if name == "pattern name":
        return f"with {v} pattern" if r < 0.5 else f"in {v} print"
    if name == "material type":
        return f"made of {v}" if r < 0.5 else f"in {v}"
    if name == "capacity":
        return f"with {v} storage" if r < 0.5 else f"with {v}"
    return f"{name} {v}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _human_instruction(rnd, t: _CompiledType, noun_i: int, asin: str, attributes: list[str],
                       chosen: list, brand: str) -> dict:
    """One items_human_ins entry: a shopper's request for this product."""
    picked_attrs = _spread(rnd, attributes, 1 + _weighted(rnd, INSTRUCTION_ATTRIBUTE_WEIGHTS))
    # one value per option dimension (the page-style "name: value" list), some of them named
    values = [pool.processed[idx[int(rnd() * len(idx))]] for pool, idx in chosen]
    page_options = [f"{pool.key}: {v}" for (pool, _), v in zip(chosen, values)]
    named: list[tuple[str, str]] = []  # (lower-cased option name, processed value)
    if chosen:
        n_opt = min(_weighted(rnd, INSTRUCTION_OPTION_WEIGHTS), len(chosen))
        named = [(chosen[j][0].key, values[j]) for j in _spread(rnd, range(len(chosen)), n_opt)]

    # the type in shoppers' words: a name that fits the product's noun, or the noun itself
    if rnd() < 0.4:
        what = t.nouns[noun_i][1]
    else:
        names = t.human[noun_i]
        what = names[int(rnd() * len(names))]
    if rnd() < BRAND_MENTION_RATE:
        what = f"{brand} {what}"
    head = what.split(" for ")[0]  # "shorts for men" is plural
    plural = head.endswith("s") and not head.endswith("ss") and not head.startswith("pair of")
    pre, adjectives, with_, for_, clauses = [], [], [], [], []
    for attr in picked_attrs:
        kind = _ATTRIBUTE_KIND[attr]
        if kind == "clause":
            clauses.append(_ATTRIBUTE_CLAUSES[attr])
            continue
        words = _attribute_words(rnd, attr)
        if words.startswith(_CLAUSE_STARTS):
            clauses.append(words)
        elif kind == "pre" or (kind == "with" and words != attr):  # reworded: "aromatic", "sturdy"
            (pre if rnd() < 0.6 else adjectives).append(words)
        elif kind == "for":
            for_.append(words)
        else:
            with_.append(words)
    if adjectives:
        clauses.insert(0, f"that {'are' if plural else 'is'} {_join(adjectives)}")
    if with_:
        clauses.append(("with " if rnd() < 0.7 else f"that {'have' if plural else 'has'} ") + _join(with_))
    if for_:
        clauses.append("for " + _join(for_))
    option_words = [_option_words(rnd, n, v) for n, v in named]
    lead = ""
    if named and named[0][0] == "color" and rnd() < 0.35:  # "a navy blue hoodie"
        lead = named[0][1].replace(" | ", " and ") + " "
        option_words = option_words[1:]
    body = lead + (", ".join(pre) + " " if pre else "") + what
    if plural or t.spec.category == "grocery":  # "some almonds", "dark chocolate"
        article = "some " if rnd() < 0.35 else ""
    elif rnd() < 0.2:
        article = ""
    else:
        article = "an " if body[0] in "aeiou" else "a "
    text = f"{_OPENERS[int(rnd() * len(_OPENERS))]} {article}{body}"
    style = rnd()
    if option_words and style < 0.3:  # options first: "a hoodie in size large with a hood"
        text += " " + _join(option_words) + "".join(" " + c for c in clauses)
    else:
        text += "".join(" " + c for c in clauses)
        if option_words:
            if style > 0.8:
                text += _OPTION_LEADS[int(rnd() * len(_OPTION_LEADS))]
            if (clauses or style > 0.8) and not option_words[0].startswith(_OPTION_PREPOSITIONS):
                text += " in"  # "... that is gluten free in pecan flavor"
            text += " " + _join(option_words)
    text += _TAILS[int(rnd() * len(_TAILS))]
    return {
        "asin": asin,
        "instruction": text,
        "attributes": list(attributes),
        "options": page_options or [""],
        "instruction_attributes": picked_attrs,
        "instruction_options": [v for _, v in named],
    }
