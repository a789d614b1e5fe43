"""agent_gym/Crossroads-v0: the contract, the expert, random play at chance, recurring states."""

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import agent_gym  # noqa: F401
from agent_gym.core.env import EpisodeOverError
from agent_gym.eval.runner import EvalConfig, evaluate

ENV_ID = "agent_gym/Crossroads-v0"


def test_check_env_and_tasks():
    check_env(gym.make(ENV_ID).unwrapped, skip_render_check=True)
    assert gym.make(ENV_ID).unwrapped.num_tasks == 64
    assert gym.make(ENV_ID, depth=2, split="train").unwrapped.num_tasks == 16
    for bad in (dict(depth=0), dict(depth=9), dict(split="eval")):
        with pytest.raises(ValueError):
            gym.make(ENV_ID, **bad)


def test_expert_wins_every_task_and_a_wrong_turn_loses():
    env = gym.make(ENV_ID, expose_goal=True)
    for task_id in range(env.unwrapped.num_tasks):
        obs, info = env.reset(options={"task_id": task_id})
        for step in range(1, 5):
            assert info["available_actions"] == ["go[left]", "go[right]"] and f"Junction {step} of 4" in obs
            side = "left" if "to the left" in obs else "right"
            assert info["expert_action"] == f"go[{side}]"
            obs, reward, terminated, truncated, info = env.step(f"  Go[ {side.upper()} ] ")
        assert (reward, terminated, info["won"], info["page"]) == (1.0, True, True, "done")
        assert "You did it!" in obs and info["available_actions"] == []
    obs, info = env.reset(options={"task_id": 0})
    wrong = "go[right]" if "to the left" in obs else "go[left]"
    obs, reward, terminated, truncated, info = env.step(wrong)
    assert (reward, terminated, info["won"]) == (0.0, True, False) and "dead end" in obs
    with pytest.raises(EpisodeOverError):
        env.step("go[left]")


def test_invalid_actions_change_nothing_and_truncate():
    env = gym.make(ENV_ID, depth=2)
    obs, info = env.reset(options={"task_id": 3})
    anchor = info["anchor"]
    for k in range(3):
        new_obs, reward, terminated, truncated, info = env.step("open[door]" if k else "")
        assert info["invalid_action"] and info["error"] and reward == 0.0 and new_obs == obs
        assert info["anchor"] == anchor and not terminated
        assert not truncated
    # max_steps = depth + 2 = 4: the 4th step truncates
    obs, reward, terminated, truncated, info = env.step("nothing")
    assert truncated and not terminated and info["won"] is False


def test_the_same_junction_is_the_same_anchor_in_every_episode():
    env = gym.make(ENV_ID)
    a = [env.reset(options={"task_id": 5})[1]["anchor"] for _ in range(2)]
    b = env.reset(options={"task_id": 6})[1]["anchor"]
    assert a[0] == a[1] != b


def test_random_play_is_at_chance():
    results = evaluate(EvalConfig(env_id=ENV_ID, agent="random", split="test", progress=False))
    assert 0.0 < results["success_rate"] <= 20.0  # chance: 1/16 = 6.25%
    expert = evaluate(EvalConfig(env_id=ENV_ID, agent="expert", split="test", progress=False))
    assert expert["success_rate"] == 100.0
