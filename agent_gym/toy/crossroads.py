"""``agent_gym/Crossroads-v0``: follow a sound through a few junctions (online-RL tests).

The smallest multi-step task on which an RL trainer must assign credit to steps: ``depth``
junctions in a row, two ways at each, a cue in every observation saying which way is right,
a reward only at the end. Random play wins ``2**-depth`` of the episodes (6.25% at the
default depth 4); the junctions of a task are the same states in every trajectory, so
GiGPO's anchor groups are large; prompts and replies are a few dozen tokens, so a 100k
parameter model learns it in a few CPU iterations.
"""

from __future__ import annotations

import itertools
from typing import Any

from agent_gym.core.env import Outcome, TextEnv

SIDES = ("left", "right")
SOUNDS = ("water", "bells", "music", "birds")


def _tasks(depth: int) -> list[tuple[str, tuple[str, ...]]]:
    """(sound, path) for every sound and every path of ``depth`` turns, in a fixed order."""
    return [(sound, path) for sound in SOUNDS for path in itertools.product(SIDES, repeat=depth)]


class CrossroadsEnv(TextEnv):
    """Crossroads: at each of ``depth`` junctions, go the way the sound comes from.

    **Observations** (``str``): at junction ``k``: ``"Junction 2 of 4. You hear water to the
    right."``; a wrong turn: ``"A dead end: the water was the other way."``; the end: ``"You
    reach the water. You did it!"``.

    **Actions**: ``go[left]`` and ``go[right]`` (case and spaces ignored); anything else is
    an invalid action (nothing changes, reward 0, ``info["error"]`` says why).

    **Reward**: 1 for passing the last junction the right way, else 0. **Episode end**:
    terminated at the goal or at a dead end (one wrong turn loses); truncated after
    ``max_steps`` (default ``depth + 2``; only invalid actions can use the slack).

    **Tasks**: one per sound (4) and path (``2**depth``): 64 at depth 4, in a fixed order.
    ``split="train"`` and ``"test"`` are the same tasks (the cue is in the observation, so
    there is nothing to hold out).

    **Info**: ``task_id``, ``split``, ``instruction``, ``available_actions``, ``anchor`` (the
    task and the junction), ``page`` (``junction``, ``done``), ``step``, ``invalid_action``,
    ``error``, ``junction`` and, at the end, ``won``. ``expose_goal`` adds the right
    ``expert_action``.

    **Arguments**: ``split``, ``depth`` (1-8), ``max_steps``, ``render_mode``, ``expose_goal``.
    """

    agent_prompt = "Follow the sound through the junctions.\nActions: go[left], go[right]."

    def __init__(self, split: str = "test", depth: int = 4, max_steps: int | None = None,
                 render_mode: str | None = None, expose_goal: bool = False):
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        if not isinstance(depth, int) or not 1 <= depth <= 8:
            raise ValueError(f"depth must be an int in 1..8, not {depth!r}")
        super().__init__(split=split, max_steps=max_steps or depth + 2, render_mode=render_mode,
                         expose_goal=expose_goal)
        self.depth = depth
        self.tasks = _tasks(depth)
        self.sound, self.path = self.tasks[0]
        self.junction = 0       # index of the junction the agent stands at; depth: goal reached
        self.lost = False

    def _num_tasks(self) -> int:
        return len(self.tasks)

    def _start_task(self, task_id: int) -> None:
        self.sound, self.path = self.tasks[task_id]
        self.junction, self.lost = 0, False

    def _apply(self, action: str) -> Outcome:
        norm = "".join(action.lower().split())
        if norm not in ("go[left]", "go[right]"):
            return Outcome(error="unknown action: use go[left] or go[right]")
        if norm[3:-1] != self.path[self.junction]:
            self.lost = True
            return Outcome(reward=0.0, done=True, info={"won": False})
        self.junction += 1
        if self.junction == self.depth:
            return Outcome(reward=1.0, done=True, info={"won": True})
        return Outcome()

    def _observe(self) -> str:
        if self.lost:
            return f"A dead end: the {self.sound} was the other way."
        if self.junction == self.depth:
            return f"You reach the {self.sound}. You did it!"
        side = self.path[self.junction]
        return f"Junction {self.junction + 1} of {self.depth}. You hear {self.sound} to the {side}."

    def _done(self) -> bool:
        return self.lost or self.junction == self.depth

    def _available_actions(self) -> list[str]:
        return [] if self._done() else ["go[left]", "go[right]"]

    def _state_key(self) -> Any:
        return {"env": "Crossroads-v0", "sound": self.sound, "path": list(self.path), "junction": self.junction,
                "lost": self.lost}

    def _page(self) -> str:
        return "done" if self._done() else "junction"

    def _instruction(self) -> str:
        return f"Follow the sound of {self.sound}."

    def _extra_info(self) -> dict[str, Any]:
        return {"junction": self.junction}

    def _expert_action(self) -> str | None:
        return None if self._done() else f"go[{self.path[self.junction]}]"

    def _expert_thought(self) -> str | None:
        return None if self._done() else f"The {self.sound} is to the {self.path[self.junction]}."
