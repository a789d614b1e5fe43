"""``agent_gym/WebShop-v0``: the WebShop benchmark as a Gymnasium text environment."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from agent_gym.core.anchors import PagePatternSimilarity
from agent_gym.core.env import Outcome, TextEnv
from agent_gym.webshop import pages
from agent_gym.webshop.catalog import Catalog
from agent_gym.webshop.expert import OracleAgent
from agent_gym.webshop.prompt import AGENT_EXAMPLE, AGENT_PROMPT
from agent_gym.webshop.reward import ORIGINAL_RULES, RewardRules
from agent_gym.webshop.shop import ShopSession

# A page-pattern similarity for WebShop: an item page and its sub pages are related states
# (0.3). The table follows REMEMBERER (Zhang et al. 2023, "Large Language Models Are
# Semi-Parametric Reinforcement Learning Agents"), which matches experiences by page pattern;
# it is not GiGPO's: GiGPO groups equal observations, or with verl-agent's similarity option
# observations whose text is >= 0.95 alike (trainers.core.advantages, --group-by similar).
PAGE_SIMILARITY = PagePatternSimilarity({("item", "item_sub"): 0.3})

_CATALOGS: dict[str, Catalog] = {}
# what the reward and the pages read from a goal
EXTRA_GOAL_KEYS = ("asin", "category", "query", "name", "product_category", "instruction_text", "attributes",
                   "price_upper", "goal_options")


def resolve_catalog(catalog: Catalog | str | os.PathLike | None) -> Catalog:
    """A ``Catalog``, a folder (original files or a built catalog), or ``None`` for the default.

    Catalogs are shared per process: every env on the same catalog uses one store and one
    searcher.
    """
    if isinstance(catalog, Catalog):
        return catalog
    key = "default" if catalog is None else str(Path(catalog).resolve())
    if key not in _CATALOGS:
        _CATALOGS[key] = Catalog.default() if catalog is None else Catalog.from_folder(catalog)
    return _CATALOGS[key]


class WebShopEnv(TextEnv):
    """WebShop (Yao et al., NeurIPS 2022): find and buy the product an instruction describes.

    **Observations** (``str``, at most 2**20 characters) depend on ``observation_mode``:
    ``"text"`` (visible strings joined by ``" [SEP] "``, the default), ``"text_rich"``
    (buttons, options and product links marked), ``"html"`` or ``"url"``.

    **Actions** (``str``): ``search[keywords]`` on the search page and ``click[x]`` where
    ``x`` is one of the page's clickables (``back to search``, ``< prev``, ``next >``, a
    product id, an option value, ``description``, ``features``, ``reviews``, ``buy now``);
    the argument is lower-cased. ``info["available_actions"]`` lists them, with the
    template ``search[<query>]`` when searching is possible (also ``info["has_search_bar"]``).
    Any other string is an invalid action: nothing changes, the reward is 0 and
    ``info["error"]`` says why.

    **Reward**: 0 until ``click[buy now]``, then the original WebShop score in [0, 1]
    (``info["reward_info"]`` holds its breakdown, ``info["won"]`` is ``reward == 1``).

    **Episode end**: terminated on purchase; truncated after ``max_steps`` steps (default
    15, as in GiGPO/verl-agent; the original WebShop baselines allowed 100).

    **Arguments**: ``split`` (``"train"``, ``"eval"``, ``"test"``: goals [1500:], [500:1500],
    [0:500] of the seed-233 goal order), ``catalog`` (a ``Catalog``, a folder with the
    original files, or ``None`` for the default synthetic catalog), ``goals`` (``"human"``
    or ``"synthetic"``), ``observation_mode``, ``max_steps``, ``show_attrs`` (offer the
    Attributes sub page), ``reward_rules`` (``RewardRules``; the original's by default),
    ``expose_goal`` (put the goal dict in ``info["goal"]``: privileged, for oracle experts),
    ``extra_goals`` (more tasks after the split's: a list of goal dicts, or a JSONL file of
    them, re-read at each reset when it changed, so a curriculum can add tasks while envs
    run; task ``num_split_goals + k`` is extra goal ``k``; see ``trainers.curriculum``),
    ``show_rating`` (show the catalog's rating on item pages; the original always shows
    ``Rating: N.A.``, its loader never reading ratings), ``page_order_clickables`` (list an
    item page's clickables in page order; the original lists its buttons, then the option
    values).

    **Info**: ``task_id``, ``split``, ``instruction``, ``available_actions``,
    ``has_search_bar``, ``anchor``, ``page`` (``search``, ``results``, ``item``, ``item_sub``,
    ``done``), ``step``, ``invalid_action``, ``error`` and, at the end,
    ``won``, ``reward_info``.

    **Version history**: v0: initial version.
    """

    agent_prompt = AGENT_PROMPT
    agent_example = AGENT_EXAMPLE

    page_similarity = PAGE_SIMILARITY

    def __init__(self, split: str = "test", catalog: Catalog | str | os.PathLike | None = None,
                 goals: str = "human", observation_mode: str = "text", max_steps: int = 15,
                 show_attrs: bool = False, reward_rules: RewardRules = ORIGINAL_RULES,
                 expose_goal: bool = False, render_mode: str | None = None,
                 extra_goals: list[dict] | str | os.PathLike | None = None, show_rating: bool = False,
                 page_order_clickables: bool = False):
        super().__init__(split=split, max_steps=max_steps, render_mode=render_mode)
        if observation_mode not in pages.OBSERVATION_MODES:
            raise ValueError(f"observation_mode must be one of {pages.OBSERVATION_MODES}, got {observation_mode!r}")
        if goals not in ("human", "synthetic"):
            raise ValueError(f"goals must be 'human' or 'synthetic', got {goals!r}")
        self.catalog = resolve_catalog(catalog)
        self.goal_kind = goals
        self.observation_mode = observation_mode
        self.show_attrs = show_attrs
        self.reward_rules = reward_rules
        self.expose_goal = expose_goal
        self.show_rating = show_rating
        self.page_order_clickables = page_order_clickables
        self.session: ShopSession | None = None
        n = self.catalog.num_goals(goals, split)
        if n == 0:
            raise ValueError(
                f"this catalog has no {goals} goals in split {split!r} "
                f"(sizes: { {s: self.catalog.num_goals(goals, s) for s in ('train', 'eval', 'test')} }); "
                "choose another split or goals='synthetic'")
        self._n_tasks = n
        self._extra_source = extra_goals
        self._extra_stamp: Any = None
        self._extra: list[dict] = []
        self._load_extra_goals()

    def _load_extra_goals(self) -> None:
        """(Re-)read ``extra_goals``; every goal must name a catalog product and the fields the
        reward reads."""
        source = self._extra_source
        if source is None:
            return
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            stamp = path.stat().st_mtime_ns if path.is_file() else None
            if stamp == self._extra_stamp:
                return
            import json
            goals = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip()] if stamp is not None else []
            self._extra_stamp = stamp
        else:
            goals = list(source)
        for k, goal in enumerate(goals):
            missing = [key for key in EXTRA_GOAL_KEYS if key not in goal]
            if missing:
                raise ValueError(f"extra goal {k} lacks {missing}")
            if goal["asin"] not in self.catalog:
                raise ValueError(f"extra goal {k}: product {goal['asin']!r} is not in the catalog")
        self._extra = [copy.deepcopy(g) for g in goals]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._load_extra_goals()
        return super().reset(seed=seed, options=options)

    def _num_tasks(self) -> int:
        return self._n_tasks + len(self._extra)

    def _start_task(self, task_id: int) -> None:
        if task_id >= self._n_tasks:
            goal = copy.deepcopy(self._extra[task_id - self._n_tasks])
        else:
            goal = self.catalog.goal(self.goal_kind, self.split, task_id)
        self.session = ShopSession(goal=goal, catalog=self.catalog, search_engine=self.catalog.search_engine(),
                                   show_attrs=self.show_attrs, rules=self.reward_rules, show_rating=self.show_rating,
                                   page_order_clickables=self.page_order_clickables)
        self._expert: OracleAgent | None = None
        if self.expose_goal:  # the oracle plays beside the episode: info["expert_action"]
            self._expert = OracleAgent(max_steps=self.max_steps)
            self._expert.reset(goal["instruction_text"], {"goal": copy.deepcopy(goal)})
        self._expert_next: tuple[str, str] | None = None

    def _expert_action(self) -> str | None:
        if self._expert is None:
            return None
        info = {"page": self._page(), "available_actions": self._available_actions(), "step": self._steps,
                "goal": self.session.goal}
        self._expert_next = self._expert.act_with_thought(self._last_obs, info)
        return self._expert_next[1]

    def _expert_thought(self) -> str | None:
        return self._expert_next[0] if self._expert_next else None

    def _apply(self, action: str) -> Outcome:
        out = self.session.act(action)
        info: dict[str, Any] = {}
        if out.done:
            info = {"won": out.reward == 1.0, "reward_info": dict(self.session.reward_info)}
        return Outcome(reward=out.reward, done=out.done, error=out.error, info=info)

    def _observe(self) -> str:
        return pages.render(self.session, self.observation_mode, session_id=f"fixed_{self.task_id}")

    def _available_actions(self) -> list[str]:
        return self.session.available_actions()

    def _state_key(self) -> Any:
        return self.session.state_key()

    def _page(self) -> str:
        return self.session.page

    def _instruction(self) -> str:
        return self.session.goal["instruction_text"]

    def _extra_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"has_search_bar": self.session.has_search_bar}
        if self.expose_goal:  # privileged: for the expert and the oracle baseline only
            info["goal"] = copy.deepcopy(self.session.goal)
        return info
