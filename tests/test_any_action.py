"""Any string is a legal action in every registered env (the contract of ``TextEnv.step``).

Lone surrogates (which no UTF-8 encoder accepts), control characters and megabyte strings
included: the step returns, says the action was invalid when it was not applied, and leaves
the state as it was, so the next valid action still works. The default suite runs a few
examples per env; the slow suite many more.
"""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agent_gym  # noqa: F401  (registers the ids)
from agent_gym.registration import ENV_IDS
from agent_gym.webshop.site.app import MAX_BODY_BYTES

# how each registered env is made here, and the third-party package it needs
SETUPS = {
    "agent_gym/WebShop-v0": ({"goals": "synthetic"}, None),
    "agent_gym/KeyDoor-v0": ({}, None),
    "agent_gym/Crossroads-v0": ({}, None),
    "agent_gym/HotpotQA-v0": ({}, None),
    "agent_gym/MultiHopQA-v0": ({}, None),
    "agent_gym/Mind2Web-v0": ({}, None),
    "agent_gym/BabyAI-v0": ({}, "minigrid"),
    "agent_gym/Sokoban-v0": ({}, None),
    "agent_gym/ScienceWorld-v0": ({"task": "find-non-living-thing"}, "scienceworld"),
    "agent_gym/ALFWorld-v0": ({}, None),
    "agent_gym/TextWorld-Cooking-v0": ({"level": 1, "num_games": 1}, "textworld"),
    "agent_gym/TextWorld-CoinCollector-v0": ({"level": 2, "num_games": 1}, "textworld"),
}

SURROGATES = ["\ud800", "\udfff", "\udc80", "\ud83d"]  # lone halves (a pair would be one emoji)
CONTROLS = ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\u2028", "\r", "\n", "\t"]
HOSTILE = ["search[shirt \ud800]", "click[\udfff]", "\ud800", "go to countertop 1\udc80", "look\x00",
           "search[\x00\x1b[31m]", "\r\n", "click[back to search]\x85", "x" * (1 << 20), "search[" + "a " * 500_000 + "]"]
ALPHABET = st.one_of(st.sampled_from(SURROGATES + CONTROLS + list("[] ab1.<>")), st.characters())
WORDS = st.sampled_from(["search", "click", "go to", "take", "look", "answer", "finish", "move", "open", ""])
ACTIONS = st.one_of(
    st.text(ALPHABET, max_size=40),
    st.builds(lambda w, a: f"{w}[{a}]", WORDS, st.text(ALPHABET, max_size=30)),
    st.builds(lambda w, a: f"{w} {a}", WORDS, st.text(ALPHABET, max_size=30)),
    st.sampled_from(HOSTILE),
)


# a JVM start (~5 s) and 0.2 s a step: its share of the property runs in the slow suite
SLOW_ENVS = {"agent_gym/ScienceWorld-v0"}


@pytest.fixture(scope="module", params=[pytest.param(i, marks=[pytest.mark.slow] if i in SLOW_ENVS else [])
                                        for i in sorted(SETUPS)])
def env(request):
    env_id = request.param
    kwargs, needs = SETUPS[env_id]
    if needs:
        pytest.importorskip(needs)
    if env_id == "agent_gym/WebShop-v0":
        kwargs = {**kwargs, "catalog": request.getfixturevalue("small_catalog")}
    e = gym.make(env_id, **kwargs).unwrapped
    yield e
    e.close()


def test_every_registered_env_is_covered():
    assert sorted(SETUPS) == sorted(ENV_IDS)


def _valid_action(info) -> str | None:
    for action in info["available_actions"]:
        if "<" not in action:  # not a template such as search[<query>]
            return action
    return None


