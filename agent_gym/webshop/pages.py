"""Rendering a ``ShopSession`` as the original's observation modes.

One page model, ``elements(session)``, lists the page's visible strings in order, each
with its role (plain text, button, option, product link). ``text`` joins the strings with
`` [SEP] `` (the original's ``simple`` mode), ``text_rich`` marks buttons, options and
product links as the original does (``[button] x [button_]``, ``[clicked button] x
[clicked button_]`` for chosen options and visited products, a ``You have clicked x.``
line per chosen option), ``html`` renders the same strings through the package's Jinja
templates (the site serves the same templates), and ``url`` is the page's address in the
original's URL scheme. Rendering reads the session and never changes it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from agent_gym.webshop.shop import BACK_TO_SEARCH, BUY_NOW, NEXT_PAGE, PREV_PAGE, PRODUCT_WINDOW, ShopSession

OBSERVATION_MODES = ("text", "text_rich", "html", "url")
BASE_URL = "http://127.0.0.1:3000"
TEMPLATES = Path(__file__).parent / "templates"

TEXT, BUTTON, OPTION, PRODUCT, HEADING = "text", "button", "option", "product", "heading"


def elements(s: ShopSession) -> list[tuple[str, str, dict]]:
    """The visible strings of the page in order: ``(role, text, extra)``."""
    out: list[tuple[str, str, dict]] = []
    add = lambda role, text, **extra: out.append((role, text, extra))  # noqa: E731
    if s.page == "done":
        add(TEXT, "Thank you for shopping with us!")
        add(TEXT, "Your score (min 0.0, max 1.0)")
        add(TEXT, f"{s.reward:.4f}".rstrip("0").rstrip(".") if s.reward else "0.0")
        return out
    if s.page == "search":
        add(HEADING, "WebShop")
    add(TEXT, "Instruction:")
    add(TEXT, s.goal["instruction_text"])
    if s.page == "search":
        add(BUTTON, "Search")
        return out
    add(BUTTON, BACK_TO_SEARCH)
    if s.page == "results":
        add(TEXT, f"Page {s.page_num} (Total results: {len(s.results)})")
        if s.page_num > 1:
            add(BUTTON, PREV_PAGE)
        if s.page_num * PRODUCT_WINDOW < len(s.results):
            add(BUTTON, NEXT_PAGE)
        for asin in s.page_results():
            p = s.catalog.get(asin)
            add(PRODUCT, asin, visited=asin in s.visited, image=p.main_image)
            add(TEXT, p.title)
            add(TEXT, p.price_tag)
        return out
    add(BUTTON, PREV_PAGE)
    p = s.product
    if s.page == "item":
        for name, values in p.options.items():
            add(TEXT, name)
            for value in values:
                add(OPTION, value, name=name, chosen=s.options.get(name) == value)
        add(TEXT, p.title, image=p.main_image, product_title=True)
        add(TEXT, f"Price: {p.price_tag}")
        add(TEXT, f"Rating: {p.rating if s.show_rating else 'N.A.'}")  # the original: always N.A.
        for sub in s.sub_pages():
            add(BUTTON, sub)
        add(BUTTON, BUY_NOW)
        return out
    # item sub page
    if s.sub_page == "Description":
        add(TEXT, p.description)
    elif s.sub_page == "Features":
        for bullet in p.bullet_points:
            add(TEXT, bullet)
    elif s.sub_page == "Reviews":
        for review in p.reviews:
            add(TEXT, str(review.get("title", "")))
            add(TEXT, str(review.get("score", "")))
            add(TEXT, str(review.get("body", "")))
    elif s.sub_page == "Attributes":
        for attr in p.attributes:
            add(TEXT, attr)
    return out


def render_text(s: ShopSession) -> str:
    return " [SEP] ".join(text.strip() for _, text, _ in elements(s) if text.strip())


def render_text_rich(s: ShopSession) -> str:
    clicked, lines = [], []
    for role, text, extra in elements(s):
        if not text.strip():
            continue
        if role == BUTTON:
            lines.append(f"[button] {text} [button_]")
        elif role == OPTION:
            if extra["chosen"]:
                lines.append(f"  [clicked button] {text} [clicked button_]")
                clicked.append(f"You have clicked {text}.\n")
            else:
                lines.append(f"  [button] {text} [button_]")
        elif role == PRODUCT:
            mark = "clicked button" if extra["visited"] else "button"
            lines.append(f"\n[{mark}] {text} [{mark}_]")
        else:
            lines.append(text)
    return "".join(reversed(clicked)) + "".join(line + "\n" for line in lines)


def render_url(s: ShopSession, session_id: str) -> str:
    sid = quote(session_id, safe="")
    kw = quote("+".join(s.keywords or []), safe="+")
    opts = quote(json.dumps(s.options, sort_keys=True), safe="")
    if s.page == "search":
        return f"{BASE_URL}/{sid}"
    if s.page == "results":
        return f"{BASE_URL}/search_results/{sid}/{kw}/{s.page_num}"
    if s.page == "item":
        return f"{BASE_URL}/item_page/{sid}/{s.asin}/{kw}/{s.page_num}/{opts}"
    if s.page == "item_sub":
        return f"{BASE_URL}/item_sub_page/{sid}/{s.asin}/{kw}/{s.page_num}/{s.sub_page}/{opts}"
    return f"{BASE_URL}/done/{sid}/{s.asin}/{opts}"


@lru_cache(maxsize=1)
def _jinja():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True)


def render_html(s: ShopSession, session_id: str = "env", links: dict | None = None) -> str:
    """The page as HTML. ``links`` lets the site supply real form targets."""
    return _jinja().get_template("page.html").render(
        s=s, elements=elements(s), session_id=session_id, links=links or {},
        TEXT=TEXT, BUTTON=BUTTON, OPTION=OPTION, PRODUCT=PRODUCT, HEADING=HEADING)


def render(s: ShopSession, mode: str, session_id: str = "env") -> str:
    if mode == "text":
        return render_text(s)
    if mode == "text_rich":
        return render_text_rich(s)
    if mode == "html":
        return render_html(s, session_id)
    if mode == "url":
        return render_url(s, session_id)
    raise ValueError(f"observation_mode must be one of {OBSERVATION_MODES}, got {mode!r}")
