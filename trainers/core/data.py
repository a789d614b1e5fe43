"""Training data as the policy sees it when it acts: one sample per agent step.

A rollout asks the model for each step with a prompt built by ``build_step_messages`` (the
system prompt, a window of past turns, the current observation and its available actions).
Trainers must score replies under exactly those prompts, or the model learns one format and
is asked in another. So every source of data, expert demonstrations recorded as trajectories
(``agent-gym demos``), evaluation runs, or the trainers' own rollouts, becomes a list of
``StepSample`` (prompt messages + reply), and a trajectory is scored as the sum of its steps'
reply log-probs: with a window that covers the whole episode this is the multi-turn
conversation log-likelihood of ETO/DPO; with a short window it is verl-agent's per-step
formulation.

``encode_step`` tokenizes a sample as ``policy.encode(prompt) + reply tokens + end-of-turn``
with the mask on the reply and its end-of-turn token only; a reply sampled by the policy keeps
its sampled token ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_gym.core.prompts import Turn, agent_prompt_of, format_observation
from trainers.core.prompts import build_step_messages, format_reply, system_prompt


@dataclass
class StepSample:
    messages: list[dict]              # the prompt, as the policy was (or would be) asked
    response: str                     # the reply text
    response_ids: list[int] | None = None  # the sampled tokens, when the policy wrote the reply


@dataclass
class TrajectorySample:
    task_id: int
    steps: list[StepSample]
    reward: float = 0.0
    won: bool = False
    source: str = ""                  # "expert", "policy", ...
    meta: dict[str, Any] = field(default_factory=dict)


def check_messages(messages) -> list[dict]:
    """``messages`` if it is a non-empty list of ``{"role": str, "content": str}``; else ValueError
    (readers of data files add the file and line)."""
    if not (isinstance(messages, list) and messages and
            all(isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
                for m in messages)):
        raise ValueError("messages must be a non-empty list of {role, content} objects with string values")
    return messages


def trajectory_to_samples(traj, fmt: str = "react", history: int = 3, system: str | None = None,
                          max_observation_chars: int | None = 4000, source: str | None = None,
                          thoughts: bool = True) -> TrajectorySample:
    """A recorded ``Trajectory`` (or a rollout ``Episode``) as step samples.

    A ``Trajectory`` is re-prompted with ``build_step_messages`` (``system`` default: the
    env's own, ``system_prompt(fmt, agent_prompt_of(traj.env_id))``); an ``Episode`` keeps the
    prompts and sampled tokens it was generated with. ``thoughts=False`` leaves the recorded
    thoughts out of the replies (action-only replies)."""
    if hasattr(traj, "steps") and traj.steps and hasattr(traj.steps[0], "messages"):  # a rollout Episode
        steps = [StepSample(list(s.messages), s.response, list(s.response_ids)) for s in traj.steps]
        return TrajectorySample(traj.task_id, steps, float(traj.total_reward), bool(traj.won), source or "policy")
    if system is None:
        system = system_prompt(fmt, agent_prompt_of(traj.env_id))
    turns: list[Turn] = []
    observation, info = traj.observation, dict(traj.initial_info)
    info.setdefault("invalid_action", False)
    steps = []
    for step in traj.steps:
        obs, note = format_observation(observation, info, max_observation_chars)
        messages = build_step_messages(traj.instruction, turns, obs, info.get("available_actions"), fmt=fmt,
                                       history=history, note=note, max_observation_chars=max_observation_chars,
                                       system=system)
        thought = step.thought if thoughts else None
        steps.append(StepSample(messages, format_reply(thought, step.action, fmt)))
        turns.append(Turn(observation=obs, action=step.action, thought=thought, note=note))
        observation, info = step.observation, step.info
    return TrajectorySample(int(traj.task_id), steps, float(traj.reward), bool(traj.won),
                            source or (traj.agent or ""), meta={"env_id": traj.env_id})


def encode_step(policy, sample: StepSample, max_length: int | None = None) -> dict[str, list[int]]:
    """``{"input_ids", "labels_mask"}``: the prompt, then the reply and its end-of-turn token
    (masked 1). A prompt too long for ``max_length`` loses tokens from its start (the system
    prompt first: keep ``max_length`` above the prompts you build)."""
    prompt = policy.encode(sample.messages)
    if sample.response_ids is not None:
        reply = list(sample.response_ids)
    else:
        tok = policy.tokenizer
        reply = list(tok(sample.response, add_special_tokens=False)["input_ids"]) + [tok.eos_token_id]
    ids, mask = prompt + reply, [0] * len(prompt) + [1] * len(reply)
    if max_length is not None and len(ids) > max_length:
        ids, mask = ids[-max_length:], mask[-max_length:]
    return {"input_ids": ids, "labels_mask": mask}


def flatten(trajectories: Iterable[TrajectorySample]) -> list[StepSample]:
    return [s for t in trajectories for s in t.steps]


def dedupe(trajectories: Sequence[TrajectorySample]) -> list[TrajectorySample]:
    """Trajectories with distinct (task, replies) kept once, in order (RFT keeps distinct
    successes per task, Yuan et al. 2023)."""
    seen, out = set(), []
    for t in trajectories:
        key = (t.task_id, tuple(s.response.strip() for s in t.steps))
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def write_step_samples(path, samples: Iterable[StepSample]) -> int:
    """Step samples as JSON lines ``{"prompt", "response", "response_ids"?}`` (``trainers.sft``
    reads them), written atomically; returns how many."""
    import json
    import os
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for s in samples:
            record = {"prompt": s.messages, "response": s.response}
            if s.response_ids is not None:
                record["response_ids"] = list(s.response_ids)
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def with_mark(sample: StepSample, mark: str) -> StepSample:
    """The sample with ``mark`` as the last line of its request (NAT's success/failure mark),
    as ``build_step_messages(..., mark=)`` writes it."""
    messages = [dict(m) for m in sample.messages]
    last = max(i for i, m in enumerate(messages) if m.get("role") == "user")
    messages[last]["content"] = messages[last]["content"] + "\n" + mark
    return StepSample(messages, sample.response, sample.response_ids)
