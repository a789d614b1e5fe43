"""Running an agent on an environment: parallel slots, trajectories, results, resume.

``evaluate(EvalConfig(...))`` runs the first ``n`` tasks of a split with ``workers``
environments stepped as a group in this process (they share one catalog and searcher) and
one ``BatchAgent`` acting for all of them at once. Every finished episode is appended to
``OUTPUT/trajectories.jsonl`` as a trajectory record; ``OUTPUT/results.json`` holds the
summary. A run that is interrupted continues where it stopped: finished episodes are read
back and skipped, nothing is lost or run twice. Results depend only on the configuration
(task ids, seeds), not on ``workers`` or on interruptions.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
from tqdm.auto import tqdm

import agent_gym  # noqa: F401  (registers the envs)
from agent_gym.agents import agent_name, as_batch_agent, load_agent
from agent_gym.core.trajectory import Trajectory, read_trajectories, write_trajectories

TRAJECTORIES = "trajectories.jsonl"
RESULTS = "results.json"
RUN = "run.json"


class RunMismatchError(RuntimeError):
    """The output folder holds a run with another configuration."""


@dataclass
class EvalConfig:
    env_id: str = "agent_gym/WebShop-v0"
    agent: str = "rule"
    split: str = "test"
    n: int | None = None
    seed: int = 0
    workers: int = 1
    output: str | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    agent_kwargs: dict[str, Any] = field(default_factory=dict)
    on_agent_error: str = "stop"  # or "skip": count the episode as failed and go on
    progress: bool = True

    def identity(self) -> dict[str, Any]:
        """What must match for a resumed run to continue this one."""
        d = asdict(self)
        d["env_kwargs"] = _jsonable(self.env_kwargs)
        # n may grow on resume: the tasks are the first n of the split either way
        for key in ("n", "workers", "output", "progress", "on_agent_error"):
            d.pop(key)
        return json.loads(json.dumps(d, default=str))


class AgentFailure(RuntimeError):
    """The agent raised while acting; finished episodes are saved."""


def _agent_kwargs(config: EvalConfig) -> dict[str, Any]:
    """The agent's options; an agent that takes a ``seed`` gets the run's seed by default, and one
    that takes an ``env_id`` the run's env (the LLM agents prompt with that env's ``agent_prompt``)."""
    import inspect

    from agent_gym.agents import resolve

    kwargs = dict(config.agent_kwargs)
    target = resolve(config.agent)
    try:
        params = inspect.signature(target).parameters if callable(target) else {}
    except (TypeError, ValueError):
        params = {}
    if "seed" in params and "seed" not in kwargs:
        kwargs["seed"] = config.seed
    if "env_id" in params and "env_id" not in kwargs:
        kwargs["env_id"] = config.env_id
    return kwargs


def _make_env(config: EvalConfig, needs_goal: bool):
    kwargs = dict(config.env_kwargs)
    kwargs["split"] = config.split
    if needs_goal:
        kwargs["expose_goal"] = True
    return gym.make(config.env_id, **kwargs)


def evaluate(config: EvalConfig, agent: Any = None, env_factory: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Run the evaluation; returns the results dict (also written to ``output``)."""
    if config.workers < 1:
        raise ValueError("workers must be >= 1")
    if config.on_agent_error not in ("stop", "skip"):
        raise ValueError("on_agent_error must be 'stop' or 'skip'")
    batch_agent = as_batch_agent(agent) if agent is not None else load_agent(config.agent, **_agent_kwargs(config))
    needs_goal = bool(getattr(batch_agent, "needs_goal", False))
    make = env_factory or (lambda: _make_env(config, needs_goal))
    envs = [make()]
    n_tasks = envs[0].unwrapped.num_tasks
    n = n_tasks if config.n is None else min(config.n, n_tasks)
    task_ids = list(range(n))

    out_dir = Path(config.output) if config.output else None
    done: dict[int, Trajectory] = {}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        done = _resume(out_dir, config)
    todo = [t for t in task_ids if t not in done]
    envs += [make() for _ in range(min(config.workers, max(len(todo), 1)) - 1)]

    timing = {"env_s": 0.0, "agent_s": 0.0}
    bar = tqdm(total=n, initial=len(done), desc=f"{agent_name(batch_agent)} on {config.split}", unit=" ep",
               disable=not config.progress)
    errors: list[str] = []
    failure: AgentFailure | None = None
    try:
        _run_slots(envs, batch_agent, todo, config, done, out_dir, timing, bar, errors)
    except AgentFailure as exc:
        failure = exc
    finally:
        bar.close()
        for env in envs:
            env.close()
    results = summarize([done[t] for t in task_ids if t in done], config, n, timing, batch_agent)
    catalog = getattr(envs[0].unwrapped, "catalog", None)
    if catalog is not None:
        results["catalog"] = {"source": catalog.meta.get("source"), "n_products": len(catalog),
                              "folder": str(catalog.folder)}
    results["agent_errors"] = errors
    results["complete"] = len(done) >= n
    if failure is not None:
        results["stopped_by"] = str(failure)
    if out_dir is not None:
        tmp = out_dir / (RESULTS + ".tmp")
        tmp.write_text(json.dumps(results, indent=2))
        os.replace(tmp, out_dir / RESULTS)
    if failure is not None:  # results so far are saved; the caller decides what to do
        raise failure
    return results


