"""Expert demonstrations: oracle trajectories, and the same episodes as chat JSONL for SFT.

``agent-gym demos --split train --n 500 --output DIR`` runs the oracle expert through the
evaluation harness (so ``DIR/trajectories.jsonl`` holds trajectory records, resumable) and
writes ``DIR/chat.jsonl``: one conversation per successful episode, with the env's system prompt
(``agent_gym.core.prompts``), each observation (and the actions available on that page) as a user
turn and the expert's ``Thought: ...`` / ``Action: ...`` as the assistant turn that follows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from agent_gym.core.trajectory import Trajectory, read_trajectories

CHAT = "chat.jsonl"


def trajectory_to_chat(traj: Trajectory, system_prompt: str | None = None) -> dict[str, Any]:
    """One episode as ``{"messages": [...], ...}`` in the chat format of the LLM baselines (system
    prompt default: the env's ``agent_prompt`` with the react reply format)."""
    from agent_gym.core.prompts import agent_prompt_of, format_available, format_reply
    from agent_gym.core.prompts import system_prompt as react_system

    if system_prompt is None:
        system_prompt = react_system("react", agent_prompt_of(traj.env_id))
    messages = [{"role": "system", "content": system_prompt}]
    observation = traj.observation
    available = traj.initial_info.get("available_actions")
    for i, step in enumerate(traj.steps):
        head = f"Instruction: {traj.instruction}\n" if i == 0 else ""
        messages.append({"role": "user", "content": f"{head}Observation: {observation}\n\n{format_available(available)}"})
        messages.append({"role": "assistant", "content": format_reply(step.thought, step.action)})
        observation = step.observation
        available = step.info.get("available_actions")
    return {"messages": messages, "env_id": traj.env_id, "split": traj.split, "task_id": traj.task_id,
            "reward": traj.reward, "won": traj.won}


def write_chat(trajectories: Iterable[Trajectory], path: str | os.PathLike, only_won: bool = True) -> int:
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for traj in sorted(trajectories, key=lambda t: t.task_id):
            if only_won and not traj.won:
                continue
            f.write(json.dumps(trajectory_to_chat(traj), ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def make_demos(config, only_won: bool = True) -> dict[str, Any]:
    """Run the oracle with ``config`` (an ``EvalConfig`` with an output folder) and write the chat file."""
    from agent_gym.eval.runner import evaluate

    if not config.output:
        raise ValueError("demos need an output folder")
    results = evaluate(config)
    out = Path(config.output)
    n_chat = write_chat(read_trajectories(out / "trajectories.jsonl"), out / CHAT, only_won=only_won)
    return {**results, "chat_episodes": n_chat, "chat_path": str(out / CHAT)}
