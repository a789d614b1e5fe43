"""The item page and its clickables as the original WebShop shows them, on the 1k sample.

Expected strings are built here from the sample's raw records with the original's rules
(princeton-nlp/WebShop: ``engine/engine.py`` ``load_products`` for the price tag, the option
names and values and ``Rating = 'N.A.'`` (its review loader is commented out);
``templates/item_page.html`` for the page order; ``envs/web_agent_text_env.py``: the simple
text mode joins the visible strings with `` [SEP] ``, and ``get_available_actions`` lists the
buttons first, lower-cased, then the option values)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from agent_gym.webshop import pages
from agent_gym.webshop.shop import ShopSession

BUTTONS_BEFORE = ["Back to Search", "< Prev"]
BUTTONS_AFTER = ["Description", "Features", "Reviews", "Buy Now"]


def _price_tag(pricing: str) -> str:
    if not pricing:
        return "$100.0"
    values = [float(Decimal(re.sub(r"[^\d.]", "", x))) for x in pricing.split("$")[1:]]
    return f"${values[0]}" if len(values) == 1 else f"${values[0]} to ${values[1]}"


def _options(record) -> list[tuple[str, list[str]]]:
    out = []
    for name, contents in (record.get("customization_options") or {}).items():
        if contents is None:
            continue
        out.append((name.lower(), [c["value"].strip().replace("/", " | ").lower() for c in contents]))
    return out


def _item_session(catalog, asin, **kwargs):
    goal = catalog.goal("synthetic", "test", 0)
    return goal, ShopSession(goal=goal, catalog=catalog, search_engine=None, page="item", asin=asin,
                             keywords=["x"], **kwargs)


@pytest.fixture(scope="module")
def records(sample_dir):
    return json.loads((sample_dir / "items_shuffle_1000.json").read_text())


def test_item_pages_read_as_the_originals(sample_catalog, records):
    picked = [r for r in records if _options(r)][:12] + [r for r in records if not _options(r)][:3]
    assert len(picked) == 15
    for r in picked:
        goal, s = _item_session(sample_catalog, r["asin"])
        opts = _options(r)
        expected = ["Instruction:", goal["instruction_text"], *BUTTONS_BEFORE]
        for name, values in opts:
            expected += [name, *values]
        expected += [r["name"].strip(), f"Price: {_price_tag(r.get('pricing', ''))}", "Rating: N.A.", *BUTTONS_AFTER]
        assert pages.render_text(s) == " [SEP] ".join(expected), r["asin"]
        clickables = [b.lower() for b in BUTTONS_BEFORE + BUTTONS_AFTER]
        for _, values in opts:
            clickables += [v for v in values if v not in clickables]
        assert s.clickables() == clickables, r["asin"]


def test_rating_and_page_order_are_switches(small_catalog):
    rated = next(p for p in small_catalog.products() if p.rating != "N.A." and p.options)
    _, s = _item_session(small_catalog, rated.asin)
    assert "Rating: N.A." in pages.render_text(s)
    assert s.clickables()[:6] == ["back to search", "< prev", "description", "features", "reviews", "buy now"]
    _, s = _item_session(small_catalog, rated.asin, show_rating=True, page_order_clickables=True)
    assert f"Rating: {rated.rating}" in pages.render_text(s)
    first_value = next(iter(rated.options.values()))[0]
    assert s.clickables()[:3] == ["back to search", "< prev", first_value]
    assert s.clickables()[-1] == "buy now"
