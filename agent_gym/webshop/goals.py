"""Goals (tasks) as the original WebShop builds them, with the prices seeded.

A goal is a dict with the original keys: ``asin``, ``category``, ``query``, ``name``,
``product_category``, ``instruction_text``, ``attributes``, ``price_upper``,
``goal_options`` (a list of option values for human goals, a ``{name: value}`` dict for
synthetic goals) and ``weight``.

* Human goals: one per crowd-sourced instruction that names at least one attribute.
* Synthetic goals: one per product instruction x combination of its option values.
* Price bound: among the multiples of $10 above the product's price, take the first four
  and draw two; the larger is ``price_upper`` (the original draws with the unseeded global
  ``random``, so its instruction texts change between runs; here the draw is seeded by
  the catalog seed and the goal, so the same catalog always gives the same texts).
* Order: the original shuffles the goal list with ``random.seed(233)``; test is goals
  [0:500], eval [500:1500], train the rest. When the original full list of human
  instructions (``human_goals.json``) is available, human goals take their index from it,
  so a subset of the catalog keeps the original's task ids and splits.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from agent_gym.webshop.product import Product

PRICE_RANGE = [10.0 * i for i in range(1, 100)]
NO_PRICE_BOUND = 1000000
SHUFFLE_SEED = 233
SPLIT_BOUNDS = {"test": (0, 500), "eval": (500, 1500), "train": (1500, None)}


def split_of(index: int) -> str:
    if index < 500:
        return "test"
    if index < 1500:
        return "eval"
    return "train"


def price_bound(price: float, rng: random.Random) -> tuple[float, str]:
    above = [p for p in PRICE_RANGE if p > price][:4]
    if len(above) >= 2:
        _, upper = sorted(rng.sample(above, 2))
        return upper, f", and price lower than {upper:.2f} dollars"
    return NO_PRICE_BOUND, ""


def _goal_rng(seed: int, kind: str, asin: str, k: int) -> random.Random:
    return random.Random(f"goal:{seed}:{kind}:{asin}:{k}")


def human_goals_for(product: Product, instructions: Sequence[dict], seed: int) -> list[dict]:
    """The human goals of one product (instructions without attributes are skipped)."""
    goals = []
    for k, ins in enumerate(instructions or ()):
        attributes = ins.get("instruction_attributes") or []
        if not attributes:
            continue
        upper, price_text = price_bound(product.price, _goal_rng(seed, "human", product.asin, k))
        goals.append({
            "asin": product.asin,
            "category": product.category,
            "query": product.query,
            "name": product.title,
            "product_category": product.product_category,
            "instruction_text": ins["instruction"].strip(".") + price_text,
            "attributes": list(attributes),
            "price_upper": upper,
            "goal_options": list(ins.get("instruction_options") or []),
            "weight": 1,
        })
    return goals


def synthetic_goals_for(product: Product, instruction: str | None, attributes: Sequence[str] | None,
                        seed: int) -> list[dict]:
    """The synthetic goals of one product: its instruction x every option combination."""
    if not instruction:
        return []
    if not attributes:
        raise ValueError(f"product {product.asin} has an instruction but no instruction_attributes")
    upper, price_text = price_bound(product.price, _goal_rng(seed, "synthetic", product.asin, 0))
    names = sorted(product.options)
    goals = []
    for combination in itertools.product(*(product.options[n] for n in names)):
        goal_options = dict(zip(names, combination))
        option_text = ", and ".join(f"{k}: {v}" for k, v in goal_options.items())
        option_text = " with " + option_text if option_text else ""
        goals.append({
            "asin": product.asin,
            "category": product.category,
            "query": product.query,
            "name": product.title,
            "product_category": product.product_category,
            "instruction_text": f"{instruction}{option_text}{price_text}",
            "attributes": list(attributes),
            "price_upper": upper,
            "goal_options": goal_options,
        })
    return goals


def shuffled_positions(n: int) -> list[int]:
    """``order[i]`` = the build position of the goal that lands at index ``i``.

    Same permutation as the original's ``random.seed(233); random.shuffle(goals)``.
    """
    order = list(range(n))
    random.Random(SHUFFLE_SEED).shuffle(order)
    return order


def instruction_key(text: str) -> str:
    """Matching key of an instruction: ``human_goals.json`` has the texts without apostrophes."""
    text = text.replace("'", "").replace("\u2019", "")
    return " ".join(text.strip().strip(".").lower().split())
