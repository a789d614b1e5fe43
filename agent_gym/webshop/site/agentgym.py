"""AgentGym's WebShop server API, beside the site: ``agent-gym serve webshop --agentgym``.

AgentGym (Xi et al., 2024) drives WebShop through a small HTTP server
(``agentenv-webshop/agentenv_webshop/server.py``) that its client
(``agentenv/agentenv/envs/webshop.py``, ``WebshopEnvClient``) and trainers call. These
routes speak that API under ``/agentgym``, so the client runs unchanged with
``env_server_base="http://HOST:PORT/agentgym"``:

=====================================  ===============================================
``POST /create``                       -> ``int`` (the ``env_idx``; the env starts on a random goal)
``POST /reset``                        ``{"env_idx", "session_id"?}`` -> ``[observation, null]``
``POST /step``                         ``{"env_idx", "action"}`` -> ``{"state", "reward", "done",
                                       "info": null}``
``GET /observation?env_idx=``          the current observation (``str``)
``GET /available_actions?env_idx=``    ``{"has_search_bar": bool, "clickables": [str]}``
``GET /instruction_text?env_idx=``     ``"Instruction: ..."`` (the text of the page's heading)
``GET /state?env_idx=``                ``{"url", "html", "instruction_text"}``
``GET /list_envs``                     the open ``env_idx`` values
``POST /close``                        ``{"env_idx"}`` -> ``{"closed": true}`` (the client calls
                                       it; AgentGym's server lacks the route)
=====================================  ===============================================

Semantics follow AgentGym's server, which runs the original ``WebAgentTextEnv`` with
``observation_mode="text"`` and no ``human_goals`` argument, i.e. **synthetic goals**:
``session_id`` indexes the whole seed-233-shuffled synthetic goal list (AgentGym's task ids
are these indices), a missing ``session_id`` draws a goal at random, rewards are the
original score on ``click[buy now]`` and 0 otherwise, and there is no step limit of the
server's own (AgentGym's runner stops at its ``max_rounds``): ``MAX_STEPS`` here is only a
guard. Serve the original 1,000-product sample (``--catalog webshop-1k``) for scores
comparable with AgentGym's.

Every env is a real ``WebShopEnv`` on the site's catalog, so an episode here gives the same
observations and rewards as ``gym.make("agent_gym/WebShop-v0", goals="synthetic", ...)``
with the matching split and task id. Differences from AgentGym's server, on purpose: a step
after the purchase changes nothing and answers ``done: true`` with reward 0 (the original
reports ``done: false`` for it); an unknown ``env_idx`` is a 404 (the original raised a
500); envs are bounded in number and evicted when idle (the original recycled old env ids
after 8,000 creations, handing one env to two clients). Errors are JSON
``{"error", "message"}``: 400 malformed body or arguments, 404 unknown ``env_idx``.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request

from agent_gym.webshop import pages
from agent_gym.webshop.env import WebShopEnv
from agent_gym.webshop.goals import SPLIT_BOUNDS, split_of
from agent_gym.webshop.site.jsonbody import json_object
from agent_gym.webshop.site.sessions import SessionStore

PREFIX = "/agentgym"
GOALS = "synthetic"  # AgentGym's server leaves human_goals unset: the original loads synthetic goals
MAX_STEPS = 10_000  # a guard only: AgentGym's runner bounds episodes with its own max_rounds

bp = Blueprint("agentgym", __name__, url_prefix=PREFIX)


@dataclass
class AgentGymEnv:
    sid: int  # the env_idx (the store's key)
    env: WebShopEnv | None = None
    over: bool = False
    last_seen: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)


class EnvSlots(SessionStore):
    """``SessionStore``'s policy (LRU bound, idle eviction) keyed by integer ``env_idx``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._ids = itertools.count()

    def add(self) -> AgentGymEnv:
        return self.insert(AgentGymEnv(sid=next(self._ids)))

    @staticmethod
    def valid_id(env_idx) -> bool:
        return isinstance(env_idx, int)

    def ids(self) -> list[int]:
        with self._lock:
            return list(self._visits)


def _config() -> dict[str, Any]:
    return current_app.extensions["agent_gym"]


def _store() -> EnvSlots:
    return EnvSlots.of_app("agentgym_store")


def num_goals(catalog) -> int:
    return catalog.num_goals(GOALS)


