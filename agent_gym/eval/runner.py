"""Running an agent on an environment: parallel slots, trajectories, results, resume.

``evaluate(EvalConfig(...))`` runs the first ``n`` tasks of a split with ``workers``
environments stepped as a group in this process (they share one catalog and searcher) and
one ``BatchAgent`` acting for all of them at once. Every finished episode is appended to
``OUTPUT/trajectories.jsonl`` as a trajectory record; ``OUTPUT/results.json`` holds the
summary. A run that is interrupted continues where it stopped: finished episodes are read
back and skipped, nothing is lost or run twice. Results depend only on the configuration
(task ids, seeds), not on ``workers`` or on interruptions.

``OUTPUT/run.json`` holds what a resume must match (env, agent, its options, split, seed); the
agent's transport settings (``base_url``, ``timeout``, retries, ``concurrency``) may change
between sessions, and secrets (``api_key``, any ``*_key``/``*token``/``*secret``/``password``
option) are never written. With ``on_agent_error="skip"`` an episode whose agent call fails is
recorded with ``meta["agent_error"]``, counts as failed, and is retried by the next resume; its
error stays listed in ``agent_errors``. An error with ``fatal = True`` (a wrong model name, a
bad key) stops the run in either mode. Ctrl-C stops at once, writes the results so far and
raises ``EvalInterrupted`` (the command line exits 130).
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
from tqdm.auto import tqdm

import agent_gym  # noqa: F401  (registers the envs)
from agent_gym.agents import SlotErrors, agent_name, as_batch_agent, load_agent
from agent_gym.core.trajectory import Trajectory, read_trajectories, replace_trajectories, write_trajectories

TRAJECTORIES = "trajectories.jsonl"
RESULTS = "results.json"
RUN = "run.json"


# agent options that say how to reach the agent, not which agent it is: a resume may change them
TRANSPORT_KEYS = frozenset({"api_key", "base_url", "timeout", "max_retries", "backoff", "max_backoff",
                            "concurrency", "headers"})
_SECRET = re.compile(r"(^|_)(api_?key|key|secret|password|passwd|token|auth|authorization)$", re.I)


def _resume_ignores(key: str) -> bool:
    return key in TRANSPORT_KEYS or bool(_SECRET.search(key))


class RunMismatchError(RuntimeError):
    """The output folder holds a run with another configuration (or records of another run)."""


class EvalInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run; ``results`` are those written for the finished episodes."""

    def __init__(self, results: dict[str, Any]):
        super().__init__("interrupted")
        self.results = results


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
        d["agent_kwargs"] = {k: v for k, v in self.agent_kwargs.items() if not _resume_ignores(k)}
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
    skipped: list[Trajectory] = []  # episodes whose agent failed (all sessions): retried on resume
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            done, skipped = _resume(out_dir, config, agent_name(batch_agent))
        except BaseException:
            envs[0].close()
            raise
    todo = [t for t in task_ids if t not in done]
    envs += [make() for _ in range(min(config.workers, max(len(todo), 1)) - 1)]

    bar = tqdm(total=n, initial=len(done), desc=f"{agent_name(batch_agent)} on {config.split}", unit=" ep",
               disable=not config.progress)
    failure: AgentFailure | None = None
    interrupted = False
    try:
        _run_slots(envs, batch_agent, todo, config, done, skipped, out_dir, bar)
    except AgentFailure as exc:
        failure = exc
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        for env in envs:
            env.close()
    results = summarize(_scored(task_ids, done, skipped), config, n, batch_agent, skipped=skipped)
    catalog = getattr(envs[0].unwrapped, "catalog", None)
    if catalog is not None:
        results["catalog"] = {"source": catalog.meta.get("source"), "n_products": len(catalog),
                              "folder": str(catalog.folder)}
    results["complete"] = all(t in done for t in task_ids)
    if failure is not None:
        results["stopped_by"] = str(failure)
    if interrupted:
        results["stopped_by"] = "interrupted (Ctrl-C); rerun the same command to continue"
    if out_dir is not None:
        tmp = out_dir / (RESULTS + ".tmp")
        tmp.write_text(json.dumps(results, indent=2))
        os.replace(tmp, out_dir / RESULTS)
    if interrupted:
        raise EvalInterrupted(results)
    if failure is not None:  # results so far are saved; the caller decides what to do
        raise failure
    return results


def _scored(task_ids, done: dict[int, Trajectory], skipped: list[Trajectory]) -> list[Trajectory]:
    """One record per task that has one: the finished episode, else its last failed attempt."""
    failed = {t.task_id: t for t in skipped}
    return [done[t] if t in done else failed[t] for t in task_ids if t in done or t in failed]


