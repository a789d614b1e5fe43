"""``RayEnvGroup``: an ``EnvGroup`` whose envs live in Ray actors, for runs beyond one process.

The interface is ``EnvGroup``'s (``reset(task_ids, group_size, seed)``, ``step(actions)``,
``done``, ``task_ids``, ``all_done``, ``num_tasks``, ``agent_prompt``, ``len``, ``close``,
``make``), so ``trainers.core.rollout.rollout`` plays either, and gives the same episodes on
both. Each actor holds ``envs_per_actor`` consecutive envs in one ``EnvGroup`` (WebShop envs
of an actor share one catalog and one searcher); ``reset`` and ``step`` send one call to each
actor and gather the replies in env order. Ray is an optional extra
(``pip install agent-gym[ray]``); the group connects to the running Ray instance, or starts a
local one (``ray.init()``) when there is none, so call ``ray.init(address=...)`` first to use
a cluster.

    from agent_gym.core.ray_group import RayEnvGroup

    with RayEnvGroup.make("agent_gym/WebShop-v0", 64, envs_per_actor=8, split="train") as group:
        obs, infos = group.reset(list(range(8)), group_size=8)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from agent_gym.core.groups import EnvGroup, GroupState


class EnvActorError(RuntimeError):
    """A Ray actor holding some of the group's envs died (its envs are lost: make a new group)."""


def _import_ray():
    try:
        import ray
    except ImportError as err:  # pragma: no cover - depends on the installed extras
        raise ImportError("RayEnvGroup needs Ray, an optional extra: pip install 'agent-gym[ray]'") from err
    return ray


class _EnvWorker:
    """The body of one actor: its envs, as an ``EnvGroup``."""

    def __init__(self, n_envs: int, env_id: str | None = None, env_kwargs: dict | None = None,
                 env_fn: Callable[[], gym.Env] | None = None):
        import agent_gym  # noqa: F401  (registers the agent_gym/* ids in this process)

        if env_fn is not None:
            self.group = EnvGroup(env_fn, n_envs)
        else:
            self.group = EnvGroup.make(env_id, n_envs, **(env_kwargs or {}))

    def ready(self) -> int:
        return len(self.group)

    def reset(self, tasks: list[int], seeds: list[int | None]) -> list[tuple[str, dict]]:
        return [env.reset(seed=seed, options={"task_id": task})
                for env, task, seed in zip(self.group.envs, tasks, seeds)]

    def step(self, actions: list[tuple[int, Any]]) -> list[tuple]:
        """``actions``: ``(local env index, action)`` of the envs to step."""
        return [self.group.envs[j].step(action) for j, action in actions]

    def num_tasks(self) -> int:
        return self.group.num_tasks

    def agent_prompt(self) -> str | None:
        return self.group.agent_prompt

    def close(self) -> None:
        self.group.close()