def locate(goal_index: int) -> tuple[str, int]:
    """A goal-list index -> (split, task id within the split): test [0:500], eval [500:1500], train the rest."""
    split = split_of(goal_index)
    return split, goal_index - SPLIT_BOUNDS[split][0]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_body = json_object


def _env_idx(value: Any) -> int:
    if isinstance(value, str) and value.lstrip("-").isdigit():  # query strings carry text
        value = int(value)
    if not _is_int(value):
        abort(400, description=f"env_idx must be an integer, got {str(value)[:40]!r}")
    return value


def _slot(value: Any) -> AgentGymEnv:
    env_idx = _env_idx(value)
    slot = _store().get(env_idx)
    if slot is None:
        abort(404, description=f"no env {env_idx} (unknown, closed or expired): POST {PREFIX}/create")
    return slot


def _start(slot: AgentGymEnv, goal_index: int | None) -> str:
    """Start goal ``goal_index`` (random when ``None``) in the slot's env; the first observation."""
    catalog = _config()["catalog"]
    n = num_goals(catalog)
    if goal_index is None:
        goal_index = secrets.randbelow(n)
    elif not 0 <= goal_index < n:
        abort(400, description=f"session_id must be in [0, {n}): this catalog has {n} synthetic goals")
    split, task_id = locate(goal_index)
    if slot.env is None or slot.env.split != split:
        slot.env = WebShopEnv(split=split, catalog=catalog, goals=GOALS, observation_mode="text", max_steps=MAX_STEPS)
    obs, _ = slot.env.reset(options={"task_id": task_id})
    slot.over = False
    return obs


@bp.get("/")
def ok():
    return jsonify("ok")


@bp.get("/list_envs")
def list_envs():
    return jsonify(_store().ids())


@bp.post("/create")
def create():
    slot = _store().add()
    with slot.lock:
        _start(slot, None)  # as AgentGym's server: a new env is reset on a random goal
    return jsonify(slot.sid)


@bp.post("/reset")
def reset():
    body = _body()
    slot = _slot(body.get("env_idx"))
    session_id = body.get("session_id")
    if session_id is not None and not _is_int(session_id):
        abort(400, description="session_id must be an integer or null")
    with slot.lock:
        obs = _start(slot, session_id)
    return jsonify([obs, None])


@bp.post("/step")
def step():
    body = _body()
    slot = _slot(body.get("env_idx"))
    action = body.get("action")
    if not isinstance(action, str):
        abort(400, description=f'"action" must be a string, got {type(action).__name__}')
    with slot.lock:
        if slot.over:  # nothing changes after the purchase
            return jsonify({"state": slot.env._last_obs, "reward": 0.0, "done": True, "info": None})
        obs, reward, terminated, truncated, _ = slot.env.step(action)
        slot.over = terminated or truncated
    return jsonify({"state": obs, "reward": float(reward), "done": bool(slot.over), "info": None})


def _shop(slot: AgentGymEnv):
    return slot.env.session


@bp.get("/observation")
def observation():
    slot = _slot(request.args.get("env_idx"))
    with slot.lock:
        return jsonify(slot.env._last_obs)


@bp.get("/available_actions")
def available_actions():
    slot = _slot(request.args.get("env_idx"))
    with slot.lock:
        shop = _shop(slot)
        # the original lists the search page's "Search" button among the clickables (its step
        # refuses click[search]); ours has no such button, so add it back for the API
        clickables = ["search"] if shop.has_search_bar else []
        return jsonify({"has_search_bar": shop.has_search_bar, "clickables": clickables + shop.clickables()})


def _instruction(slot: AgentGymEnv) -> str:
    # the original reads the page's <h4>Instruction: <br>{text}</h4>: the <br> adds nothing
    return "Instruction: " + _shop(slot).goal["instruction_text"]


@bp.get("/instruction_text")
def instruction_text():
    slot = _slot(request.args.get("env_idx"))
    with slot.lock:
        return jsonify(_instruction(slot))


@bp.get("/state")
def state():
    slot = _slot(request.args.get("env_idx"))
    with slot.lock:
        shop, sid = _shop(slot), f"fixed_{slot.env.task_id}"
        return jsonify({"url": pages.render(shop, "url", session_id=sid),
                        "html": pages.render(shop, "html", session_id=sid),
                        "instruction_text": _instruction(slot)})


@bp.post("/close")
def close():
    body = _body()
    slot = _slot(body.get("env_idx"))
    _store().close(slot.sid)
    with slot.lock:
        if slot.env is not None:
            slot.env.close()
    return jsonify({"closed": True})
