"""Sampled trajectories for offline training (DEPO, KTO, the ORM): ``k`` per task, scored by the env.

    python -m trainers.collect --policy SFT_DIR --env agent_gym/KeyDoor-v0 --split train --k 4 \
        --temperature 1.0 --output runs/samples.jsonl
    python -m trainers.collect --api-model gpt-4o-mini --base-url http://localhost:8000/v1 \
        --env agent_gym/WebShop-v0 --tasks 200 --k 4 --temperature 0.7 --output runs/samples.jsonl

DEPO built its data with Monte Carlo tree search over a strong model's ReAct trajectories; this
is the simpler stand-in a user can run without an external service: sample each task ``k``
times and let the env score every trajectory. The result is one file of trajectory records
(``agent_gym.core.trajectory``), the format every offline trainer reads.

Two sources, no new rollout loop:

- ``--policy``: a local causal LM, played in batches by ``trainers.core.rollout.collect``; each
  record keeps the policy's reply texts and token ids in ``meta["steps"]`` (so DEPO counts
  the tokens it really generated);
- ``--api-model``: any OpenAI-compatible chat server, through the ReAct baseline
  (``baselines.react``) and the evaluation harness (``agent_gym.eval.runner``), ``k`` runs
  with seeds ``seed .. seed + k - 1``; each run's folder resumes if the collection is killed.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainers.core import cli
from trainers.core.cli import opt


@dataclass
class CollectConfig:
    output: str = opt("", "the trajectory records are written here (JSONL)")
    env: str = opt("agent_gym/WebShop-v0", "registered env id")
    env_kwargs: str = opt("{}", "JSON of gym.make arguments")
    split: str = opt("train", "tasks come from this split")
    tasks: int = opt(0, "the first N tasks of the split (0: all)")
    k: int = opt(4, "sampled trajectories per task")
    temperature: float = opt(1.0, "sampling temperature (0: greedy, then k copies are the same)")
    policy: str = opt("", "a local model folder (or hub id) to sample from")
    api_model: str = opt("", "a model name on an OpenAI-compatible server (instead of --policy)")
    base_url: str = opt("", "the server's base URL (default: $OPENAI_BASE_URL)")
    max_new_tokens: int = opt(256, "tokens per reply")
    fmt: str = opt("react", "reply format of the local policy (react or tags)")
    history: int = opt(3, "past turns shown in full in each step's prompt (local policy)")
    batch: int = opt(64, "envs played together (local policy)")
    seed: int = opt(0, "sampling seed (run s of the API model uses seed + s)")
    device: str = opt("auto", "auto, cpu, cuda... (local policy)")


def collect_trajectories(config: CollectConfig) -> list:
    """The ``k`` sampled trajectories of every task, as ``Trajectory`` records, in task order."""
    if bool(config.policy) == bool(config.api_model):
        raise ValueError("give exactly one of --policy (a local model) and --api-model (an OpenAI-compatible server)")
    if config.k < 1:
        raise ValueError(f"k must be >= 1, not {config.k}")
    env_kwargs = json.loads(config.env_kwargs)
    if config.policy:
        return _from_policy(config, env_kwargs)
    return _from_api(config, env_kwargs)


def _task_ids(config: CollectConfig, env_kwargs: dict) -> list[int]:
    import gymnasium as gym

    import agent_gym  # noqa: F401  registers the ids

    env = gym.make(config.env, split=config.split, **env_kwargs)
    try:
        n = env.unwrapped.num_tasks
    finally:
        env.close()
    return list(range(min(n, config.tasks) if config.tasks else n))


def _from_policy(config: CollectConfig, env_kwargs: dict) -> list:
    from trainers.core.optim import resolve_device
    from trainers.core.policy import Policy
    from trainers.core.rollout import collect, episode_to_trajectory

    policy = Policy.load(config.policy, device=resolve_device(config.device))
    episodes = collect(policy, config.env, _task_ids(config, env_kwargs), k=config.k, split=config.split,
                       temperature=config.temperature, max_new_tokens=config.max_new_tokens, fmt=config.fmt,
                       history=config.history, seed=config.seed, batch=config.batch, env_kwargs=env_kwargs)
    name = f"policy:{Path(config.policy).name}"
    return [episode_to_trajectory(e, env_id=config.env, agent=name, split=config.split, env_kwargs=env_kwargs,
                                  seed=config.seed) for e in episodes]


def _from_api(config: CollectConfig, env_kwargs: dict) -> list:
    from agent_gym.core.trajectory import read_trajectories
    from agent_gym.eval.runner import EvalConfig, evaluate

    runs = Path(config.output).with_suffix("").as_posix() + "_runs"
    agent_kwargs: dict[str, Any] = {"model": config.api_model, "temperature": config.temperature,
                                    "max_tokens": config.max_new_tokens}
    if config.base_url:
        agent_kwargs["base_url"] = config.base_url
    by_task: dict[int, list] = {}
    for s in range(config.k):
        folder = Path(runs) / f"sample-{s}"
        evaluate(EvalConfig(env_id=config.env, agent="react", split=config.split, n=config.tasks or None,
                            seed=config.seed + s, output=str(folder), env_kwargs=env_kwargs,
                            agent_kwargs={**agent_kwargs, "seed": config.seed + s}, progress=False))
        for t in read_trajectories(folder / "trajectories.jsonl"):
            by_task.setdefault(int(t.task_id), []).append(t)
    return [t for task in sorted(by_task) for t in by_task[task]]


def run(config: CollectConfig) -> dict[str, Any]:
    from agent_gym.core.trajectory import write_trajectories

    if not config.output:
        raise ValueError("--output is required")
    trajs = collect_trajectories(config)
    Path(config.output).parent.mkdir(parents=True, exist_ok=True)
    write_trajectories(config.output, trajs)
    won = sum(t.won for t in trajs)
    tasks = {t.task_id for t in trajs}
    mixed = sum(1 for task in tasks if 0 < sum(t.won for t in trajs if t.task_id == task) < config.k)
    return {"output": config.output, "trajectories": len(trajs), "tasks": len(tasks), "won": won,
            "success": won / max(1, len(trajs)), "tasks_with_both_outcomes": mixed}


def main(argv: list[str] | None = None) -> int:
    return cli.run(CollectConfig, run, argv, "trainers.collect", __doc__)


if __name__ == "__main__":
    sys.exit(main())
