"""WebShop's expert, the oracle: knows the goal (``info["goal"]``) and shops for its target product.

As every benchmark's expert, it is shown by the env made with ``expose_goal=True``: WebShopEnv
then runs an ``OracleAgent`` beside the episode and puts its next action and thought in
``info["expert_action"]`` / ``info["expert_thought"]`` (what the ``expert`` baseline plays).
``OracleAgent`` is also the ``oracle`` baseline itself (``agent-gym eval --agent oracle``): it
needs the goal (the evaluation harness passes it to agents with ``needs_goal = True``) and
plays the site honestly otherwise: it only sees the pages, their clickables and its own goal.

Strategy, within the episode's step budget (``max_steps``, 15 by default):

1. search a query built from the goal: first the instruction text (as a human would),
   then, if the target is not found, the product title, then the title's words, then the
   goal's product query with its attributes;
2. on a results page, look for the target asin among the clickables; if it is not there,
   go to the next page (at most ``max_pages`` pages per query), or back to the search page
   to refine the query; paging and refining are budgeted so that the purchase always
   fits: opening the product, clicking the wanted options and ``buy now``;
3. on the target's page, click each goal option value the page offers (see
   ``plan_options``), then ``click[buy now]``;
4. if the target is never found, buy the best candidate of the last results page (the
   result whose title shares most words with the goal's product name) and record why
   in ``plan_failure_reason``.

Before every action it writes a short thought in the style of the ReAct WebShop prompts
(``last_thought``; ``act_with_thought`` returns both). Thoughts are varied but
deterministic: the variant is picked with ``zlib.crc32`` of the instruction and the step.

The module also has analysis helpers: ``best_achievable`` (the best score the target
itself can get under a reward's rules, and the options that get it) and
``explain_failure`` (why an oracle episode scored below 1).
"""

from __future__ import annotations

import itertools
import re
import zlib
from typing import Any

from thefuzz import fuzz

from agent_gym.webshop.normalize import normalize_color
from agent_gym.webshop.reward import ORIGINAL_RULES, RewardRules, compute_reward, option_matches

BACK, NEXT, PREV, BUY = "back to search", "next >", "< prev", "buy now"
SUB_PAGE_BUTTONS = ("description", "features", "reviews", "attributes")
FIXED_ITEM_BUTTONS = frozenset((BACK, PREV, BUY) + SUB_PAGE_BUTTONS)
FUZZ_MIN = 50  # the least token_set_ratio for a fuzzy option match; below it a value matches nothing

# why the oracle did not buy its target (``plan_failure_reason``)
NOT_FOUND = "target_not_found"
NO_BUDGET = "out_of_steps"

_WORD = re.compile(r"[a-z0-9]+(?:['.-][a-z0-9]+)*")
_MARKER = re.compile(r"^\[(?:clicked )?button\]\s*|\s*\[(?:clicked )?button_\]$")
_STOP = frozenset("a an the and or of for to in on with by at from x".split())


def _norm(text: str) -> str:
    return " ".join(str(text).lower().split())


def _words(text: str) -> list[str]:
    return _WORD.findall(str(text).lower())


def _clean_query(text: str) -> str:
    """A query the action grammar can carry: no brackets, single spaces, lower case."""
    return " ".join(re.sub(r"[\[\]]", " ", str(text)).lower().split())[:1000]


def _shorten(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3].rstrip() + "..."


def build_queries(goal: dict) -> list[str]:
    """The oracle's queries, in order: instruction, title, title words, query + attributes."""
    title_words = []
    for w in _words(goal.get("name", "")):
        if w not in _STOP and w not in title_words:
            title_words.append(w)
    candidates = [
        goal.get("instruction_text", ""),
        goal.get("name", ""),
        " ".join(title_words[:12]),
        " ".join([goal.get("query", "")] + list(goal.get("attributes") or [])),
    ]
    out: list[str] = []
    for q in candidates:
        q = _clean_query(q)
        if q and q not in out:
            out.append(q)
    return out


def page_tokens(observation: str) -> list[str]:
    """The visible strings of a ``text`` or ``text_rich`` observation, markers removed."""
    parts = re.split(r" \[SEP\] |\n", observation)
    return [t for t in (_MARKER.sub("", p).strip() for p in parts) if t]


