"""The WebShop reward, with the original's rules and its breakdown.

    r = r_type * (matched attributes + matched options + [price <= price_upper])
               / (n_attributes + n_options + 1)

* type: ``r_type`` from query equality, category overlap (>= 2 shared ``›`` levels) and
  the share of the goal title's nouns found among the purchased title's nouns: 1 when any
  matches (title score > 0.2), 0.5 when none does, 0.1 when the title score is below 0.1,
  0 when it is 0;
* attributes: a goal attribute matches a product attribute with thefuzz
  ``token_set_ratio > 85``, or occurs as a substring of the title, bullets or description;
* options: each goal option matches a chosen option value with ``token_set_ratio > 85``
  after colour normalisation;
* price: 1 when the price charged is at most ``price_upper``.

Score-changing quirks of the original are the default; ``RewardRules`` turns on fixes:

* ``option_values``: synthetic goals keep options as a dict, and the original compares
  the chosen values with the dict's ``(name, value)`` *tuples* (thefuzz stringifies them),
  so e.g. a chosen ``"large"`` scores against ``"('size', 'large')"``. The fix compares
  values with values.
* ``no_subset_match``: ``token_set_ratio`` is 100 whenever one side's tokens are a subset of
  the other's (``"free"`` matches ``"gluten free"``); the fix also requires
  ``token_sort_ratio > 85``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from thefuzz import fuzz

from agent_gym.webshop.normalize import normalize_color
from agent_gym.webshop.product import Product

MATCH_THRESHOLD = 85


@dataclass(frozen=True)
class RewardRules:
    option_values: bool = False
    no_subset_match: bool = False

    @classmethod
    def fixed(cls) -> "RewardRules":
        return cls(option_values=True, no_subset_match=True)


ORIGINAL_RULES = RewardRules()


def _matches(a, b, rules: RewardRules) -> bool:
    if fuzz.token_set_ratio(a, b) <= MATCH_THRESHOLD:
        return False
    return not rules.no_subset_match or fuzz.token_sort_ratio(a, b) > MATCH_THRESHOLD


def type_reward(product: Product, goal: dict, goal_nouns) -> dict[str, Any]:
    query_match = product.query == goal["query"]
    bought_path = {x.strip() for x in product.product_category.split("›")}
    goal_path = {x.strip() for x in goal["product_category"].split("›")}
    category_match = len(bought_path & goal_path) >= 2
    if len(goal_nouns) == 0:
        title_score = 0.2
    else:
        title_score = len(set(product.title_nouns) & set(goal_nouns)) / len(goal_nouns)
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return {"r_type": r_type, "query_match": query_match, "category_match": category_match,
            "title_score": title_score}


def attribute_matches(product: Product, goal_attributes, rules: RewardRules = ORIGINAL_RULES) -> int:
    n = 0
    text_fields = None
    for g_attr in goal_attributes:
        if any(_matches(p_attr, g_attr, rules) for p_attr in product.attributes):
            n += 1
            continue
        if text_fields is None:
            text_fields = (product.title.lower(), " ".join(product.bullet_points).lower(), product.description.lower())
        if any(g_attr in text for text in text_fields):
            n += 1
    return n


def option_matches(chosen_values, goal_options, rules: RewardRules = ORIGINAL_RULES) -> int:
    if isinstance(goal_options, dict):
        goal_options = list(goal_options.values()) if rules.option_values else list(goal_options.items())
    chosen = [normalize_color(v) for v in chosen_values]
    wanted = [normalize_color(o) for o in goal_options]
    return sum(1 for g in wanted if any(_matches(p, g, rules) for p in chosen))


def compute_reward(product: Product, goal: dict, price: float, options: dict[str, str] | None = None,
                   goal_nouns=None, rules: RewardRules = ORIGINAL_RULES) -> tuple[float, dict[str, Any]]:
    """Score a purchase; returns ``(reward, breakdown)`` with the original breakdown keys.

    ``goal_nouns`` are the nouns of the goal's title (``goal["name"]``); the env passes the
    target product's precomputed ``title_nouns``. Without them they are computed with
    spaCy (slow, and needs the ``original`` extra).
    """
    options = options or {}
    if goal_nouns is None:
        goal_nouns = goal.get("name_nouns")
    if goal_nouns is None:
        from agent_gym.webshop.nouns import title_nouns

        goal_nouns = title_nouns(goal["name"])
    t = type_reward(product, goal, goal_nouns)
    n_att = len(goal["attributes"])
    n_opt = len(goal["goal_options"])
    denom = n_att + n_opt + 1
    r_price = (price <= goal["price_upper"]) if goal["price_upper"] > 0 else None
    att_hits = attribute_matches(product, goal["attributes"], rules)
    opt_hits = option_matches(list(options.values()), goal["goal_options"], rules)
    reward = (att_hits + opt_hits + (r_price or 0)) / denom * t["r_type"]
    info: dict[str, Any] = {
        "r_type": t["r_type"],
        "r_att": att_hits / n_att if n_att else 0.0,
        "w_att": n_att / denom,
        "query_match": t["query_match"],
        "category_match": t["category_match"],
        "title_score": t["title_score"],
    }
    if n_opt > 0:
        info["r_option"] = opt_hits / n_opt
        info["w_option"] = n_opt / denom
    if r_price is not None:
        info["r_price"] = r_price
        info["w_price"] = 1 / denom
    return reward, info
