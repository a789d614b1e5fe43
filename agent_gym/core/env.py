"""The text-environment contract every agent_gym benchmark implements.

``TextEnv`` owns the parts of the contract that are the same everywhere, so that each
benchmark only describes its own state machine:

* observations and actions are ``str`` (``TextSpace``); any string is a legal input to
  ``step``: an action that is malformed or not available now changes nothing, gives
  reward 0 and sets ``info["invalid_action"] = True`` with a short ``info["error"]``;
  a non-``str`` raises ``TypeError``; a step after the episode ended raises
  ``EpisodeOverError``. Two kinds of string are refused here, before a benchmark sees them,
  because no benchmark can use them and some break on them (a search index, a Java
  simulator, a UTF-8 log): strings that are not text (lone surrogates, which no UTF-8
  encoder accepts) and strings longer than the action space's ``max_length``;
* ``max_steps`` truncates (``truncated=True``);
* ``reset(seed=..., options={"task_id": i})`` starts task ``i`` of the split; without a
  task id, the task is drawn from the split with the env's seeded generator;
* ``info`` on every reset and step carries ``task_id``, ``instruction``,
  ``available_actions``, ``anchor``, ``page``, ``step``, ``invalid_action`` and, when the
  episode ends, ``won`` and the benchmark's reward breakdown.

Subclasses implement ``_num_tasks``, ``_start_task``, ``_apply``, ``_observe``,
``_available_actions``, ``_state_key``, ``_page`` and ``_instruction``; a benchmark with an
expert also implements ``_expert_action``, shown as ``info["expert_action"]`` only when the
env is made with ``expose_goal=True`` (privileged: for the ``expert`` baseline and for
demonstrations, never for an agent under evaluation).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from agent_gym.core.anchors import anchor_of
from agent_gym.core.spaces import action_space, clean_text, observation_space

SPLITS = ("train", "eval", "test")


class EpisodeOverError(RuntimeError):
    """Raised by ``step`` after the episode has terminated or been truncated."""


@dataclass
class Outcome:
    """What applying one action did. ``error`` set means the action was not applied."""

    reward: float = 0.0
    done: bool = False
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


def refuse_action(action: str, max_length: int) -> str | None:
    """Why no benchmark can apply ``action`` (``None`` when it may try): the error message,
    which never quotes the action (it may not be encodable)."""
    if len(action) > max_length:
        return f"the action is {len(action)} characters long; actions have at most {max_length}"
    try:
        action.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"the action is not text: it holds a lone surrogate (U+{ord(action[exc.start]):04X}) at {exc.start}"
    return None


class TextEnv(gym.Env[str, str], ABC):
    metadata = {"render_modes": ["ansi", "human"]}
    # what an LLM agent is told about the task and its actions (its system prompt, before the
    # reply format: agent_gym.core.prompts.system_prompt); None: a generic prompt
    agent_prompt: str | None = None
    # optionally, a short made-up episode in the react format that LLM baselines may show
    agent_example: str | None = None

    def __init__(self, split: str = "test", max_steps: int = 15, render_mode: str | None = None,
                 expose_goal: bool = False):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.split = split
        self.max_steps = max_steps
        self.render_mode = render_mode
        self.expose_goal = bool(expose_goal)
        self.action_space = action_space()
        self.observation_space = observation_space()
        self.task_id: int | None = None
        self._steps = 0
        self._over = True
        self._last_obs = ""

    # ----- what a benchmark implements -------------------------------------------------
    @abstractmethod
    def _num_tasks(self) -> int:
        ...

    @abstractmethod
    def _start_task(self, task_id: int) -> None:
        ...

    @abstractmethod
    def _apply(self, action: str) -> Outcome:
        ...

    @abstractmethod
    def _observe(self) -> str:
        ...

    @abstractmethod
    def _available_actions(self) -> list[str]:
        ...

    @abstractmethod
    def _state_key(self) -> Any:
        ...

    @abstractmethod
    def _page(self) -> str:
        ...

    @abstractmethod
    def _instruction(self) -> str:
        ...

    def _extra_info(self) -> dict[str, Any]:
        return {}

    def _expert_action(self) -> str | None:
        """The expert's next action (privileged); ``None`` where the benchmark has no expert."""
        return None

    def _expert_thought(self) -> str | None:
        """Why the expert takes its next action (shown as ``info["expert_thought"]``), if it says."""
        return None

    # ----- the contract ----------------------------------------------------------------
    @property
    def num_tasks(self) -> int:
        return self._num_tasks()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        n = self._num_tasks()
        if n == 0:
            raise RuntimeError(f"split {self.split!r} has no tasks")
        task_id = options.pop("task_id", None)
        if task_id is None:
            task_id = int(self.np_random.integers(0, n))
        elif isinstance(task_id, bool) or not isinstance(task_id, int) or not 0 <= task_id < n:
            raise ValueError(f"task_id must be an int in [0, {n}) for split {self.split!r}, got {task_id!r}")
        self.task_id = int(task_id)
        self._start_task(self.task_id)
        self._steps = 0
        self._over = False
        self._last_obs = clean_text(self._observe(), self.observation_space.max_length)
        return self._last_obs, self._info(invalid=False, error=None, extra={})

    def step(self, action: str):
        if not isinstance(action, str):
            raise TypeError(f"actions are str, got {type(action).__name__}")
        if self._over:
            raise EpisodeOverError("the episode is over: call reset() before step()")
        self._steps += 1
        refusal = refuse_action(action, self.action_space.max_length)
        outcome = Outcome(error=refusal) if refusal else self._apply(action)
        terminated = bool(outcome.done)
        truncated = not terminated and self._steps >= self.max_steps
        self._over = terminated or truncated
        self._last_obs = clean_text(self._observe(), self.observation_space.max_length)
        info = self._info(invalid=outcome.error is not None, error=outcome.error, extra=outcome.info)
        if self._over:
            info.setdefault("won", False)
        return self._last_obs, float(outcome.reward), terminated, truncated, info

    def _info(self, invalid: bool, error: str | None, extra: dict[str, Any]) -> dict[str, Any]:
        info = {
            "task_id": self.task_id,
            "split": self.split,
            "instruction": self._instruction(),
            "available_actions": self._available_actions(),
            "anchor": anchor_of(self._state_key()),
            "page": self._page(),
            "step": self._steps,
            "invalid_action": invalid,
        }
        if error is not None:
            info["error"] = error
        info.update(self._extra_info())
        info.update(extra)
        if self.expose_goal and not self._over:
            expert = self._expert_action()
            if expert is not None:
                info["expert_action"] = expert
                thought = self._expert_thought()
                if thought:
                    info["expert_thought"] = thought
        return info

    def render(self):
        if self.render_mode == "ansi":
            return self._last_obs
        if self.render_mode == "human":
            print(self._last_obs)
        return None
