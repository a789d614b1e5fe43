"""The WebShop state machine: one implementation used by the environment and the site.

A ``ShopSession`` is one shopper on one goal. It knows the current page, what can be
clicked on it, and what an action does; it renders nothing (see ``pages``). Actions
follow the original grammar: ``search[keywords]`` and ``click[<clickable>]``, the
argument lower-cased; clickables are the lower-cased button texts, the product ids of a
results page and the option values of an item page.

Differences from the original, all fixes of behaviour that was only broken (scores are
unchanged for an agent that acts validly):

* search works only where the page has a search bar (the search page); the original text
  env searched from any page, though its own site cannot;
* ``< Prev`` and ``Next >`` exist only where the page shows them (no page past the last);
* an action that is not available is reported as invalid with a reason instead of being
  silently ignored;
* clicking an option value that appears under two option names selects it under the
  first name shown (the original kept whichever input it parsed last).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent_gym.webshop.product import Product
from agent_gym.webshop.reward import ORIGINAL_RULES, RewardRules, compute_reward

SEARCH_RETURN_N = 50
PRODUCT_WINDOW = 10
MAX_QUERY_CHARS = 1000

BACK_TO_SEARCH = "Back to Search"
PREV_PAGE = "< Prev"
NEXT_PAGE = "Next >"
BUY_NOW = "Buy Now"
SUB_PAGES = ("Description", "Features", "Reviews", "Attributes")

PAGES = ("search", "results", "item", "item_sub", "done")

_ACTION = re.compile(r"(.+)\[(.+)\]", re.DOTALL)


def parse_action(action: str) -> tuple[str, str | None]:
    """``"click[Buy Now]"`` -> ``("click", "Buy Now")``; the original's greedy pattern."""
    m = _ACTION.match(action)
    if m is None:
        return action, None
    return m.group(1), m.group(2)


@dataclass
class Outcome:
    reward: float = 0.0
    done: bool = False
    error: str | None = None


