"""Converting the original WebShop's human logs into trajectory records.

A human log is JSON Lines, one object per page view: ``{page, url, goal, content, reward?,
reward_info?}`` with page ``index``, ``search_results``, ``item_page``, ``item_sub_page`` or
``done``. Actions are implicit; they are inferred from consecutive page views:

* ``index`` after any other page: ``click[back to search]`` (a reload of the same page: nothing);
* ``search_results`` after ``index``: ``search[<keywords joined by spaces>]``; after a results
  page of the same keywords: ``click[next >]`` / ``click[< prev]`` per page moved; after an item
  page of the same keywords: ``click[< prev]``;
* ``item_page`` after a results page: ``click[<product id>]``; after the same item page: one
  ``click[<value>]`` per option that changed; after its sub page: ``click[< prev]``;
* ``item_sub_page``: ``click[<description|features|reviews|attributes>]`` (from the URL);
* ``done``: ``click[buy now]`` (after the option clicks the done page shows).

Where views are missing in between (a lost line), the shortest path of valid actions is
filled in and those steps carry ``info["inferred"] = True``. Observations are only known
for the search and done pages (the logs hold no page text); other steps have ``""``.
Malformed lines are reported as warnings naming ``file:line`` and skipped; a log that ends on
a ``done`` page becomes a trajectory ending with ``click[buy now]`` and the log's reward.
A log that goes on after a ``done`` page starts a new trajectory.
"""

from __future__ import annotations

import ast
import json
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from agent_gym.core.anchors import anchor_of
from agent_gym.core.trajectory import Trajectory, write_trajectories
from agent_gym.webshop.shop import SUB_PAGES

ENV_ID = "agent_gym/WebShop-v0"
OUR_PAGE = {"index": "search", "search_results": "results", "item_page": "item",
            "item_sub_page": "item_sub", "done": "done"}


class HumanLogWarning(UserWarning):
    """A human-log line that was skipped (the message names file and line)."""


@dataclass
class ConversionStats:
    files: int = 0
    sessions: int = 0
    actions: int = 0
    purchases: int = 0
    skipped_lines: int = 0
    inferred_actions: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "problems"}


# ----- page views -> states ------------------------------------------------------------------
def _keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(k) for k in value]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                parsed = None
            if isinstance(parsed, list):
                return [str(k) for k in parsed]
        return text.split(" ")
    raise ValueError(f"keywords must be a list or a string, got {type(value).__name__}")


def _sub_page(url: Any) -> str:
    if isinstance(url, str):
        parts = [unquote(p) for p in urlparse(url).path.split("/")]
        if len(parts) > 6 and parts[6] in SUB_PAGES:
            return parts[6]
        for part in parts:
            if part in SUB_PAGES:
                return part
    raise ValueError("no sub page name (Description, Features, Reviews, Attributes) in the url")


def view_state(view: dict) -> dict[str, Any]:
    """The page a log line shows, in ``ShopSession.state_key`` form (options as a dict)."""
    if not isinstance(view, dict):
        raise ValueError(f"a line must be a JSON object, got {type(view).__name__}")
    kind = OUR_PAGE.get(view.get("page"))
    if kind is None:
        raise ValueError(f"unknown page {str(view.get('page'))[:40]!r}")
    state: dict[str, Any] = {"page": kind}
    if kind == "search":
        return state
    content = view.get("content")
    if not isinstance(content, dict):
        raise ValueError(f"a {view['page']} line needs a content object")
    if kind in ("results", "item", "item_sub"):
        if "keywords" not in content:
            raise ValueError("missing content.keywords")
        state["query"] = " ".join(_keywords(content["keywords"]))
        state["page_num"] = int(content.get("page", 1))
    if kind in ("item", "item_sub", "done"):
        asin = content.get("asin")
        if not isinstance(asin, str) or not asin:
            raise ValueError("missing product id (content.asin)")
        options = content.get("options") or {}
        if not isinstance(options, dict):
            raise ValueError("content.options must be an object")
        state["asin"] = asin.upper()
        state["options"] = {str(k): str(v).lower() for k, v in options.items()}
    if kind == "item_sub":
        state["sub_page"] = _sub_page(view.get("url"))
    if kind == "done":
        reward = view.get("reward")
        if not isinstance(reward, (int, float)) or isinstance(reward, bool):
            raise ValueError("a done line needs a numeric reward")
    return state


