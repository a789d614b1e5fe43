"""A trained policy as an agent of the evaluation harness, prompted exactly as it was trained.

    agent-gym eval --env agent_gym/WebShop-v0 --agent trainers.agent:PolicyAgent \
        --agent-arg model=runs/sft/final --agent-arg history=3 -n 100 --output runs/eval-sft

``PolicyAgent`` is a ``BatchAgent``: every slot keeps its own turns, all slots' prompts are
built with ``trainers.core.prompts.build_step_messages`` (the trainers' format, the env's
``agent_prompt`` when ``env_id`` is given) and answered in one greedy batch by
``HFGenerator``; replies are parsed with ``parse_response``. A NAT model acts with its
success mark: ``mark`` defaults to the one the NAT trainer wrote next to the model
(``nat.json``). A reply with no action is sent as it is (the env reports it invalid), as the
rollouts do. ``step_info(slot)`` gives the harness each step's raw reply, whether it parsed and
the tokens it generated (end-of-turn not counted), for the tokens-per-step figures of
``agent-gym eval``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agent_gym.core.prompts import Turn, format_observation


class PolicyAgent:
    name = "policy"

    def __init__(self, model: str, fmt: str = "react", history: int = 3, max_new_tokens: int = 128,
                 env_id: str | None = None, mark: str | None = None, batch_size: int | None = None,
                 device: str | None = None, dtype: str | None = None):
        from trainers.core.data import agent_prompt_of
        from trainers.core.generation import HFGenerator
        from trainers.core.policy import Policy
        from trainers.core.prompts import system_prompt

        self.policy = Policy.load(model, device=device, dtype=dtype)
        self.generator = HFGenerator(self.policy, max_new_tokens=max_new_tokens, do_sample=False,
                                     batch_size=batch_size)
        self.fmt, self.history = fmt, int(history)
        self.system = system_prompt(fmt, agent_prompt_of(env_id) if env_id else None)
        nat_file = Path(model) / "nat.json"
        self.mark = mark if mark is not None else (json.loads(nat_file.read_text())["mark"]
                                                   if nat_file.is_file() else None)
        self.name = f"policy:{Path(model).name}"
        self._slots: dict[int, dict[str, Any]] = {}
        self._last: dict[int, dict[str, Any]] = {}

    def reset(self, slot: int, instruction: str, info: dict) -> None:
        self._slots[slot] = {"instruction": instruction, "turns": []}

    def act_batch(self, slots: Sequence[int], observations: Sequence[str], infos: Sequence[dict]) -> list[str]:
        from trainers.core.prompts import build_step_messages, parse_response

        prompts, shown = [], []
        for slot, obs, info in zip(slots, observations, infos):
            state = self._slots[slot]
            text, note = format_observation(obs, info)
            shown.append((text, note))
            prompts.append(build_step_messages(state["instruction"], state["turns"], text,
                                               info.get("available_actions"), fmt=self.fmt, history=self.history,
                                               note=note, system=self.system, mark=self.mark))
        actions = []
        for slot, out, info, (text, note) in zip(slots, self.generator.generate(prompts), infos, shown):
            thought, action = parse_response(out.text, info.get("available_actions"), self.fmt)
            self._last[slot] = {"reply": out.text, "parse_failure": action is None, "fallback": False,
                                "prompt_tokens": len(out.prompt_ids),
                                "completion_tokens": len(out.response_ids) - int(bool(out.finished and out.response_ids))}
            action = out.text if action is None else action
            self._slots[slot]["turns"].append(Turn(observation=text, action=action, thought=thought, note=note))
            actions.append(action)
        return actions

    def step_info(self, slot: int) -> dict[str, Any]:
        return dict(self._last.get(slot, {}))