def _write_json(path: Path, data) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _differences(old, new, prefix: str = "") -> list[str]:
    """``key: old -> new`` for each differing key, nested keys dotted."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            if old.get(k, "<unset>") != new.get(k, "<unset>"):
                out += _differences(old.get(k, "<unset>"), new.get(k, "<unset>"), f"{prefix}{k}.")
        return out
    return [f"{prefix.rstrip('.')}: {json.dumps(old, default=str)[:80]} -> {json.dumps(new, default=str)[:80]}"]


def _resume(out_dir: Path, config: EvalConfig, agent_label: str) -> tuple[dict[int, Trajectory], list[Trajectory]]:
    """The finished episodes and the failed attempts recorded in ``out_dir``; refuses a folder of
    another run (naming what differs, or the file and line of a foreign record)."""
    run_file = out_dir / RUN
    identity = config.identity()
    has_run = run_file.exists()
    if has_run:
        try:
            previous = json.loads(run_file.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise RunMismatchError(f"{run_file} is not a run file ({exc}); use another --output") from None
        if not isinstance(previous, dict):
            raise RunMismatchError(f"{run_file} is not a run file; use another --output")
        kept = dict(previous)
        if isinstance(kept.get("agent_kwargs"), dict):  # an older run.json may hold a secret
            kept["agent_kwargs"] = {k: v for k, v in kept["agent_kwargs"].items() if not _resume_ignores(k)}
        if kept != identity:
            raise RunMismatchError(
                f"{out_dir} holds a run with another configuration ({'; '.join(_differences(kept, identity))}); "
                "use another --output, or delete the folder to start over")
    done: dict[int, Trajectory] = {}
    skipped: list[Trajectory] = []
    path = out_dir / TRAJECTORIES
    if path.exists():
        for lineno, t in read_trajectories(path, with_lines=True):
            theirs = (t.env_id, t.split, t.seed, t.agent)
            ours = (config.env_id, config.split, config.seed, agent_label)
            if theirs != ours:
                raise RunMismatchError(
                    f"{path}:{lineno}: an episode of agent {t.agent!r} on {t.env_id} ({t.split}, seed {t.seed}), "
                    f"not of this run (agent {agent_label!r} on {config.env_id}, {config.split}, seed {config.seed})"
                    + ("" if has_run else f"; {out_dir} has no {RUN}") + ": use another --output")
            if t.meta.get("agent_error"):
                skipped.append(t)
            else:
                done[t.task_id] = t
        # rewrite without a half-written tail (so appends start on a clean line), atomically
        replace_trajectories(path, [done[k] for k in sorted(done)] + skipped)
    if not has_run or kept != previous:
        _write_json(run_file, identity)
    return done, skipped


def _step_info(agent, slot: int) -> dict[str, Any]:
    fn = getattr(agent, "step_info", None)
    if not callable(fn):
        return {}
    info = fn(slot)
    return json.loads(json.dumps(info, default=str)) if isinstance(info, dict) else {}


def _is_fatal(exc: BaseException) -> bool:
    return bool(getattr(exc, "fatal", False))


def _run_slots(envs, agent, todo, config, done, skipped, out_dir, bar) -> None:
    queue = list(reversed(todo))
    slots: dict[int, dict[str, Any]] = {}

    def start(slot: int) -> bool:
        if not queue:
            return False
        task_id = queue.pop()
        env = envs[slot]
        t = time.perf_counter()
        obs, info = env.reset(seed=config.seed + task_id, options={"task_id": task_id})
        env_s = time.perf_counter() - t
        traj = Trajectory(env_id=config.env_id, task_id=task_id, instruction=info["instruction"], observation=obs,
                          split=config.split, seed=config.seed, agent=agent_name(agent),
                          env_kwargs=_jsonable(config.env_kwargs),
                          initial_info={k: info[k] for k in ("page", "anchor", "available_actions") if k in info})
        t = time.perf_counter()
        agent.reset(slot, info["instruction"], info)
        slots[slot] = {"obs": obs, "info": info, "traj": traj, "env_s": env_s, "agent_s": time.perf_counter() - t}
        return True

    def record(slot: int) -> Trajectory:
        state = slots.pop(slot)
        traj = state["traj"]
        traj.meta["agent_s"], traj.meta["env_s"] = round(state["agent_s"], 6), round(state["env_s"], 6)
        tokens = [s.agent_info.get("completion_tokens") for s in traj.steps]
        if traj.steps and all(isinstance(k, int) for k in tokens):
            traj.meta["completion_tokens"] = sum(tokens)
            traj.meta["tokens_per_step"] = sum(tokens) / len(tokens)
        if out_dir is not None:
            write_trajectories(out_dir / TRAJECTORIES, [traj], append=True)
        return traj

    def finish(slot: int) -> None:
        traj = record(slot)
        done[traj.task_id] = traj
        bar.update(1)
        bar.set_postfix(score=f"{100 * sum(t.reward for t in done.values()) / len(done):.1f}")
        start(slot)

    def skip(slot: int, message: str) -> None:
        slots[slot]["traj"].meta["agent_error"] = message
        skipped.append(record(slot))
        bar.update(1)
        start(slot)

    for slot in range(len(envs)):
        start(slot)
    while slots:
        active = sorted(slots)
        t = time.perf_counter()
        try:
            actions = agent.act_batch(active, [slots[s]["obs"] for s in active], [slots[s]["info"] for s in active])
            errors: dict[int, BaseException] = {}
        except SlotErrors as exc:  # some slots failed: the others' actions are applied as usual
            actions, errors = [exc.actions.get(s) for s in active], dict(exc.errors)
        except Exception as exc:  # noqa: BLE001 - the whole call failed: every slot in it
            actions, errors = [None] * len(active), {s: exc for s in active}
        share = (time.perf_counter() - t) / len(active)
        for s in active:
            slots[s]["agent_s"] += share
        if errors:
            first = next(iter(errors.values()))
            fatal = next((e for e in errors.values() if _is_fatal(e)), None)
            if config.on_agent_error == "stop" or fatal is not None:
                exc = fatal or first
                why = " (fatal: retrying would not help)" if fatal is not None and config.on_agent_error == "skip" else ""
                raise AgentFailure(f"the agent failed ({type(exc).__name__}: {exc}){why}; {len(done)} finished "
                                   "episodes are saved" + (f" in {out_dir}: rerun the same command to continue"
                                                           if out_dir else "")) from exc
            for s, exc in errors.items():
                skip(s, f"{type(exc).__name__}: {exc}")
        if len(actions) != len(active):
            raise AgentFailure(f"act_batch returned {len(actions)} actions for {len(active)} observations")
        for s, action in zip(active, actions):
            if s in errors:
                continue
            state = slots[s]
            if not isinstance(action, str):
                raise AgentFailure(f"the agent returned {type(action).__name__}, not str")
            thought = _thought(agent, s)
            agent_info = _step_info(agent, s)
            t = time.perf_counter()
            obs, reward, terminated, truncated, info = envs[s].step(action)
            state["env_s"] += time.perf_counter() - t
            state["traj"].add_step(action, obs, reward, terminated, truncated, info, thought=thought,
                                   agent_info=agent_info)
            state["obs"], state["info"] = obs, info
            if terminated or truncated:
                finish(s)


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


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def llm_counts(trajs: list[Trajectory]) -> dict[str, int] | None:
    """What the agent reported over these episodes' steps (``Step.agent_info``): requests,
    retries, replies without an action (``parse_failures``), steps that played the fallback
    action (``fallbacks``), prompt and completion tokens; ``None`` when it reported nothing."""
    infos = [s.agent_info for t in trajs for s in t.steps if s.agent_info]
    if not infos:
        return None

    def total(key):
        return int(sum(i.get(key) or 0 for i in infos if isinstance(i.get(key), (int, float))))

    return {"requests": total("requests"), "retries": total("retries"),
            "parse_failures": sum(bool(i.get("parse_failure")) for i in infos),
            "fallbacks": sum(bool(i.get("fallback")) for i in infos),
            "prompt_tokens": total("prompt_tokens"), "completion_tokens": total("completion_tokens")}


def efficiency(trajs: list[Trajectory]) -> dict[str, float | None]:
    """The dual-efficiency figures (DEPO, Chen et al. 2025): tokens generated per step (over the
    steps whose agent reported them; ``None`` when none did) and steps per task (all episodes, and
    successful ones only; ``None`` without a success)."""
    tokens = [s.agent_info["completion_tokens"] for t in trajs for s in t.steps
              if isinstance(s.agent_info.get("completion_tokens"), int)]
    won = [len(t.steps) for t in trajs if t.won]
    return {"tokens_per_step": (sum(tokens) / len(tokens)) if tokens else None,
            "steps_per_task": _mean(len(t.steps) for t in trajs) if trajs else None,
            "steps_per_success": _mean(won) if won else None}


def summarize(trajs: list[Trajectory], config: EvalConfig, n: int, agent: Any,
              skipped: list[Trajectory] = ()) -> dict[str, Any]:
    """Score, success rate, the WebShop paper's Table 2 components, what the agent reported
    (``llm``), the efficiency figures and the errors, from the records (so a resumed run reports
    the whole run). ``trajs`` has one record per task; ``skipped`` every failed attempt."""
    m = len(trajs)
    mean = _mean
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
    counts = llm_counts(trajs)
    timed = {id(t): t for t in list(trajs) + list(skipped)}.values()  # every attempt's time counts
    open_errors = {t.task_id for t in trajs if t.meta.get("agent_error")}
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
        **efficiency(trajs),
        "invalid_action_rate": invalid / max(sum(steps), 1),
        "fallback_rate": (counts["fallbacks"] / max(sum(steps), 1)) if counts else None,
        "llm": counts,
        "skipped_episodes": len(open_errors),
        "agent_errors": [f"task {t.task_id}: {t.meta['agent_error']}" for t in skipped],
        "env_time_s": sum(float(t.meta.get("env_s", 0.0)) for t in timed),
        "agent_time_s": sum(float(t.meta.get("agent_s", 0.0)) for t in timed),
        "versions": {"agent_gym": agent_gym.__version__, "python": platform.python_version()},
    }
