"""The trajectory record: one format for evaluation, demonstrations and trainers.

A trajectory file is JSON Lines, **one episode per line** (so that an interrupted writer
loses at most the episode it was writing, and appending is atomic per episode)::

    {"format": "agent_gym.trajectory", "version": 1,
     "env_id": "agent_gym/WebShop-v0", "env_kwargs": {...}, "split": "test",
     "task_id": 17, "seed": 0, "instruction": "i need ...",
     "agent": "rule", "observation": "<first observation>",
     "steps": [{"action": "search[...]", "thought": null, "observation": "...",
                "reward": 0.0, "terminated": false, "truncated": false,
                "info": {"page": "results", "anchor": "...", "invalid_action": false, ...}}],
     "reward": 1.0, "won": true, "reward_info": {...}, "meta": {...}}

``steps[i].observation`` is what the agent saw *after* ``steps[i].action``. ``info`` keeps
the compact keys of the env's info (``available_actions`` is kept by default because
trainers build prompts from it; pass ``keep_available_actions=False`` to drop it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "agent_gym.trajectory"
VERSION = 1

# info keys that are per-step bookkeeping worth keeping in a record
STEP_INFO_KEYS = ("page", "anchor", "invalid_action", "error", "available_actions", "step")


class TrajectoryFormatError(ValueError):
    """A trajectory file line that is not a valid record (the message names file and line)."""


@dataclass
class Step:
    action: str
    observation: str
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    thought: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trajectory:
    env_id: str
    task_id: int
    instruction: str
    observation: str
    split: str | None = None
    seed: int | None = None
    agent: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    reward: float = 0.0
    won: bool = False
    reward_info: dict[str, Any] = field(default_factory=dict)
    initial_info: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def add_step(self, action: str, observation: str, reward: float, terminated: bool,
                 truncated: bool, info: dict[str, Any], thought: str | None = None,
                 keep_available_actions: bool = True) -> Step:
        keys = STEP_INFO_KEYS if keep_available_actions else tuple(k for k in STEP_INFO_KEYS if k != "available_actions")
        step = Step(action=action, observation=observation, reward=float(reward),
                    terminated=bool(terminated), truncated=bool(truncated), thought=thought,
                    info={k: info[k] for k in keys if k in info})
        self.steps.append(step)
        self.reward += float(reward)
        if terminated or truncated:
            self.won = bool(info.get("won", False))
            self.reward_info = dict(info.get("reward_info") or {})
        return step

    @property
    def done(self) -> bool:
        return bool(self.steps) and (self.steps[-1].terminated or self.steps[-1].truncated)

    @property
    def actions(self) -> list[str]:
        return [s.action for s in self.steps]

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Trajectory":
        if d.get("format") != FORMAT:
            raise TrajectoryFormatError(f"not an {FORMAT} record (format={d.get('format')!r})")
        if d.get("version") != VERSION:
            raise TrajectoryFormatError(f"unsupported trajectory version {d.get('version')!r} (this reader knows {VERSION})")
        d = {k: v for k, v in d.items() if k not in ("format", "version")}
        try:
            steps = [Step(**s) for s in d.pop("steps", [])]
            return cls(steps=steps, **d)
        except TypeError as exc:
            raise TrajectoryFormatError(f"bad trajectory fields: {exc}") from None


def write_trajectories(path: str | os.PathLike, trajectories: Iterable[Trajectory], append: bool = False) -> int:
    """Write records, one per line; each line is flushed whole. Returns the count."""
    n = 0
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        for t in trajectories:
            f.write(t.to_json() + "\n")
            f.flush()
            n += 1
    return n


def read_trajectories(path: str | os.PathLike, skip_truncated_tail: bool = True) -> Iterator[Trajectory]:
    """Read records; a corrupt line raises ``TrajectoryFormatError`` naming file and line.

    A final line without its newline (a writer killed mid-line) is skipped when
    ``skip_truncated_tail`` (the default): it is the one episode that was never finished.
    """
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        last_unterminated = lineno == len(lines) and not line.endswith("\n")
        try:
            yield Trajectory.from_dict(json.loads(line))
        except json.JSONDecodeError as exc:
            if last_unterminated and skip_truncated_tail:
                return
            raise TrajectoryFormatError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
        except TrajectoryFormatError as exc:
            raise TrajectoryFormatError(f"{path}:{lineno}: {exc}") from None