def result_titles(observation: str, asins: list[str]) -> dict[str, str]:
    """``{asin: title}`` for the results shown (the string after each product id)."""
    tokens = page_tokens(observation)
    wanted = set(asins)
    out: dict[str, str] = {}
    for i, tok in enumerate(tokens[:-1]):
        a = tok.lower()
        if a in wanted and a not in out:
            out[a] = tokens[i + 1]
    return out


def option_groups(observation: str, values: list[str]) -> dict[str, list[str]] | None:
    """``{option name: values}`` of an item page, read from its observation.

    On an item page each option name (plain text) is followed by its values (clickables).
    Returns ``None`` when the grouping cannot be read (``html`` or ``url`` observations).
    """
    if not values:
        return {}
    value_set = set(values)
    tokens = [t.lower() for t in page_tokens(observation)]
    groups: dict[str, list[str]] = {}
    current = None
    for i, tok in enumerate(tokens):
        if tok in value_set and current is not None:
            groups[current].append(tok)
        elif i + 1 < len(tokens) and tokens[i + 1] in value_set and tok not in FIXED_ITEM_BUTTONS:
            current = tok
            groups.setdefault(current, [])
        elif current is not None:
            break
    seen = {v for vs in groups.values() for v in vs}
    if not seen >= value_set:
        return None
    return groups


def _fuzzy_score(wanted: str, value: str) -> int:
    return max(fuzz.token_set_ratio(wanted, value),
               fuzz.token_set_ratio(normalize_color(wanted), normalize_color(value)))


def plan_options(goal_options, values: list[str], groups: dict[str, list[str]] | None) -> list[str]:
    """The option values to click for ``goal_options`` among an item page's ``values``.

    ``goal_options`` is a list of wanted values (human goals) or ``{name: value}``
    (synthetic goals). Each wanted value is matched to the page's values: exactly, then
    ignoring case and whitespace, then by the best thefuzz ``token_set_ratio`` (at least
    ``FUZZ_MIN``; values that match nothing are skipped). With the option ``groups`` known,
    an option name is set once: a value is not clicked over an earlier, better match of the
    same option; a synthetic goal's value is looked for under its own name first.
    """
    if isinstance(goal_options, dict):
        wanted = [(str(v).lower(), str(k).lower()) for k, v in goal_options.items()]
    else:
        wanted = [(str(v).lower(), None) for v in goal_options or []]
    if not wanted or not values:
        return []
    group_of: dict[str, str] = {}
    if groups:
        for name, vs in groups.items():
            for v in vs:
                group_of.setdefault(v, name)
    chosen: dict[int, str] = {}
    claimed: set[str] = set()

    def pool(name):
        if groups and name in groups:
            return [v for v in groups[name]] + [v for v in values if v not in groups[name]]
        return list(values)

    def take(i, v):
        chosen[i] = v
        claimed.add(group_of.get(v, v))

    def free(v):
        return group_of.get(v, v) not in claimed

    passes = (
        lambda w, v: v == w,
        lambda w, v: _norm(v) == _norm(w),
    )
    for same in passes:
        for i, (w, name) in enumerate(wanted):
            if i in chosen:
                continue
            for v in pool(name):
                if free(v) and same(w, v):
                    take(i, v)
                    break
    for i, (w, name) in enumerate(wanted):
        if i in chosen:
            continue
        scored = [(_fuzzy_score(w, v), -k, v) for k, v in enumerate(pool(name)) if free(v)]
        if scored:
            score, _, v = max(scored)
            if score >= FUZZ_MIN:
                take(i, v)
    plan: list[str] = []
    for i in sorted(chosen):
        if chosen[i] not in plan:
            plan.append(chosen[i])
    return plan


def title_overlap(title: str, name: str) -> int:
    """How many distinct words ``title`` shares with ``name`` (the fallback's ranking)."""
    return len(set(_words(title)) & set(_words(name)))


