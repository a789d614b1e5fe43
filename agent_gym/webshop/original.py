"""Reading the original WebShop data files, processed as the original loader does.

``items_shuffle*.json`` (products), ``items_ins_v2*.json`` (attributes and synthetic
instructions), ``items_human_ins.json`` (crowd-sourced instructions) and, when present,
``human_goals.json`` (the original's human goal order). ``raw_to_product`` is the one
place where a raw record becomes a ``Product``; the synthetic generator emits raw records
in the same formats, so both sources go through it.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from agent_gym.webshop.jsonstream import JSONDataError, iter_json_array, load_json
from agent_gym.webshop.product import Product, parse_options, parse_pricing


@dataclass
class RawRecord:
    """One product in the original raw formats, with what goals are built from."""

    product: dict
    attributes: dict = field(default_factory=dict)
    human_instructions: list = field(default_factory=list)
    title_nouns: list[str] | None = None


def checkout_price(asin: str, pricing: tuple[float, ...], seed: int) -> float:
    """The price charged: the single price, or a seeded draw in the range.

    The original draws ``random.uniform(lo, hi)`` with the unseeded global generator on
    every start; a seeded draw keeps scores and instruction texts stable across runs.
    """
    if len(pricing) == 1:
        return pricing[0]
    return random.Random(f"price:{seed}:{asin}").uniform(pricing[0], pricing[1])


def raw_to_product(record: RawRecord, seed: int) -> Product | None:
    """The original loader's processing of one record; ``None`` for records it skips."""
    p = record.product
    asin = p.get("asin")
    if not isinstance(asin, str) or asin == "nan" or len(asin) > 10:
        return None
    bullets = p.get("small_description", [])
    if not isinstance(bullets, list):
        bullets = [bullets]
    pricing, price_tag = parse_pricing(p.get("pricing"))
    options, option_images = parse_options(p.get("customization_options"))
    attrs = record.attributes.get("attributes") if record.attributes else None
    images = p.get("images") or [None]
    return Product(
        asin=asin,
        title=p["name"],
        description=p.get("full_description") or "",
        bullet_points=tuple(str(b) for b in bullets),
        pricing=pricing,
        price_tag=price_tag,
        price=checkout_price(asin, pricing, seed),
        options=options,
        option_images=option_images,
        attributes=tuple(attrs) if attrs else ("DUMMY_ATTR",),
        category=p.get("category", ""),
        query=p.get("query", "").lower().strip(),
        product_category=p.get("product_category", ""),
        main_image=images[0],
        rating=str(p.get("average_rating") or "N.A."),
        title_nouns=tuple(record.title_nouns or ()),
    )


@dataclass(frozen=True)
class OriginalFiles:
    products: Path
    attributes: Path
    human_instructions: Path | None = None
    human_goals: Path | None = None

    @classmethod
    def in_folder(cls, folder: str | os.PathLike) -> "OriginalFiles":
        """Find the original files in a folder (``items_shuffle*.json`` and friends)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder")

        def one(pattern: str, required: bool) -> Path | None:
            found = sorted(folder.glob(pattern))
            if not found:
                if required:
                    raise FileNotFoundError(f"no {pattern} in {folder}")
                return None
            return found[0]

        return cls(
            products=one("items_shuffle*.json", True),
            attributes=one("items_ins_v2*.json", True),
            human_instructions=one("items_human_ins*.json", False),
            human_goals=one("human_goals.json", False),
        )

    def fingerprint_parts(self) -> list[str]:
        parts = []
        for path in (self.products, self.attributes, self.human_instructions, self.human_goals):
            if path is None:
                parts.append("-")
            else:
                st = Path(path).stat()
                parts.append(f"{Path(path).resolve()}:{st.st_size}:{st.st_mtime_ns}")
        return parts

    def records(self) -> Iterator[RawRecord]:
        """Products in file order with their attribute entry and human instructions."""
        attributes = load_json(self.attributes)
        if not isinstance(attributes, dict):
            raise JSONDataError(f"{self.attributes}: expected an object keyed by asin")
        human = load_json(self.human_instructions) if self.human_instructions else {}
        if not isinstance(human, dict):
            raise JSONDataError(f"{self.human_instructions}: expected an object keyed by asin")
        seen: set[str] = set()
        for i, p in enumerate(iter_json_array(self.products)):
            if not isinstance(p, dict) or "asin" not in p or "name" not in p:
                raise JSONDataError(f"{self.products}: element {i} is not a product record (needs 'asin' and 'name')")
            asin = p["asin"]
            if asin in seen:  # the original keeps the first record of an asin
                continue
            seen.add(asin)
            yield RawRecord(product=p, attributes=attributes.get(asin) or {},
                            human_instructions=human.get(asin) or [])

    def human_goal_order(self) -> list[str] | None:
        if self.human_goals is None:
            return None
        order = load_json(self.human_goals)
        if not isinstance(order, list) or not all(isinstance(s, str) for s in order):
            raise JSONDataError(f"{self.human_goals}: expected a list of instruction strings")
        return order