def _resume(out_dir: Path, config: EvalConfig) -> dict[int, Trajectory]:
    run_file = out_dir / RUN
    identity = config.identity()
    if run_file.exists():
        previous = json.loads(run_file.read_text())
        if previous != identity:
            changed = sorted(k for k in set(previous) | set(identity) if previous.get(k) != identity.get(k))
            raise RunMismatchError(
                f"{out_dir} holds a run with another configuration (differs in {', '.join(changed)}); "
                "use another --output, or delete the folder to start over")
    else:
        run_file.write_text(json.dumps(identity, indent=2))
    done: dict[int, Trajectory] = {}
    path = out_dir / TRAJECTORIES
    if path.exists():
        for t in read_trajectories(path):
            done[t.task_id] = t
        # rewrite without a half-written tail, so appends start on a clean line
        write_trajectories(path, [done[k] for k in sorted(done)])
    return done


def _run_slots(envs, agent, todo, config, done, out_dir, timing, bar, errors) -> None:
    queue = list(reversed(todo))
    slots: dict[int, dict[str, Any]] = {}

    def start(slot: int) -> bool:
        if not queue:
            return False
        task_id = queue.pop()
        env = envs[slot]
        t = time.perf_counter()
        obs, info = env.reset(seed=config.seed + task_id, options={"task_id": task_id})
        timing["env_s"] += time.perf_counter() - t
        traj = Trajectory(env_id=config.env_id, task_id=task_id, instruction=info["instruction"], observation=obs,
                          split=config.split, seed=config.seed, agent=agent_name(agent),
                          env_kwargs=_jsonable(config.env_kwargs),
                          initial_info={k: info[k] for k in ("page", "anchor", "available_actions") if k in info})
        t = time.perf_counter()
        agent.reset(slot, info["instruction"], info)
        timing["agent_s"] += time.perf_counter() - t
        slots[slot] = {"obs": obs, "info": info, "traj": traj}
        return True

    def finish(slot: int, traj: Trajectory) -> None:
        done[traj.task_id] = traj
        if out_dir is not None:
            write_trajectories(out_dir / TRAJECTORIES, [traj], append=True)
        bar.update(1)
        bar.set_postfix(score=f"{100 * sum(t.reward for t in done.values()) / len(done):.1f}")
        del slots[slot]
        start(slot)

    for slot in range(len(envs)):
        start(slot)
    while slots:
        active = sorted(slots)
        t = time.perf_counter()
        try:
            actions = agent.act_batch(active, [slots[s]["obs"] for s in active],
                                      [slots[s]["info"] for s in active])
        except Exception as exc:  # an agent failure: keep what is finished, then stop or skip
            timing["agent_s"] += time.perf_counter() - t
            message = f"{type(exc).__name__}: {exc}"
            if config.on_agent_error == "stop":
                raise AgentFailure(f"the agent failed ({message}); {len(done)} finished episodes are saved"
                                   + (f" in {out_dir}" if out_dir else "")) from exc
            for s in active:
                traj = slots[s]["traj"]
                traj.meta["agent_error"] = message
                errors.append(f"task {traj.task_id}: {message}")
                finish(s, traj)
            continue
        timing["agent_s"] += time.perf_counter() - t
        if len(actions) != len(active):
            raise AgentFailure(f"act_batch returned {len(actions)} actions for {len(active)} observations")
        for s, action in zip(active, actions):
            state = slots[s]
            if not isinstance(action, str):
                raise AgentFailure(f"the agent returned {type(action).__name__}, not str")
            thought = _thought(agent, s)
            t = time.perf_counter()
            obs, reward, terminated, truncated, info = envs[s].step(action)
            timing["env_s"] += time.perf_counter() - t
            state["traj"].add_step(action, obs, reward, terminated, truncated, info, thought=thought)
            state["obs"], state["info"] = obs, info
            if terminated or truncated:
                finish(s, state["traj"])