def anchor(state: dict[str, Any]) -> str:
    """The anchor ``ShopSession.state_key`` gives the page: the query and result page count
    only on a results page (an item page does not show them)."""
    key = dict(state)
    if key.get("page") != "results":
        key.pop("query", None)
        key.pop("page_num", None)
    if "options" in key:
        key["options"] = sorted(key["options"].items())
    return anchor_of(key)


# ----- inferring actions ------------------------------------------------------------------------
def _option_clicks(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [f"click[{v}]" for k, v in after.items() if before.get(k) != v]


def _to_search(prev: dict) -> list[tuple[str, dict]]:
    return [] if prev["page"] == "search" else [("click[back to search]", {"page": "search"})]


def _to_results(prev: dict, query: str, page_num: int) -> list[tuple[str, dict]]:
    """Actions from ``prev`` to the results page ``page_num`` of ``query``."""
    page = prev["page"]
    same = prev.get("query") == query
    path: list[tuple[str, dict]] = []
    if page == "item_sub" and same:
        path.append(("click[< prev]", {k: v for k, v in prev.items() if k != "sub_page"} | {"page": "item"}))
        page = "item"
    if page == "item" and same:
        path.append(("click[< prev]", {"page": "results", "query": query, "page_num": prev["page_num"]}))
        start = prev["page_num"]
    elif page == "results" and same:
        start = prev["page_num"]
    else:
        path = _to_search(prev) + [(f"search[{query}]", {"page": "results", "query": query, "page_num": 1})]
        start = 1
    step = "click[next >]" if page_num > start else "click[< prev]"
    for n in range(abs(page_num - start)):
        num = start + (n + 1 if page_num > start else -(n + 1))
        path.append((step, {"page": "results", "query": query, "page_num": num}))
    return path


def _to_item(prev: dict, cur: dict) -> list[tuple[str, dict]]:
    """Actions from ``prev`` to the item page of ``cur`` (its product and options)."""
    item = {"page": "item", "query": cur.get("query", prev.get("query")),
            "page_num": cur.get("page_num", prev.get("page_num", 1)), "asin": cur["asin"]}
    if prev["page"] in ("item", "item_sub") and prev.get("asin") == cur["asin"]:
        path = []
        if prev["page"] == "item_sub":
            item = {**item, "query": prev.get("query"), "page_num": prev.get("page_num")}
            path.append(("click[< prev]", {**item, "options": dict(prev["options"])}))
        options = dict(prev["options"])
    else:
        path = _to_results(prev, item["query"], item["page_num"]) if item["query"] is not None else []
        path.append((f"click[{cur['asin'].lower()}]", {**item, "options": {}}))
        options = {}
    for k, v in cur["options"].items():
        if options.get(k) != v:
            options[k] = v
            path.append((f"click[{v}]", {**item, "options": dict(options)}))
    return path


def infer_actions(prev: dict, cur: dict) -> list[tuple[str, dict]]:
    """The actions (with the state each leads to) that take the shopper from ``prev`` to ``cur``.

    An empty list means ``cur`` is a reload of ``prev``.
    """
    if prev == cur and cur["page"] != "done":
        return []
    page = cur["page"]
    if page == "search":
        return _to_search(prev)
    if page == "results":
        return _to_results(prev, cur["query"], cur["page_num"])
    path = _to_item(prev, cur)
    if page == "item":
        return path
    if page == "item_sub":
        return path + [(f"click[{cur['sub_page'].lower()}]", cur)]
    return path + [("click[buy now]", cur)]  # done


# ----- observations we know -----------------------------------------------------------------------
def search_page_text(instruction: str) -> str:
    return f"WebShop [SEP] Instruction: [SEP] {instruction} [SEP] Search"


def done_page_text(reward: float) -> str:
    score = f"{reward:.4f}".rstrip("0").rstrip(".") if reward else "0.0"
    return f"Thank you for shopping with us! [SEP] Your score (min 0.0, max 1.0) [SEP] {score}"


# ----- files -> trajectories -------------------------------------------------------------------------
def _new_trajectory(goal: dict, source: str, session_id: str) -> Trajectory:
    instruction = str(goal.get("instruction_text", "")) if isinstance(goal, dict) else ""
    return Trajectory(env_id=ENV_ID, task_id=-1, instruction=instruction, observation=search_page_text(instruction),
                      agent="human", initial_info={"page": "search", "anchor": anchor({"page": "search"})},
                      meta={"source": source, "session_id": session_id, "goal": goal if isinstance(goal, dict) else None})


def convert_file(path: str | os.PathLike, stats: ConversionStats | None = None) -> list[Trajectory]:
    """The trajectories of one human-log file (usually one). Never raises on bad lines."""
    path = Path(path)
    stats = stats if stats is not None else ConversionStats()
    stats.files += 1

    def skip(lineno: int, why: str) -> None:
        msg = f"{path}:{lineno}: skipped: {why}"
        stats.skipped_lines += 1
        stats.problems.append(msg)
        warnings.warn(msg, HumanLogWarning, stacklevel=3)

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as exc:
        skip(0, f"cannot read the file ({exc})")
        return []
    session_id = path.stem
    out: list[Trajectory] = []
    traj: Trajectory | None = None
    state: dict | None = None
    last_done: dict | None = None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            view = json.loads(line)
            cur = view_state(view)
        except (ValueError, TypeError, KeyError) as exc:
            skip(lineno, str(exc)[:200] if not isinstance(exc, json.JSONDecodeError) else f"not JSON ({exc.msg})")
            continue
        if traj is None:
            if cur == last_done:  # a reload of the done page
                continue
            traj = _new_trajectory(view.get("goal"), f"{path.name}", session_id)
            state = {"page": "search"}
            out.append(traj)
        if cur["page"] == "search" and state["page"] == "search":
            continue
        path_actions = infer_actions(state, cur)
        instruction = traj.instruction
        for i, (action, to) in enumerate(path_actions):
            last = i == len(path_actions) - 1
            info: dict[str, Any] = {"page": to["page"], "anchor": anchor(to), "invalid_action": False,
                                    "step": len(traj.steps) + 1}
            if last and isinstance(view.get("url"), str):
                info["url"] = view["url"]
            if not last:
                info["inferred"] = True
                stats.inferred_actions += 1
            reward, done, obs = 0.0, False, ""
            if to["page"] == "search":
                obs = search_page_text(instruction)
            if last and cur["page"] == "done":
                reward, done = float(view["reward"]), True
                obs = done_page_text(reward)
                info.update(won=reward == 1.0, reward_info=dict(view.get("reward_info") or {}))
            step = traj.add_step(action, obs, reward, done, False, info)
            step.info.update({k: info[k] for k in ("url", "inferred", "reward_info") if k in info})
            stats.actions += 1
        state = cur
        if cur["page"] == "done":
            stats.purchases += 1
            traj, state, last_done = None, None, cur
    stats.sessions += len(out)
    return out


def _log_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files.extend(sorted(p.glob("*.jsonl")) if p.is_dir() else [p])
    return files


def convert_human_logs(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> tuple[list[Trajectory], ConversionStats]:
    """Convert log files and/or folders of ``*.jsonl`` logs; returns the trajectories and counts."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    stats = ConversionStats()
    trajectories: list[Trajectory] = []
    for file in _log_files(paths):
        trajectories.extend(convert_file(file, stats))
    return trajectories, stats


def convert_to_file(paths, output: str | os.PathLike) -> ConversionStats:
    trajectories, stats = convert_human_logs(paths)
    write_trajectories(output, trajectories)
    return stats