class RayEnvGroup(GroupState):
    """``n_envs`` envs made by ``env_fn`` (or by ``make``) in Ray actors of ``envs_per_actor``
    envs each (default: about as many actors as the CPUs Ray reports); env ``i`` lives in
    actor ``i // envs_per_actor``. ``actor_options`` go to the actors' ``.options(...)``
    (e.g. ``{"num_cpus": 1}``; Ray's default schedules an actor on 1 CPU and holds none
    while it runs). ``env_fn`` is sent to the actors with cloudpickle."""

    def __init__(self, env_fn: Callable[[], gym.Env] | None, n_envs: int, envs_per_actor: int | None = None,
                 actor_options: dict | None = None, *, env_id: str | None = None, env_kwargs: dict | None = None):
        self._init_state(n_envs)
        if env_fn is None and env_id is None:
            raise ValueError("give env_fn or env_id")
        ray = _import_ray()
        if not ray.is_initialized():
            ray.init()
        if envs_per_actor is None:
            cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
            envs_per_actor = math.ceil(n_envs / min(n_envs, cpus))
        if envs_per_actor < 1:
            raise ValueError("envs_per_actor must be >= 1")
        self.envs_per_actor = int(envs_per_actor)
        self.n_envs = int(n_envs)
        self.actor_envs = [range(lo, min(lo + self.envs_per_actor, n_envs))
                           for lo in range(0, n_envs, self.envs_per_actor)]
        worker = ray.remote(_EnvWorker)
        if actor_options:
            worker = worker.options(**actor_options)
        self.actors = [worker.remote(len(r), env_id=env_id, env_kwargs=env_kwargs, env_fn=env_fn)
                       for r in self.actor_envs]
        self._num_tasks: int | None = None
        self._agent_prompt: tuple[str | None] | None = None
        try:
            ray.get([a.ready.remote() for a in self.actors])
        except ray.exceptions.RayActorError as err:
            self.close()
            raise RuntimeError(f"could not make the envs in the Ray actors: {err}") from err

    @classmethod
    def make(cls, env_id: str, n_envs: int, envs_per_actor: int | None = None, actor_options: dict | None = None,
             **kwargs) -> "RayEnvGroup":
        """``n_envs`` copies of ``gym.make(env_id, **kwargs)`` made in the actors by
        ``EnvGroup.make`` (one WebShop catalog and searcher per actor; a ``Catalog`` passed in
        ``kwargs`` travels as its folder)."""
        return cls(None, n_envs, envs_per_actor, actor_options, env_id=env_id, env_kwargs=kwargs)

    def __len__(self) -> int:
        return self.n_envs

    def _gather(self, refs: list, actors: list[int]) -> list:
        """``ray.get`` of one call per actor in ``actors``; a dead actor raises ``EnvActorError``."""
        ray = _import_ray()
        if not self.actors:
            raise RuntimeError("this RayEnvGroup is closed")
        try:
            return ray.get(refs)
        except ray.exceptions.RayActorError as err:
            dead = [k for k, ref in zip(actors, refs) if _actor_died(ray, ref)]
            dead = dead or list(actors)
            envs = ", ".join(f"{self.actor_envs[k][0]}-{self.actor_envs[k][-1]}" for k in dead)
            raise EnvActorError(f"Ray actor(s) {dead} of this RayEnvGroup died, losing envs {envs} "
                                f"(of 0-{self.n_envs - 1}); make a new group. Cause: {err}") from err

    def reset(self, task_ids: Sequence[int], group_size: int = 1, seed: int | None = None):
        """Env ``i`` starts task ``task_ids[i // group_size]`` (seed ``seed + i``); returns
        observations and infos, as ``EnvGroup.reset``."""
        tasks, seeds = self._reset_plan(task_ids, group_size, seed)
        refs = [a.reset.remote([tasks[i] for i in r], [seeds[i] for i in r])
                for a, r in zip(self.actors, self.actor_envs)]
        replies = self._gather(refs, list(range(len(self.actors))))
        for r, reply in zip(self.actor_envs, replies):
            for i, (obs, info) in zip(r, reply):
                self._record_reset(i, obs, info, tasks[i])
        return self._reset_result()

    def step(self, actions: Sequence[Any]):
        """Step every unfinished env with its action; returns lists like ``env.step``
        (finished envs: their last observation, reward 0), as ``EnvGroup.step``."""
        self._begin_step(actions)
        calls, refs = [], []
        for k, (actor, r) in enumerate(zip(self.actors, self.actor_envs)):
            active = [i for i in r if not self.done[i]]
            if active:  # an actor whose envs are all done gets no call
                calls.append((k, active))
                refs.append(actor.step.remote([(i - r[0], actions[i]) for i in active]))
        replies = self._gather(refs, [k for k, _ in calls])
        for (_, active), reply in zip(calls, replies):
            for i, result in zip(active, reply):
                self._record_step(i, result)
        return self._step_result()

    @property
    def num_tasks(self) -> int:
        """Tasks in the envs' split (asked of the first actor once)."""
        if self._num_tasks is None:
            self._num_tasks = int(self._gather([self.actors[0].num_tasks.remote()], [0])[0])
        return self._num_tasks

    @property
    def agent_prompt(self) -> str | None:
        """The envs' ``agent_prompt`` or ``None`` (asked of the first actor once)."""
        if self._agent_prompt is None:
            self._agent_prompt = (self._gather([self.actors[0].agent_prompt.remote()], [0])[0],)
        return self._agent_prompt[0]

    def close(self, timeout: float = 10.0) -> None:
        """Close the envs (waiting at most ``timeout`` seconds) and kill the actors."""
        actors, self.actors = list(getattr(self, "actors", [])), []
        if not actors:
            return
        ray = _import_ray()
        if not ray.is_initialized():
            return
        with contextlib.suppress(Exception):  # best effort: the actors are killed anyway
            ray.wait([a.close.remote() for a in actors], num_returns=len(actors), timeout=timeout)
        for actor in actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)


def _actor_died(ray, ref) -> bool:
    """Whether the call behind ``ref`` failed because its actor died (an error the env itself
    raised in a live actor does not count)."""
    try:
        ray.get(ref)
    except ray.exceptions.RayActorError:
        return True
    except Exception:  # noqa: BLE001 - an env error of a live actor: not what we report here
        return False
    return False