# ----- thoughts ---------------------------------------------------------------------------
_THOUGHTS = {
    "search_first": (
        "I think I should use the search bar to look for {want}.",
        "I need to find {want}. I should search for it with the words of the instruction.",
        "Let me search for {want} first, with the instruction as the query.",
    ),
    "search_title": (
        "The instruction did not find it. I should search for the product's name instead: \"{query}\".",
        "I should try a more specific query this time, the product's name: \"{query}\".",
        "Let me search again with the exact product name: \"{query}\".",
    ),
    "search_words": (
        "The full name did not work either. Let me search with just its key words: \"{query}\".",
        "I should try a shorter query made of the name's main words: \"{query}\".",
    ),
    "search_type": (
        "Let me search for the kind of product and its features instead: \"{query}\".",
        "I should try a broader query with the product type and what it must have: \"{query}\".",
    ),
    "found": (
        "{asin} is the one I need ({title}). I should click on it.",
        "I see {asin} on this page; it matches what I am looking for, so I will open it.",
        "{asin} looks like exactly the product I want ({title}). Let me check it.",
    ),
    "next": (
        "The {ordinal} page does not have it, I should go to the next page.",
        "None of the results on page {page} is what I need. Let me look at the next page.",
        "I do not see the product here (page {page}); I should check the next page.",
    ),
    "back": (
        "I have looked through {pages} page(s) of results and the product is not there. I should go back to search and refine my query.",
        "These results do not include what I need. Let me go back and search with other words.",
        "The product I want is not among these results; I should go back to the search page.",
    ),
    "fallback_budget": (
        "I cannot find the exact product and I am running out of steps. {asin} ({title}) is the closest match, so I will take it.",
        "I am running out of steps. Among these results {asin} is the most similar to what I need; I should click it.",
    ),
    "fallback_exhausted": (
        "I have tried every query I can think of. {asin} ({title}) is the closest match, so I will take it.",
        "None of my searches found the exact product. Among these results {asin} is the most similar to what I need; I should click it.",
    ),
    "option": (
        "I need to select {value}.",
        "For {what}, the item has the option {value}; I should click it.",
        "The instruction asks for {value}, so I will choose that option.",
    ),
    "buy": (
        "Everything I need is selected. I should buy it now.",
        "This item matches the instruction and the options are set. Let me buy it.",
        "The product has what I need, so I should click buy now.",
    ),
    "buy_no_options": (
        "This item matches the instruction and there are no options to choose. I should buy it now.",
        "It looks good and needs no options; let me buy it.",
    ),
    "buy_hurry": (
        "I am almost out of steps, so I should buy it now.",
    ),
    "prev": (
        "I do not need this page. I should go back to the item.",
    ),
    "done": (
        "The purchase is done.",
    ),
}
_LEAD_IN = re.compile(
    r"^(?:find me|i(?:'m| am) (?:shopping for|looking for|searching for)|i (?:need|want|would like)(?: to (?:buy|find|get))?"
    r"|(?:please )?(?:get|buy|show|search for|look for)(?: me)?|can you (?:find|get)(?: me)?)\s+", re.IGNORECASE)
_PRICE_CLAUSE = re.compile(r",?\s*(?:and )?price (?:lower|less) than [\d.,]+ dollars\.?$", re.IGNORECASE)
_OPTION_CLAUSE = re.compile(r",?\s+(?:with|and) [a-z ]+: ", re.IGNORECASE)
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


