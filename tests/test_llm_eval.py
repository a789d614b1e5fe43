"""The LLM agents through ``agent-gym eval`` as a user runs them (issue 18), against the fake
OpenAI-compatible server of ``tests/fake_llm.py``: each benchmark's own prompt, what is counted
and recorded, secrets kept off disk, errors that skip one episode, resume and Ctrl-C."""

from __future__ import annotations

import json

import pytest

from agent_gym.eval.cli import main
from agent_gym.eval.runner import EvalConfig, _agent_kwargs, evaluate
from agent_gym.toy.keys import KeyDoorEnv
from agent_gym.webshop.prompt import AGENT_PROMPT
from fake_llm import fake_llm  # noqa: F401  (a fixture)

FAST = ["--agent-arg", "timeout=2", "--agent-arg", "max_retries=1", "--agent-arg", "backoff=0.01"]


def keydoor_args(server, out, n=2, *extra):
    return ["eval", "--env", "agent_gym/KeyDoor-v0", "--agent", "react", "--base-url", server.url,
            "--model", "fake", "-n", str(n), "--workers", "2", "--output", str(out), *FAST, *extra]


def test_each_benchmark_gets_its_own_prompt(fake_llm, tmp_path):  # noqa: F811
    server = fake_llm(default="Thought: left\nAction: go[left]")
    assert main(keydoor_args(server, tmp_path / "kd", 1)) == 0
    system = server.requests[0]["messages"][0]["content"]
    assert system.startswith(KeyDoorEnv.agent_prompt) and "Thought:" in system
    assert "shop" not in system.lower() and "search[" not in system
    # the same for hf (and any agent taking env_id): the harness names the env
    assert _agent_kwargs(EvalConfig(env_id="agent_gym/KeyDoor-v0", agent="hf"))["env_id"] == "agent_gym/KeyDoor-v0"
    from baselines.llm_common import agent_system_prompt

    assert agent_system_prompt("agent_gym/WebShop-v0").startswith(AGENT_PROMPT)
    assert "made-up episode" in agent_system_prompt("agent_gym/WebShop-v0")
    assert "made-up episode" not in agent_system_prompt("agent_gym/WebShop-v0", example=False)