@dataclass
class ShopSession:
    goal: dict
    catalog: Any  # Catalog: products by asin
    search_engine: Any  # has .search(query, k) -> list[str]
    show_attrs: bool = False
    rules: RewardRules = ORIGINAL_RULES
    show_rating: bool = False  # the original shows "Rating: N.A." (its loader never reads ratings)
    page_order_clickables: bool = False  # item page: the original lists buttons, then option values
    page: str = "search"
    keywords: list[str] | None = None
    results: list[str] = field(default_factory=list)
    page_num: int = 1
    asin: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    sub_page: str | None = None
    visited: list[str] = field(default_factory=list)
    reward: float = 0.0
    reward_info: dict[str, Any] = field(default_factory=dict)

    # ----- what the page offers --------------------------------------------------------
    @property
    def has_search_bar(self) -> bool:
        return self.page == "search"

    @property
    def product(self) -> Product | None:
        return self.catalog.get(self.asin) if self.asin else None

    def page_results(self) -> list[str]:
        start = (self.page_num - 1) * PRODUCT_WINDOW
        return self.results[start:start + PRODUCT_WINDOW]

    def sub_pages(self) -> tuple[str, ...]:
        return SUB_PAGES if self.show_attrs else SUB_PAGES[:3]

    def clickables(self) -> list[str]:
        """Lower-cased clickable texts of the current page, in the original's order: its text
        env collects the page's buttons (in page order), then product links, then option
        values (``web_agent_text_env.get_available_actions``), so an item page lists ``back to
        search``, ``< prev``, the sub pages and ``buy now`` before its option values.
        ``page_order_clickables`` lists them as the page shows them instead."""
        if self.page == "search":
            return []
        if self.page == "done":
            return []
        out = [BACK_TO_SEARCH.lower()]
        if self.page == "results":
            if self.page_num > 1:
                out.append(PREV_PAGE.lower())
            if self.page_num * PRODUCT_WINDOW < len(self.results):
                out.append(NEXT_PAGE.lower())
            out.extend(a.lower() for a in self.page_results())
        elif self.page == "item":
            out.append(PREV_PAGE.lower())
            buttons = [s.lower() for s in self.sub_pages()] + [BUY_NOW.lower()]
            if not self.page_order_clickables:
                out.extend(buttons)
            for values in self.product.options.values():
                out.extend(v for v in values if v not in out)
            if self.page_order_clickables:
                out.extend(b for b in buttons if b not in out)
        elif self.page == "item_sub":
            out.append(PREV_PAGE.lower())
        return out

    def available_actions(self) -> list[str]:
        actions = ["search[<query>]"] if self.has_search_bar else []
        return actions + [f"click[{c}]" for c in self.clickables()]

    def state_key(self) -> dict[str, Any]:
        """What defines the page as the agent sees it (for anchors): no step count, no history.
        The query and result page define a results page; an item page shows neither, so they
        are not in its key: the same item page reached through two queries is one state, as in
        verl-agent, whose GiGPO anchors on the observation text (only where ``< prev`` leads
        differs, which the page does not show)."""
        key: dict[str, Any] = {"page": self.page}
        if self.page == "results":
            key["query"] = " ".join(self.keywords or [])
            key["page_num"] = self.page_num
        if self.page in ("item", "item_sub", "done"):
            key["asin"] = self.asin
            key["options"] = sorted(self.options.items())
        if self.page == "item_sub":
            key["sub_page"] = self.sub_page
        return key

    # ----- acting ----------------------------------------------------------------------
    def act(self, action: str) -> Outcome:
        if self.page == "done":
            return Outcome(error="the episode is over")
        name, arg = parse_action(action)
        if arg is None:
            return Outcome(error="malformed action: expected search[...] or click[...]")
        arg = arg.lower()
        name = name.strip()
        if name == "search":
            if not self.has_search_bar:
                return Outcome(error="no search bar on this page: click[back to search] first")
            if not arg.strip():
                return Outcome(error="empty search query")
            self.search(arg)
            return Outcome()
        if name == "click":
            return self.click(arg)
        return Outcome(error=f"unknown action {name[:40]!r}: expected search[...] or click[...]")

    def search(self, query: str) -> None:
        self.keywords = query[:MAX_QUERY_CHARS].split(" ")
        self.results = self.search_engine.search(" ".join(self.keywords), k=SEARCH_RETURN_N)
        self.page, self.page_num, self.asin, self.options, self.sub_page = "results", 1, None, {}, None

    def click(self, target: str) -> Outcome:
        if target not in self.clickables():
            return Outcome(error=f"{target[:60]!r} is not clickable on the {self.page} page")
        if target == BACK_TO_SEARCH.lower():
            self.page, self.keywords, self.results, self.asin, self.options, self.sub_page = "search", None, [], None, {}, None
            self.page_num = 1
        elif target == NEXT_PAGE.lower():
            self.page_num += 1
        elif target == PREV_PAGE.lower():
            if self.page == "results":
                self.page_num -= 1
            elif self.page == "item":
                self.page, self.asin, self.options = "results", None, {}
            else:  # a sub page goes back to its item page
                self.page, self.sub_page = "item", None
        elif self.page == "results":
            self.asin = target.upper()
            self.page, self.options = "item", {}
            if self.asin not in self.visited:
                self.visited.append(self.asin)
        elif target == BUY_NOW.lower():
            return self.buy()
        elif target in (s.lower() for s in self.sub_pages()):
            self.page, self.sub_page = "item_sub", next(s for s in SUB_PAGES if s.lower() == target)
        else:  # an option value
            for option_name, values in self.product.options.items():
                if target in values:
                    self.options[option_name] = target
                    break
        return Outcome()

    def buy(self) -> Outcome:
        product = self.product
        target = self.catalog.get(self.goal["asin"])
        self.reward, self.reward_info = compute_reward(
            product, self.goal, price=product.price, options=self.options,
            goal_nouns=target.title_nouns, rules=self.rules)
        self.page = "done"
        return Outcome(reward=self.reward, done=True)