class OracleAgent:
    """Buys the goal's target product; a thought before each action (``last_thought``).

    ``act(observation, info)`` returns the action (the agent protocol);
    ``act_with_thought(observation, info)`` returns ``(thought, action)``. After an episode,
    ``plan_failure_reason`` is ``None`` when the target was bought, otherwise
    ``"target_not_found"`` (the best candidate was bought instead) or ``"out_of_steps"``;
    ``bought_asin`` is what it bought, ``thoughts`` and ``actions`` the episode's record.
    """

    name = "oracle"
    needs_goal = True

    def __init__(self, max_steps: int = 15, max_pages: int = 5):
        self.max_steps = int(max_steps)
        self.max_pages = int(max_pages)
        self.goal: dict | None = None
        self.last_thought = ""
        self.plan_failure_reason: str | None = None

    # ----- episode --------------------------------------------------------------------
    def reset(self, instruction: str, info: dict) -> None:
        goal = info.get("goal")
        if not isinstance(goal, dict):
            raise ValueError("OracleAgent needs the goal: make the env with expose_goal=True "
                             "(the evaluation harness does this for agents with needs_goal = True)")
        self.goal = goal
        self.instruction = instruction
        self.target = str(goal["asin"]).lower()
        self.queries = build_queries(goal)
        self.query_index = -1  # index in self.queries of the current query
        self.pages_seen = 0  # results pages seen for the current query
        self.n_options = len(goal.get("goal_options") or ())
        self.option_plan: list[str] | None = None
        self.clicked_options: list[str] = []
        self.opened: str | None = None  # the asin of the item page we opened
        self.bought_asin: str | None = None
        self.found_target = False
        self.plan_failure_reason = None
        self.last_thought = ""
        self.thoughts: list[str] = []
        self.actions: list[str] = []
        self._step = 0

    def act(self, observation: str, info: dict) -> str:
        return self.act_with_thought(observation, info)[1]

    def act_with_thought(self, observation: str, info: dict) -> tuple[str, str]:
        if self.goal is None:
            self.reset(info.get("instruction", ""), info)
        step = int(info.get("step", self._step))
        thought, action = self._decide(observation, info, step)
        self._step = step + 1
        self.last_thought = thought
        self.thoughts.append(thought)
        self.actions.append(action)
        return thought, action

    # ----- helpers --------------------------------------------------------------------
    def _say(self, kind: str, step: int, **fields: Any) -> str:
        variants = _THOUGHTS[kind]
        key = f"{self.instruction}|{step}|{kind}".encode("utf-8")
        return variants[zlib.crc32(key) % len(variants)].format(**fields)

    def _what(self) -> str:
        return self.goal.get("query") or "the product"

    def _want(self) -> str:
        """What the instruction asks for, without its lead-in and price clause."""
        text = " ".join(str(self.goal.get("instruction_text") or self.instruction).split())
        text = _PRICE_CLAUSE.sub("", text)
        text = _OPTION_CLAUSE.split(text)[0].split(". ")[0]
        text = _LEAD_IN.sub("", text).strip(" ,.")
        words = text.split()
        return " ".join(words[:14]).rstrip(" ,.") or "the product I need"

    def _reserve(self) -> int:
        """Steps needed from a results page to buy: open the item, the options, buy now."""
        return 2 + self.n_options

    def _decide(self, observation: str, info: dict, step: int) -> tuple[str, str]:
        page = info.get("page")
        remaining = self.max_steps - step
        clickables = [a[len("click["):-1] for a in info.get("available_actions", [])
                      if a.startswith("click[") and a.endswith("]")]
        if page == "search":
            return self._search(step)
        if page == "results":
            return self._results(observation, clickables, step, remaining)
        if page == "item":
            return self._item(observation, clickables, step, remaining)
        if page == "item_sub":
            return self._say("prev", step), "click[< prev]"
        return self._say("done", step), "click[back to search]"

    def _search(self, step: int) -> tuple[str, str]:
        self.query_index = min(self.query_index + 1, len(self.queries) - 1)
        query = self.queries[self.query_index]
        self.pages_seen = 1
        self.opened = None
        kinds = ("search_first", "search_title", "search_words", "search_type")
        kind = kinds[min(self.query_index, len(kinds) - 1)]
        return self._say(kind, step, want=self._want(), query=_shorten(query)), f"search[{query}]"

    def _results(self, observation: str, clickables: list[str], step: int, remaining: int) -> tuple[str, str]:
        products = [c for c in clickables if c not in (BACK, NEXT, PREV)]
        titles = result_titles(observation, products)
        if self.target in products:
            self.opened, self.found_target = self.target, True
            self.option_plan = None
            title = _shorten(titles.get(self.target, self.goal.get("name", "")))
            return self._say("found", step, asin=self.target.upper(), title=title), f"click[{self.target}]"
        reserve = self._reserve()
        has_next = NEXT in clickables and self.pages_seen < self.max_pages
        more_queries = self.query_index + 1 < len(self.queries)
        if has_next and remaining - 1 >= reserve + (2 if more_queries else 0):
            page = self.pages_seen
            self.pages_seen += 1
            ordinal = _ORDINALS[page - 1] if page <= len(_ORDINALS) else f"{page}th"
            return self._say("next", step, ordinal=ordinal, page=page), "click[next >]"
        if more_queries and remaining - 2 >= reserve:
            return self._say("back", step, pages=self.pages_seen), "click[back to search]"
        if has_next and remaining - 1 >= reserve:
            page = self.pages_seen
            self.pages_seen += 1
            ordinal = _ORDINALS[page - 1] if page <= len(_ORDINALS) else f"{page}th"
            return self._say("next", step, ordinal=ordinal, page=page), "click[next >]"
        # the target is out of reach: buy the closest result on this page
        self.plan_failure_reason = NOT_FOUND
        if not products:
            return self._say("back", step, pages=self.pages_seen), "click[back to search]"
        name = self.goal.get("name", "")
        best = max(products, key=lambda a: (title_overlap(titles.get(a, ""), name), -products.index(a)))
        self.opened, self.option_plan = best, None
        kind = "fallback_exhausted" if not more_queries and not has_next else "fallback_budget"
        return (self._say(kind, step, asin=best.upper(), title=_shorten(titles.get(best, ""))),
                f"click[{best}]")

    def _item(self, observation: str, clickables: list[str], step: int, remaining: int) -> tuple[str, str]:
        values = [c for c in clickables if c not in FIXED_ITEM_BUTTONS]
        if self.option_plan is None:
            groups = option_groups(observation, values)
            self.option_plan = plan_options(self.goal.get("goal_options"), values, groups)
            self.clicked_options = []
        pending = [v for v in self.option_plan if v not in self.clicked_options and v in clickables]
        if pending and remaining >= 2:
            value = pending[0]
            self.clicked_options.append(value)
            return self._say("option", step, value=value, what=self._what()), f"click[{value}]"
        if pending:
            self.plan_failure_reason = self.plan_failure_reason or NO_BUDGET
            kind = "buy_hurry"
        else:
            kind = "buy" if self.option_plan else "buy_no_options"
        self.bought_asin = self.opened
        return self._say(kind, step), "click[buy now]"