def check_actions(env, actions) -> None:
    obs, info = env.reset(options={"task_id": 0})
    for action in actions:
        before = (info["anchor"], info["page"], info["available_actions"])
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(obs, str) and isinstance(info["invalid_action"], bool)
        assert info["invalid_action"] == ("error" in info)
        unencodable = any("\ud800" <= ch <= "\udfff" for ch in action)
        if unencodable or len(action) > env.action_space.max_length:
            assert info["invalid_action"] and reward == 0.0 and not terminated, repr(action[:50])
            assert (info["anchor"], info["page"], info["available_actions"]) == before
        if info["invalid_action"]:
            assert info["anchor"] == before[0] and reward == 0.0
            # the error is plain text: any log or JSON writer takes it
            info["error"].encode("utf-8")
        if terminated or truncated:
            obs, info = env.reset(options={"task_id": 0})
            continue
        follow = _valid_action(info)
        if follow is not None and unencodable:  # the env still works after the bad action
            obs, reward, terminated, truncated, info = env.step(follow)
            if terminated or truncated:
                obs, info = env.reset(options={"task_id": 0})


def test_hostile_actions(env):
    check_actions(env, HOSTILE)


@settings(max_examples=4, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=1, max_size=5))
def test_any_action_is_legal(env, actions):
    check_actions(env, actions)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=1, max_size=8))
def test_any_action_is_legal_many(env, actions):
    check_actions(env, actions)


# ----- over the site's JSON API (WebShop) ------------------------------------------------------
@pytest.fixture(scope="module")
def api(small_catalog):
    from agent_gym.webshop.site import create_app

    client = create_app(catalog=small_catalog, split="test", goals="synthetic").test_client()
    sid = client.post("/api/create", json={}).get_json()["id"]
    return client, sid


def check_api_actions(api, actions) -> None:
    client, sid = api
    r = client.post(f"/api/{sid}/reset", json={"task_id": 0})
    assert r.status_code == 200
    for action in actions:
        before = client.get(f"/api/{sid}/observation").get_json()
        body = json.dumps({"action": action})  # ASCII with \ud800-style escapes, as any client sends
        r = client.post(f"/api/{sid}/step", data=body, content_type="application/json")
        if len(body) > MAX_BODY_BYTES:
            assert r.status_code == 413 and r.get_json()["error"]  # the documented refusal
        else:
            assert r.status_code == 200, r.get_data(as_text=True)[:300]
            step = r.get_json()
            if any("\ud800" <= ch <= "\udfff" for ch in action):
                assert step["info"]["invalid_action"] and step["observation"] == before["observation"]
                assert step["info"]["anchor"] == before["info"]["anchor"]
            if step["terminated"] or step["truncated"]:
                client.post(f"/api/{sid}/reset", json={"task_id": 0})
                continue
        # the session still serves the state it is in, and a valid action still works
        now = client.get(f"/api/{sid}/observation").get_json()
        follow = _valid_action(now["info"])
        if follow is not None:
            r = client.post(f"/api/{sid}/step", json={"action": follow})
            assert r.status_code == 200
            if r.get_json()["terminated"] or r.get_json()["truncated"]:
                client.post(f"/api/{sid}/reset", json={"task_id": 0})


def test_hostile_actions_over_the_api(api):
    check_api_actions(api, HOSTILE)


@settings(max_examples=5, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=1, max_size=4))
def test_any_action_is_legal_over_the_api(api, actions):
    check_api_actions(api, actions)


def test_hostile_actions_over_the_agentgym_api(small_catalog):
    """AgentGym's WebShop API (``serve --agentgym``) steps the same env: the same guarantees."""
    from agent_gym.webshop.site import create_app

    client = create_app(catalog=small_catalog, split="test", goals="synthetic", agentgym=True).test_client()
    idx = client.post("/agentgym/create").get_json()
    client.post("/agentgym/reset", json={"env_idx": idx, "session_id": 0})
    for action in HOSTILE:
        before = client.get("/agentgym/observation", query_string={"env_idx": idx}).get_json()
        body = json.dumps({"env_idx": idx, "action": action})
        r = client.post("/agentgym/step", data=body, content_type="application/json")
        if len(body) > MAX_BODY_BYTES:
            assert r.status_code == 413
            continue
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        if any("\ud800" <= ch <= "\udfff" for ch in action):
            assert r.get_json()["state"] == before and r.get_json()["reward"] == 0.0
        if r.get_json()["done"]:
            client.post("/agentgym/reset", json={"env_idx": idx, "session_id": 0})
    r = client.post("/agentgym/step", json={"env_idx": idx, "action": "search[shirt]"})
    assert r.status_code == 200 and not r.get_json()["done"]
