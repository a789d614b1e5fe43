"""Grouped rollouts: ``N`` tasks x ``G`` copies each, stepped as one batch in one process.

GRPO/GiGPO-style training runs a *group* of ``G`` episodes of the same task and compares
them; evaluation runs many tasks side by side. ``EnvGroup`` holds ``n`` environments made by
one factory (so WebShop envs share one catalog and one searcher), resets env ``i`` to task
``task_ids[i // group_size]`` and steps all unfinished envs with one list of actions.
Finished envs are not stepped again: pass ``None`` (or anything) for them; their last
observation is repeated with reward 0 and ``done`` set. Scaling beyond one process is a job
for an existing engine: ``agent_gym.core.ray_group.RayEnvGroup`` has the same interface with
its envs in Ray actors, and ``agent_gym.core.backends.make_group(env_id, n, backend="local" | "ray")``
makes either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym


class GroupState:
    """What ``EnvGroup`` and ``RayEnvGroup`` share, whatever runs their envs: each env's last
    observation and info, ``done`` flag and task, the checks of ``reset``'s and ``step``'s
    arguments and the lists they return."""

    def _init_state(self, n_envs: int) -> None:
        if n_envs < 1:
            raise ValueError("n_envs must be >= 1")
        self.done = [True] * n_envs
        self.task_ids: list[int | None] = [None] * n_envs
        self._obs: list[str] = [""] * n_envs
        self._info: list[dict[str, Any]] = [{} for _ in range(n_envs)]

    def _reset_plan(self, task_ids: Sequence[int], group_size: int, seed: int | None):
        """Env ``i``'s task (``task_ids[i // group_size]``) and seed (``seed + i``)."""
        n = len(self.done)
        if len(task_ids) * group_size != n:
            raise ValueError(f"{len(task_ids)} tasks x {group_size} copies != {n} envs")
        return [int(task_ids[i // group_size]) for i in range(n)], [None if seed is None else seed + i for i in range(n)]

    def _record_reset(self, i: int, obs: str, info: dict, task: int) -> None:
        self._obs[i], self._info[i], self.done[i], self.task_ids[i] = obs, info, False, task

    def _reset_result(self):
        return list(self._obs), [dict(i) for i in self._info]

    def _begin_step(self, actions: Sequence[Any]) -> None:
        n = len(self.done)
        if len(actions) != n:
            raise ValueError(f"{len(actions)} actions for {n} envs")
        self._rewards, self._terminated, self._truncated = [0.0] * n, [False] * n, [False] * n

    def _record_step(self, i: int, result: tuple) -> None:
        obs, reward, term, trunc, info = result
        self._obs[i], self._info[i] = obs, info
        self._rewards[i], self._terminated[i], self._truncated[i] = float(reward), bool(term), bool(trunc)
        self.done[i] = bool(term or trunc)

    def _step_result(self):
        return list(self._obs), self._rewards, self._terminated, self._truncated, [dict(i) for i in self._info]

    @property
    def all_done(self) -> bool:
        return all(self.done)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class EnvGroup(GroupState):
    def __init__(self, env_fn: Callable[[], gym.Env], n_envs: int):
        self._init_state(n_envs)
        self.envs = [env_fn() for _ in range(n_envs)]

    @classmethod
    def make(cls, env_id: str, n_envs: int, **kwargs) -> "EnvGroup":
        """``n_envs`` copies of ``gym.make(env_id, **kwargs)`` (WebShop envs of one process
        share their catalog and searcher by themselves)."""
        return cls(lambda: gym.make(env_id, **kwargs), n_envs)

    def __len__(self) -> int:
        return len(self.envs)

    def reset(self, task_ids: Sequence[int], group_size: int = 1, seed: int | None = None):
        """Env ``i`` starts task ``task_ids[i // group_size]``; returns observations and infos."""
        tasks, seeds = self._reset_plan(task_ids, group_size, seed)
        for i, env in enumerate(self.envs):
            obs, info = env.reset(seed=seeds[i], options={"task_id": tasks[i]})
            self._record_reset(i, obs, info, tasks[i])
        return self._reset_result()

    def step(self, actions: Sequence[Any]):
        """Step every unfinished env with its action; returns lists like ``env.step``."""
        self._begin_step(actions)
        for i, (env, action) in enumerate(zip(self.envs, actions)):
            if not self.done[i]:
                self._record_step(i, env.step(action))
        return self._step_result()

    @property
    def num_tasks(self) -> int:
        """Tasks in the envs' split (``env.unwrapped.num_tasks`` of the first env)."""
        return int(self.envs[0].unwrapped.num_tasks)

    @property
    def agent_prompt(self) -> str | None:
        """The envs' ``agent_prompt`` (the task's rules for an LLM agent); ``None`` when they
        have none (the prompt is then a generic one)."""
        env = self.envs[0]
        return getattr(getattr(env, "unwrapped", env), "agent_prompt", None)

    def close(self) -> None:
        for env in self.envs:
            env.close()