# ----- analysis ---------------------------------------------------------------------------
def best_achievable(catalog, goal: dict, rules: RewardRules = ORIGINAL_RULES) -> tuple[float, dict, dict]:
    """The best score of the goal's own target: ``(reward, options, breakdown)``.

    Searches every combination of the target's option values that match at least one goal
    option under ``rules`` (an option left unset is a choice too), at the target's price.
    """
    target = catalog.get(goal["asin"])
    goal_options = goal.get("goal_options") or []
    names = list(target.options)
    choices = []
    for name in names:
        relevant = [v for v in target.options[name] if option_matches([v], goal_options, rules) > 0]
        choices.append([None] + relevant)
    best = (-1.0, {}, {})
    for combo in itertools.product(*choices):
        opts = {n: v for n, v in zip(names, combo) if v is not None}
        r, info = compute_reward(target, goal, price=target.price, options=opts,
                                 goal_nouns=target.title_nouns, rules=rules)
        if r > best[0]:
            best = (r, opts, info)
    return best


def unreachable_reasons(breakdown: dict) -> list[str]:
    """Which parts of a target's best breakdown keep it below 1."""
    out = []
    if breakdown.get("r_type", 1.0) < 1:
        out.append("type")
    if breakdown.get("w_att", 0) > 0 and breakdown.get("r_att", 1.0) < 1:
        out.append("attributes")
    if "r_option" in breakdown and breakdown["r_option"] < 1:
        out.append("options")
    if "r_price" in breakdown and not breakdown["r_price"]:
        out.append("price")
    return out


def explain_failure(catalog, goal: dict, reward: float, agent: OracleAgent | None = None,
                    rules: RewardRules = ORIGINAL_RULES) -> str:
    """Why an oracle episode on ``goal`` scored ``reward`` < 1.

    * ``"unreachable:<parts>"``: the target itself cannot score 1 under ``rules`` (parts:
      ``type``, ``attributes``, ``options``, ``price``), and the oracle got that best score;
    * ``"target_not_found"`` / ``"out_of_steps"``: the agent's ``plan_failure_reason``;
    * ``"wrong_options"``: the target was bought below its best score (a bug of the oracle);
    * ``"unexplained"``: anything else.
    """
    if reward >= 1.0:
        return "success"
    if agent is not None and agent.plan_failure_reason:
        return agent.plan_failure_reason
    best, _, breakdown = best_achievable(catalog, goal, rules)
    if best < 1.0 and reward >= best - 1e-9:
        return "unreachable:" + "+".join(unreachable_reasons(breakdown) or ["?"])
    if agent is not None and agent.bought_asin == str(goal["asin"]).lower():
        return "wrong_options"
    return "unexplained"
