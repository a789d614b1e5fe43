"""The expert baseline for every benchmark: it plays the benchmark's own expert.

A benchmark with an expert (WebShop's oracle, KeyDoor's optimal policy, ScienceWorld's gold
path, the BabyAI bot, ALFWorld's handcoded expert, ...) puts the expert's next action in
``info["expert_action"]`` (and its reason in ``info["expert_thought"]``, where it gives one)
when the env is made with ``expose_goal=True``, which the evaluation harness does for agents
that set ``needs_goal = True``. ``ExpertAgent`` plays that action.

    agent-gym eval --env agent_gym/KeyDoor-v0 --agent expert
"""

from __future__ import annotations


class ExpertAgent:
    name = "expert"
    needs_goal = True

    def __init__(self):
        self.last_thought: str | None = None

    def reset(self, instruction: str, info: dict) -> None:
        self.last_thought = None

    def act(self, observation: str, info: dict) -> str:
        if "expert_action" not in info:
            raise ValueError("ExpertAgent needs info['expert_action']: make the env with expose_goal=True "
                             "(agent-gym eval does this for agents with needs_goal) on a benchmark that has an expert")
        self.last_thought = info.get("expert_thought")
        return info["expert_action"]