def _jsonable(kwargs: dict) -> dict:
    """Env kwargs as JSON: a ``Catalog`` becomes its folder."""
    out = {}
    for key, value in kwargs.items():
        folder = getattr(value, "folder", None)
        out[key] = str(folder) if folder is not None else value
    return json.loads(json.dumps(out, default=str))


def _thought(agent, slot: int) -> str | None:
    per_slot = getattr(agent, "agents", None)
    inner = per_slot.get(slot) if isinstance(per_slot, dict) else agent
    thought = getattr(inner, "last_thought", None)
    if isinstance(thought, dict):
        thought = thought.get(slot)
    return thought if isinstance(thought, str) else None


def summarize(trajs: list[Trajectory], config: EvalConfig, n: int, timing: dict, agent: Any) -> dict[str, Any]:
    """Score, success rate and the WebShop paper's Table 2 components, from the records."""
    m = len(trajs)

    def mean(values):
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    steps = [len(t.steps) for t in trajs]
    invalid = sum(sum(bool(s.info.get("invalid_action")) for s in t.steps) for t in trajs)
    comps = {
        # Table 2 of Yao et al. (2022): attribute, option, type and price scores, in %
        "attribute": 100 * mean(t.reward_info.get("r_att", 0.0) for t in trajs),
        # over episodes whose goal has options (an episode without a purchase counts 0)
        "option": 100 * mean(t.reward_info.get("r_option", 0.0) for t in trajs
                             if "r_option" in t.reward_info or not t.reward_info),
        "type": 100 * mean(t.reward_info.get("r_type", 0.0) for t in trajs),
        "price": 100 * mean(float(t.reward_info.get("r_price", 0.0)) for t in trajs),
    }
    return {
        "env_id": config.env_id,
        "env_kwargs": _jsonable(config.env_kwargs),
        "agent": agent_name(agent),
        "agent_spec": config.agent,
        "split": config.split,
        "seed": config.seed,
        "n": n,
        "episodes": m,
        "score": 100 * mean(t.reward for t in trajs),
        "success_rate": 100 * mean(float(t.won) for t in trajs),
        "components": comps,
        "mean_steps": mean(steps),
        "invalid_action_rate": invalid / max(sum(steps), 1),
        "env_time_s": timing["env_s"],
        "agent_time_s": timing["agent_s"],
        "versions": {"agent_gym": agent_gym.__version__, "python": platform.python_version()},
    }
