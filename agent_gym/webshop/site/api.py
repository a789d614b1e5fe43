"""The remote-agent JSON API of the site, under ``/api/``: the Python env over HTTP.

Every API session holds a real ``WebShopEnv`` built on the site's catalog object, split and
goals, so observations, rewards, ``terminated``/``truncated`` and ``info`` (anchors
included) are exactly those of ``gym.make("agent_gym/WebShop-v0", ...)`` in process: the
code path is shared, not re-implemented.

=====================================  ===============================================
``POST /api/create``                   ``{"observation_mode"?, "max_steps"?, "goals"?, "split"?}``
                                       -> ``{"id", ...}`` (``goals``/``split`` only accepted
                                       when equal to the site's)
``POST /api/<id>/reset``               ``{"task_id"?: int, "seed"?: int}`` -> ``{"observation", "info"}``
``POST /api/<id>/step``                ``{"action": str}`` -> ``{"observation", "reward",
                                       "terminated", "truncated", "info"}``
``GET /api/<id>/observation``          the last ``{"observation", "info"}``
``POST /api/<id>/close``               ``{"closed": true}``
=====================================  ===============================================

Errors are JSON ``{"error", "message"}`` (the app's handler): 400 malformed JSON or
arguments (a non-string action: the env would raise ``TypeError``), 404 unknown or expired
id, 409 a step after the episode ended (or before the first reset), 413 a body over the
app's ``MAX_CONTENT_LENGTH``. Sessions are bounded in number and evicted when idle with the
site's ``SessionStore`` policy (and its limits); ids come from ``secrets``.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, jsonify

from agent_gym.core.env import EpisodeOverError
from agent_gym.webshop import pages
from agent_gym.webshop.env import WebShopEnv
from agent_gym.webshop.site.jsonbody import json_object
from agent_gym.webshop.site.sessions import SessionStore

bp = Blueprint("api", __name__, url_prefix="/api")

_CREATE_KEYS = {"observation_mode", "max_steps", "goals", "split"}


@dataclass
class ApiSession:
    sid: str
    env: WebShopEnv
    last_seen: float = field(default_factory=time.monotonic)
    started: bool = False
    observation: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class EnvStore(SessionStore):
    """``SessionStore``'s policy (LRU bound, idle eviction, strict id pattern) for envs."""

    def add(self, env: WebShopEnv) -> ApiSession:
        return self.insert(ApiSession(sid=secrets.token_urlsafe(18), env=env))


def _config() -> dict[str, Any]:
    return current_app.extensions["agent_gym"]


def _store() -> EnvStore:
    return EnvStore.of_app("api_store")


_body = json_object  # over MAX_CONTENT_LENGTH: 413 before it is read


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _session(sid: str) -> ApiSession:
    session = _store().get(sid)
    if session is None:
        abort(404, description="no such API session (unknown, closed or expired): POST /api/create")
    return session


@bp.post("/create")
def create():
    body = _body()
    config = _config()
    unknown = sorted(set(body) - _CREATE_KEYS)
    if unknown:
        abort(400, description=f"unknown fields {unknown[:5]}: expected some of {sorted(_CREATE_KEYS)}")
    mode = body.get("observation_mode", "text")
    if mode not in pages.OBSERVATION_MODES:
        abort(400, description=f"observation_mode must be one of {list(pages.OBSERVATION_MODES)}")
    max_steps = body.get("max_steps", 15)
    if not _is_int(max_steps) or max_steps < 1:
        abort(400, description="max_steps must be a positive integer")
    for key, kind in (("goals", "goals"), ("split", "split")):
        if key in body and body[key] != config[kind]:
            abort(400, description=f"this server serves {key}={config[kind]!r} only")
    env = WebShopEnv(split=config["split"], catalog=config["catalog"], goals=config["goals"],
                     observation_mode=mode, max_steps=max_steps)
    session = _store().add(env)
    return jsonify({"id": session.sid, "observation_mode": mode, "max_steps": max_steps,
                    "split": config["split"], "goals": config["goals"], "num_tasks": env.num_tasks})


@bp.post("/<sid>/reset")
def reset(sid: str):
    session = _session(sid)
    body = _body()
    task_id, seed = body.get("task_id"), body.get("seed")
    if task_id is not None and not _is_int(task_id):
        abort(400, description="task_id must be an integer")
    if seed is not None and (not _is_int(seed) or seed < 0):
        abort(400, description="seed must be a non-negative integer")
    with session.lock:
        try:
            obs, info = session.env.reset(seed=seed, options=None if task_id is None else {"task_id": task_id})
        except ValueError as exc:
            abort(400, description=str(exc)[:300])
        session.started, session.observation, session.info = True, obs, info
    return jsonify({"observation": obs, "info": info})


@bp.post("/<sid>/step")
def step(sid: str):
    session = _session(sid)
    body = _body()
    if "action" not in body:
        abort(400, description='missing "action"')
    action = body["action"]
    if not isinstance(action, str):
        abort(400, description=f"actions are str, got {type(action).__name__}")
    with session.lock:
        if not session.started:
            abort(409, description="call POST /api/<id>/reset before step")
        try:
            obs, reward, terminated, truncated, info = session.env.step(action)
        except EpisodeOverError:
            abort(409, description="the episode is over: POST /api/<id>/reset before step")
        session.observation, session.info = obs, info
    return jsonify({"observation": obs, "reward": reward, "terminated": terminated,
                    "truncated": truncated, "info": info})


@bp.get("/<sid>/observation")
def observation(sid: str):
    session = _session(sid)
    with session.lock:
        if not session.started:
            abort(409, description="call POST /api/<id>/reset first")
        return jsonify({"observation": session.observation, "info": session.info})


@bp.post("/<sid>/close")
def close(sid: str):
    session = _session(sid)
    _body()  # none expected, but a malformed one is still a 400
    _store().close(session.sid)
    with session.lock:
        session.env.close()
    return jsonify({"closed": True})
