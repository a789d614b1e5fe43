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

``steps[i].observation`` is what the agent saw *after* ``steps[i].action``. ``agent_info`` is
what the agent reported about the step (LLM agents: the raw ``reply``, ``fallback`` and
``parse_failure`` flags, ``requests``, ``retries``, ``prompt_tokens`` and ``completion_tokens``,
the tokens generated for the step); empty for agents that report nothing. ``info`` keeps
the compact keys of the env's info (``available_actions`` is kept by default because
trainers build prompts from it; pass ``keep_available_actions=False`` to drop it).
"""

from __future__ import annotations

import contextlib
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
    agent_info: dict[str, Any] = field(default_factory=dict)


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
                 keep_available_actions: bool = True, agent_info: dict[str, Any] | None = None) -> Step:
        keys = STEP_INFO_KEYS if keep_available_actions else tuple(k for k in STEP_INFO_KEYS if k != "available_actions")
        step = Step(action=action, observation=observation, reward=float(reward),
                    terminated=bool(terminated), truncated=bool(truncated), thought=thought,
                    info={k: info[k] for k in keys if k in info}, agent_info=dict(agent_info or {}))
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
        if not isinstance(d, dict):
            raise TrajectoryFormatError(f"a record is a JSON object, got {type(d).__name__}")
        if d.get("format") != FORMAT:
            raise TrajectoryFormatError(f"not an {FORMAT} record (format={d.get('format')!r})")
        if d.get("version") != VERSION:
            raise TrajectoryFormatError(f"unsupported trajectory version {d.get('version')!r} (this reader knows {VERSION})")
        d = {k: v for k, v in d.items() if k not in ("format", "version")}
        steps = d.pop("steps", [])
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise TrajectoryFormatError("steps must be a list of objects")
        try:
            traj = cls(steps=[Step(**s) for s in steps], **d)
        except TypeError as exc:
            raise TrajectoryFormatError(f"bad trajectory fields: {exc}") from None
        _check_types(traj)
        return traj


def _check_types(traj: Trajectory) -> None:
    """The fields readers compute with have the types they expect (a bad record is refused here,
    with its line, rather than failing later without one)."""
    wrong = []
    if not isinstance(traj.task_id, int) or isinstance(traj.task_id, bool):
        wrong.append("task_id (an integer)")
    for name in ("env_id", "instruction", "observation"):
        if not isinstance(getattr(traj, name), str):
            wrong.append(f"{name} (a string)")
    if not isinstance(traj.reward, (int, float)) or isinstance(traj.reward, bool):
        wrong.append("reward (a number)")
    for name in ("meta", "reward_info", "initial_info", "env_kwargs"):
        if not isinstance(getattr(traj, name), dict):
            wrong.append(f"{name} (an object)")
    for i, s in enumerate(traj.steps):
        if not isinstance(s.action, str) or not isinstance(s.info, dict) or not isinstance(s.agent_info, dict):
            wrong.append(f"steps[{i}] (action a string, info and agent_info objects)")
            break
    if wrong:
        raise TrajectoryFormatError("wrong type of " + ", ".join(wrong))


def write_trajectories(path: str | os.PathLike, trajectories: Iterable[Trajectory], append: bool = False) -> int:
    """Write records, one per line; each line is flushed whole. Returns the count."""
    n = 0
    with open(path, "a" if append else "w", encoding="utf-8") as f:
        for t in trajectories:
            f.write(t.to_json() + "\n")
            f.flush()
            n += 1
    return n


def replace_trajectories(path: str | os.PathLike, trajectories: Iterable[Trajectory]) -> int:
    """Rewrite a trajectory file atomically: a new file beside it, synced, then renamed over it,
    so a kill at any moment leaves either the old file or the new one whole."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            n = 0
            for t in trajectories:
                f.write(t.to_json() + "\n")
                n += 1
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # the rename itself survives a power cut once the folder is synced
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return n


def read_trajectories(path: str | os.PathLike, skip_truncated_tail: bool = True,
                      with_lines: bool = False) -> Iterator[Trajectory]:
    """Read records; a corrupt line raises ``TrajectoryFormatError`` naming file and line.

    A final line without its newline (a writer killed mid-line) is skipped when
    ``skip_truncated_tail`` (the default): it is the one episode that was never finished.
    ``with_lines`` yields ``(line number, record)`` pairs instead.
    """
    path = Path(path)
    with open(path, "rb") as f:
        lines = f.readlines()
    for lineno, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        last_unterminated = lineno == len(lines) and not raw.endswith(b"\n")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if last_unterminated and skip_truncated_tail:
                return
            raise TrajectoryFormatError(f"{path}:{lineno}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        try:
            traj = Trajectory.from_dict(json.loads(line))
        except json.JSONDecodeError as exc:
            if last_unterminated and skip_truncated_tail:
                return
            raise TrajectoryFormatError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
        except TrajectoryFormatError as exc:
            raise TrajectoryFormatError(f"{path}:{lineno}: {exc}") from None
        except RecursionError:
            raise TrajectoryFormatError(f"{path}:{lineno}: nested too deeply") from None
        yield (lineno, traj) if with_lines else traj
