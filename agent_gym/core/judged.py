"""Episodes scored by a judge (an outcome reward model) instead of the env's own reward.

WebRL (Qi et al. 2025) trains an outcome-supervised reward model (ORM) that reads a finished
trajectory and answers whether the task was done; it replaces the reward where an env has none
(WebArena tasks written by a curriculum have no checker). ``JudgedReward`` wraps any text env
so that an episode's reward comes from such a judge:

    from trainers.orm import ORMJudge
    env = JudgedReward(gym.make("agent_gym/KeyDoor-v0"), ORMJudge("runs/orm/final"))

Every step returns reward 0 until the episode ends; the last step returns the judge's score
(``binary=True``: 1.0 when the score is at least ``threshold``, else 0.0), ``info["won"]`` says
whether the judge accepted, and ``info["judge_score"]`` / ``info["env_reward"]`` /
``info["env_won"]`` keep both views (the env's may be meaningless for a task without a
checker). A judge is any callable ``judge(messages) -> float`` in [0, 1] over the chat
messages of ``judge_messages``; this module imports no torch (``trainers.orm`` holds the model).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

JUDGE_SYSTEM = ("You judge web and text agents. Read the task and what the agent did and saw, "
                "then answer YES if the agent completed the task, else NO.")
QUESTION = "Did the agent complete the task? Answer YES or NO."


def judge_messages(instruction: str, first_observation: str, steps: Sequence[tuple[str, str]],
                   max_observation_chars: int = 600, last_steps: int = 10) -> list[dict]:
    """The judge's prompt: the task, the first observation, then ``(action, observation)`` of
    the last ``last_steps`` steps, each observation cut to ``max_observation_chars`` (the final
    one kept in full up to that limit: it is where success shows)."""
    def cut(text: str) -> str:
        text = " ".join(str(text).split())
        return text if len(text) <= max_observation_chars else text[:max_observation_chars] + " ..."

    shown = list(steps)[-last_steps:] if last_steps else list(steps)
    lines = [f"Task: {instruction}", f"Start: {cut(first_observation)}"]
    if len(steps) > len(shown):
        lines.append(f"({len(steps) - len(shown)} earlier steps left out)")
    for k, (action, observation) in enumerate(shown, len(steps) - len(shown) + 1):
        lines.append(f"Step {k}: {action}\nResult: {cut(observation)}")
    lines.append(QUESTION)
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


class JudgedReward(gym.Wrapper):
    """The wrapped env's episodes rewarded by ``judge`` (see the module docstring)."""

    def __init__(self, env: gym.Env, judge: Callable[[list[dict]], float], threshold: float = 0.5,
                 binary: bool = True, **message_kwargs: Any):
        super().__init__(env)
        if not callable(judge):
            raise TypeError("judge must be callable: judge(messages) -> score in [0, 1]")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], not {threshold}")
        self.judge, self.threshold, self.binary = judge, threshold, binary
        self.message_kwargs = message_kwargs
        self._instruction, self._first, self._steps = "", "", []

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._instruction, self._first, self._steps = str(info.get("instruction", "")), obs, []
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._steps.append((str(action), obs))
        if not (terminated or truncated):
            return obs, 0.0, terminated, truncated, info
        score = float(self.judge(judge_messages(self._instruction, self._first, self._steps, **self.message_kwargs)))
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"the judge returned {score}, not a score in [0, 1]")
        info = dict(info)
        info.update(env_reward=float(reward), env_won=bool(info.get("won", False)), judge_score=score,
                    won=score >= self.threshold)
        return obs, (float(score >= self.threshold) if self.binary else score), terminated, truncated, info
