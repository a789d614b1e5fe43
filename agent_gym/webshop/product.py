"""The product record shared by the catalog, the search index, the pages and the reward."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal

DEFAULT_PRICE = 100.0  # the original charges $100.0 for products without a price


@dataclass(frozen=True)
class Product:
    """One product, already processed the way the original WebShop loader processes it.

    Field names are the snake_case forms of the original's keys: ``title`` is ``Title``
    (= ``name``, case kept), ``bullet_points`` is ``BulletPoints``, ``attributes`` is
    ``Attributes`` (``["DUMMY_ATTR"]`` when the attribute file has none), ``options`` maps a
    lower-cased option name to its lower-cased values with ``/`` turned into `` | ``.
    ``price`` is the one price charged at checkout: the single price, or for a range a
    value drawn once, seeded, when the catalog is built (the original redraws it every run).
    ``title_nouns`` are the lower-cased noun tokens of the title (spaCy POS tags for the
    original data), precomputed so that scoring a purchase needs no NLP call.
    """

    asin: str
    title: str
    description: str = ""
    bullet_points: tuple[str, ...] = ()
    pricing: tuple[float, ...] = (DEFAULT_PRICE,)
    price_tag: str = "$100.0"
    price: float = DEFAULT_PRICE
    options: dict[str, list[str]] = field(default_factory=dict)
    option_images: dict[str, str | None] = field(default_factory=dict)
    attributes: tuple[str, ...] = ("DUMMY_ATTR",)
    category: str = ""
    query: str = ""
    product_category: str = ""
    main_image: str | None = None
    rating: str = "N.A."
    reviews: tuple[dict, ...] = ()
    title_nouns: tuple[str, ...] = ()

    @property
    def name(self) -> str:  # the original reads the title under both keys
        return self.title

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Product":
        d = json.loads(text)
        for key in ("bullet_points", "pricing", "attributes", "reviews", "title_nouns"):
            d[key] = tuple(d.get(key) or ())
        return cls(**d)


def parse_pricing(pricing: str | None) -> tuple[tuple[float, ...], str]:
    """``"$12.5 - $20"`` -> ``((12.5, 20.0), "$12.5 to $20.0")`` as the original loader does."""
    if not pricing:
        return (DEFAULT_PRICE,), f"${DEFAULT_PRICE}"
    values = [float(Decimal(re.sub(r"[^\d.]", "", part))) for part in pricing.split("$")[1:]]
    if not values:
        raise ValueError(f"unparseable price {pricing!r}")
    if len(values) == 1:
        return (values[0],), f"${values[0]}"
    return (values[0], values[1]), f"${values[0]} to ${values[1]}"


def parse_options(customization_options) -> tuple[dict[str, list[str]], dict[str, str | None]]:
    """The original's option processing: names and values lower-cased, ``/`` -> `` | ``."""
    options: dict[str, list[str]] = {}
    images: dict[str, str | None] = {}
    if not customization_options:
        return options, images
    for name, contents in customization_options.items():
        if contents is None:
            continue
        values = []
        for content in contents:
            value = content["value"].strip().replace("/", " | ").lower()
            values.append(value)
            images[value] = content.get("image")
        options[name.lower()] = values
    return options, images


def option_text(options: dict[str, list[str]]) -> str:
    """The option text appended to a product's search document."""
    return ", and ".join(f"{name}: {', '.join(values)}" for name, values in options.items())


def search_document(product: Product) -> str:
    """The text the original indexes: lower(Title Description BulletPoints[0] option_text)."""
    first_bullet = product.bullet_points[0] if product.bullet_points else ""
    return " ".join(
        [product.title, product.description, first_bullet, option_text(product.options)]
    ).lower()
