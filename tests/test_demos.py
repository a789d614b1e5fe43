import json
from pathlib import Path

import gymnasium as gym
import pytest

import agent_gym  # noqa: F401
from agent_gym.core.trajectory import read_trajectories
from agent_gym.eval.demos import trajectory_to_chat, write_chat
from agent_gym.eval.runner import EvalConfig, evaluate
from agent_gym.webshop import Catalog

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "webshop_demos"


@pytest.fixture(scope="module")
def default_catalog():
    return Catalog.default()


def test_shipped_demos_replay_exactly(default_catalog):
    trajs = list(read_trajectories(SHIPPED / "trajectories.jsonl"))
    assert len(trajs) == 200 and all(t.won for t in trajs)
    env = gym.make("agent_gym/WebShop-v0", catalog=default_catalog, split="train")
    for traj in trajs[:25]:
        obs, info = env.reset(options={"task_id": traj.task_id})
        assert obs == traj.observation and info["instruction"] == traj.instruction
        for step in traj.steps:
            obs, reward, term, trunc, info = env.step(step.action)
            assert obs == step.observation and reward == step.reward and info["anchor"] == step.info["anchor"]
        assert term and reward == 1.0


def test_shipped_chat_file_is_sft_ready():
    lines = (SHIPPED / "chat.jsonl").read_text().splitlines()
    assert len(lines) == 200
    for line in lines[:50]:
        messages = json.loads(line)["messages"]
        assert messages[0]["role"] == "system"
        roles = [m["role"] for m in messages[1:]]
        assert roles == ["user", "assistant"] * (len(roles) // 2)
        assert messages[1]["content"].startswith("Instruction: ")
        for m in messages[2::2]:
            thought, action = m["content"].split("\n")
            assert thought.startswith("Thought: ") and action.startswith("Action: ")
        assert "Action: click[buy now]" in messages[-1]["content"]


def test_demos_command_output(small_catalog, tmp_path):
    config = EvalConfig(agent="oracle", split="test", n=6, env_kwargs={"catalog": small_catalog}, progress=False,
                        output=str(tmp_path))
    evaluate(config)
    trajs = list(read_trajectories(tmp_path / "trajectories.jsonl"))
    chat = trajectory_to_chat(trajs[0])
    assert len(chat["messages"]) == 1 + 2 * len(trajs[0].steps)
    assert all(s.thought for s in trajs[0].steps)  # the oracle's thoughts are recorded
    trajs[1].won = False
    assert write_chat(trajs, tmp_path / "chat.jsonl") == sum(t.won for t in trajs)
    assert write_chat(trajs, tmp_path / "all.jsonl", only_won=False) == len(trajs)
