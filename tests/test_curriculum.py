"""WebRL's curriculum (trainers/curriculum.py) on WebShop: new goals from failed ones are
accepted by the env (``extra_goals``) and scored by its reward (the oracle buys them for 1.0);
the critic's value band; the LLM rewriter keeps the goal's fields."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import agent_gym  # noqa: F401
from trainers.curriculum import LLMRewriter, critic_band, goal_for_product, webshop_goals_from_failures


def test_critic_band_keeps_the_middle():
    assert critic_band(["a", "b", "c", "d"], [0.01, 0.05, 0.5, 0.9]) == ["b", "c"]
    assert critic_band([1, 2], [0.3, 0.31], low=0.31, high=1.0) == [2]
    with pytest.raises(ValueError):
        critic_band([1], [0.1, 0.2])


def _play_oracle(env, task_id):
    from agent_gym.webshop.expert import OracleAgent

    obs, info = env.reset(options={"task_id": task_id})
    agent = OracleAgent()
    agent.reset(info["instruction"], info)
    while True:
        obs, reward, term, trunc, info = env.step(agent.act(obs, info))
        if term or trunc:
            return reward, info


def test_new_webshop_goals_are_accepted_and_scored(tmp_path):
    env = gym.make("agent_gym/WebShop-v0", split="train", expose_goal=True)
    base = env.unwrapped.num_tasks
    failed = []
    for task in (0, 1, 2):
        env.reset(options={"task_id": task})
        failed.append(dict(env.unwrapped.session.goal))
    new = webshop_goals_from_failures(env.unwrapped.catalog, failed, per_task=2, seed=0)
    sources = {f["instruction_text"]: f for f in failed}
    assert {g["curriculum"]["from"] for g in new} == set(sources) and 3 <= len(new) <= 6  # 1-2 per failed goal
    for g in new:
        source = sources[g["curriculum"]["from"]]
        assert g["query"] == source["query"]  # another product of that query (itself when it has none)
        assert g["instruction_text"] != source["instruction_text"]
    assert webshop_goals_from_failures(env.unwrapped.catalog, failed, per_task=2, seed=0) == new  # seeded
    path = tmp_path / "goals.jsonl"
    path.write_text("".join(json.dumps(g) + "\n" for g in new[:3]))
    cur = gym.make("agent_gym/WebShop-v0", split="train", expose_goal=True, extra_goals=str(path))
    assert cur.unwrapped.num_tasks == base + 3
    for k in range(3):
        obs, info = cur.reset(options={"task_id": base + k})
        assert info["instruction"] == new[k]["instruction_text"]
        reward, info = _play_oracle(cur, base + k)
        assert reward == 1.0 and info["won"], (new[k], info.get("reward_info"))
    path.write_text("".join(json.dumps(g) + "\n" for g in new))  # the curriculum adds goals: re-read at reset
    cur.reset(options={"task_id": 0})
    assert cur.unwrapped.num_tasks == base + len(new)
    reward, _ = _play_oracle(cur, base + len(new) - 1)
    assert reward == 1.0
    with pytest.raises(ValueError, match="task_id"):
        cur.reset(options={"task_id": base + len(new)})


def test_extra_goals_refuse_bad_goals():
    good = goal_for_product(next(iter(gym.make("agent_gym/WebShop-v0").unwrapped.catalog.products())),
                            __import__("random").Random(0))
    with pytest.raises(ValueError, match="lacks"):
        gym.make("agent_gym/WebShop-v0", extra_goals=[{k: v for k, v in good.items() if k != "attributes"}])
    with pytest.raises(ValueError, match="not in the catalog"):
        gym.make("agent_gym/WebShop-v0", extra_goals=[{**good, "asin": "NOPE"}])


def test_llm_rewriter_rewords_and_keeps_the_goal():
    class Client:
        def __init__(self):
            self.asked = []

        def complete(self, messages):
            self.asked.append(messages)
            from types import SimpleNamespace
            return SimpleNamespace(text=' "Could you find me ' + messages[-1]["content"] + '?" ')

    env = gym.make("agent_gym/WebShop-v0", split="train")
    env.reset(options={"task_id": 0})
    client = Client()
    new = webshop_goals_from_failures(env.unwrapped.catalog, [dict(env.unwrapped.session.goal)], seed=1,
                                      rewriter=LLMRewriter(client))
    plain = webshop_goals_from_failures(env.unwrapped.catalog, [dict(env.unwrapped.session.goal)], seed=1)
    assert new[0]["instruction_text"] == f"Could you find me {plain[0]['instruction_text']}?"
    assert {k: v for k, v in new[0].items() if k not in ("instruction_text", "curriculum")} == \
        {k: v for k, v in plain[0].items() if k not in ("instruction_text", "curriculum")}
    assert client.asked[0][0]["role"] == "system"
    empty = LLMRewriter(type("C", (), {"complete": lambda self, m: type("R", (), {"text": "  "})()})())
    assert empty.rewrite("keep me") == "keep me"
