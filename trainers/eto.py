"""ETO: rounds of exploration and DPO on (success, failure) trajectory pairs.

    python -m trainers.eto --model SFT_DIR --demos DEMOS/trajectories.jsonl --output runs/eto

Song et al. 2024, "Trial and Error: Exploration-Based Trajectory Optimization for LLM Agents".
Starting from a behaviour-cloned (SFT) policy, each round

1. **explores**: the current policy plays every training task that has an expert trajectory
   (the demos' tasks, their env and split);
2. **pairs** each of its trajectories with the expert trajectory of the same task: chosen = the
   higher reward, ties dropped (a policy trajectory as good as the expert's teaches nothing);
   a rejected policy trajectory is cut to the expert's number of turns plus
   ``--rejected-extra-turns`` (ETO's ``construct_preference.py`` keeps at most 5 turns more than
   the golden trajectory on WebShop and ScienceWorld: failures can run much longer than
   successes; it does not cut on ALFWorld: ``--rejected-extra-turns -1``);
3. **trains** with DPO (``trainers.dpo``) with the round's starting policy as the reference.

Defaults follow the ETO repository (github.com/Yifan-Song793/ETO, ``run_eto.sh``): 3 rounds,
3 DPO epochs, beta 0.1 and lr 1e-6 in the first round, beta 0.5 (``--later-beta``) and half the
learning rate (``--later-lr-scale 0.5``: 5e-7) in the rounds after it; the policy explores once
per task with sampling at temperature 1. Where we differ: the DPO schedule decays linearly after
warmup (ETO's is constant after a 10% warmup); lr 1e-6 is for 7B-size models (tiny test models:
~1e-3); an optional NLL term on the chosen trajectory (``--nll-weight``, off by default as in
the paper). Each round lives in ``output_dir/round-<i>/`` (explored trajectories, pairs, the DPO run);
a killed run resumes at the round and DPO step it reached (``--resume``).

SPIN (``trainers.spin``) is the same loop with other pairs: the expert against the policy's own
trajectory, whatever their rewards.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from trainers import dpo
from trainers.core import cli
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig, shared
from trainers.core.data import TrajectorySample, trajectory_to_samples

PairBuilder = Callable[[Sequence[TrajectorySample], Sequence[TrajectorySample]], list]


@dataclass
class ETOConfig(TrainerConfig):
    model: str = opt("", "the SFT model to start from (a folder)")
    demos: str = opt("", "expert trajectory records (agent-gym demos ... trajectories.jsonl): tasks, env, split")
    output_dir: str = opt("runs/eto", "round-<i>/ folders and final/ go here")
    rounds: int = opt(3, "explore -> pairs -> DPO rounds")
    max_tasks: int = opt(0, "explore only the first N demo tasks (0: all)")
    temperature: float = opt(1.0, "sampling temperature of exploration")
    max_new_tokens: int = opt(128, "tokens per reply when exploring")
    rollout_batch: int = opt(64, "envs played side by side when exploring")
    beta: float = opt(0.1, "DPO beta of the first round (ETO: 0.1)")
    later_beta: float = opt(0.5, "DPO beta of the rounds after the first (ETO's run_eto.sh: 0.5)")
    later_lr_scale: float = opt(0.5, "the rounds after the first train at lr x this (ETO: 1e-6 then 5e-7)")
    rejected_extra_turns: int = opt(5, "cut a rejected policy trajectory to the expert's turns + this many "
                                       "(ETO on WebShop/ScienceWorld: 5; -1: no cut, as ETO on ALFWorld)")
    nll_weight: float = opt(0.0, "NLL term on the chosen trajectory (0: none, as in the paper)")
    epochs: int = opt(3, "DPO epochs per round")
    lr: float = opt(1e-6, "DPO learning rate of the first round (ETO: 1e-6 for 7B; tiny test models: ~1e-3)")
    batch_size: int = opt(4, "pairs per micro-batch")
    grad_accum: int = opt(8, "micro-batches per optimizer step")
    max_length: int = opt(4096, "tokens per step sample")
    stop_after_rounds: int = opt(0, "stop after this many rounds are complete (0: run all); for tests")


def load_demos(path: str | Path, fmt: str, history: int, max_tasks: int = 0) -> tuple[list, list[TrajectorySample]]:
    """The expert trajectory records (one per task, won ones first) and their step samples."""
    from agent_gym.core.trajectory import read_trajectories

    by_task: dict[int, Any] = {}
    for t in read_trajectories(path):
        if t.task_id not in by_task or (t.won and not by_task[t.task_id].won):
            by_task[t.task_id] = t
    records = [by_task[k] for k in sorted(by_task)]
    if max_tasks:
        records = records[:max_tasks]
    if not records:
        raise ValueError(f"no trajectories in {path}")
    envs = {(t.env_id, t.split) for t in records}
    if len(envs) > 1:
        raise ValueError(f"{path} mixes envs/splits {sorted(envs)}: give the demos of one env and split")
    return records, [trajectory_to_samples(t, fmt=fmt, history=history, source="expert") for t in records]


def expert_vs_policy_pairs(expert: Sequence[TrajectorySample], explored: Sequence[TrajectorySample],
                           extra_turns: int = -1) -> list:
    """ETO's pairs: chosen = the higher reward of (expert, policy) on each task; ties dropped.
    With ``extra_turns >= 0`` a rejected policy trajectory (the expert won) keeps at most the
    expert's number of turns plus ``extra_turns`` (ETO's ``construct_preference.py``)."""
    pairs = dpo.make_pairs(expert, explored)
    if extra_turns >= 0:
        experts = {id(t) for t in expert}
        for p in pairs:
            if id(p.chosen) in experts:
                p.rejected = dataclasses.replace(p.rejected, steps=p.rejected.steps[:len(p.chosen.steps) + extra_turns])
    return pairs


def round_settings(config, r: int) -> tuple[float, float]:
    """``(beta, lr)`` of round ``r`` (0-based): the first round's, then ETO's later ones."""
    if r == 0:
        return config.beta, config.lr
    return getattr(config, "later_beta", config.beta), config.lr * getattr(config, "later_lr_scale", 1.0)


def run_rounds(config, build_pairs: PairBuilder, name: str, rounds: int) -> dict[str, Any]:
    """The loop ETO and SPIN share: explore with the current model, build pairs, DPO with the
    round's starting model as reference; returns a summary per round."""
    import torch

    from trainers.core.distributed import Dist
    from trainers.core.optim import resolve_device
    from trainers.core.policy import Policy
    from trainers.core.rollout import collect

    dist = Dist(resolve_device(config.device))

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    records, expert = load_demos(config.demos, config.fmt, config.history, config.max_tasks)
    env_id, split = records[0].env_id, records[0].split or "train"
    env_kwargs = dict(records[0].env_kwargs or {})
    task_ids = [t.task_id for t in records]
    current, summary = config.model, []
    for r in range(rounds):
        rdir = out / f"round-{r}"
        done_file = rdir / "round.json"
        if done_file.is_file() and config.resume:
            info = json.loads(done_file.read_text())
            summary.append(info)
            current = info["final_dir"]
            continue
        rdir.mkdir(parents=True, exist_ok=True)
        pairs_file = rdir / "pairs.jsonl"
        if (config.resume and pairs_file.is_file()) or not dist.is_main:
            dist.barrier()  # under accelerate the main process explores and writes the pairs
            pairs = dpo.read_pairs(pairs_file)
            explore = json.loads((rdir / "explore.json").read_text())
        else:
            policy = Policy.load(current, device=resolve_device(config.device))
            episodes = collect(policy, env_id, task_ids, k=1, split=split, temperature=config.temperature,
                               max_new_tokens=config.max_new_tokens, fmt=config.fmt, history=config.history,
                               seed=config.seed + 1000 * r, batch=config.rollout_batch, env_kwargs=env_kwargs,
                               progress=config.progress)
            explored = [trajectory_to_samples(e, source="policy") for e in episodes]
            pairs = build_pairs(expert, explored)
            explore = {"success": sum(e.won for e in episodes) / len(episodes),
                       "reward": sum(e.total_reward for e in episodes) / len(episodes), "episodes": len(episodes)}
            (rdir / "explore.json").write_text(json.dumps(explore))
            dpo.write_pairs(pairs_file, pairs)
            dist.barrier()
            del policy
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        print(f"[{name}] round {r}: policy success {explore['success']:.1%} on {explore['episodes']} tasks, "
              f"{len(pairs)} pairs", file=sys.stderr)
        if not pairs:
            print(f"[{name}] round {r}: no pairs (the policy matches the expert on every task); stopping",
                  file=sys.stderr)
            break
        beta, lr = round_settings(config, r)
        result = dpo.train(dpo.DPOConfig(**shared(
            config, model=current, output_dir=str(rdir / "dpo"), seed=config.seed + r), beta=beta,
            nll_weight=getattr(config, "nll_weight", 0.0), epochs=config.epochs, lr=lr,
            batch_size=config.batch_size, grad_accum=config.grad_accum, max_length=config.max_length,
            save_every=0, log_every=1), pairs)
        info = {"round": r, "explore_success": explore["success"], "explore_reward": explore["reward"],
                "pairs": len(pairs), "beta": beta, "lr": lr,
                "end_margin": result["end_margin"], "final_dir": result["final_dir"]}
        if dist.is_main:
            done_file.write_text(json.dumps(info))
        summary.append(info)
        current = result["final_dir"]
        if getattr(config, "stop_after_rounds", 0) and r + 1 >= config.stop_after_rounds and r + 1 < rounds:
            print(f"[{name}] stopping after round {r} (stop_after_rounds); resume with --resume", file=sys.stderr)
            return {"rounds": summary, "final_dir": None}
    final = out / "final"
    result = {"rounds": summary, "final_dir": str(final) if current != config.model else None}
    if dist.is_main:
        if current != config.model:
            _link_final(Path(current), final)
        (out / "final_metrics.json").write_text(json.dumps(result, indent=2))
    dist.barrier()
    return result


def _link_final(src: Path, final: Path) -> None:
    """``final/``: a copy of the last round's model (small next to the checkpoints it replaces)."""
    import shutil

    if final.exists():
        shutil.rmtree(final)
    shutil.copytree(src, final)


def save_config(config) -> None:
    """``output_dir/config.json`` (by the main process only, under a multi-process launcher)."""
    import os

    if int(os.environ.get("RANK", "0")) != 0:
        return
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))


def train(config: ETOConfig) -> dict[str, Any]:
    if not config.model or not config.demos:
        raise ValueError("ETOConfig.model and ETOConfig.demos are required")
    save_config(config)
    def build(expert, explored):
        return expert_vs_policy_pairs(expert, explored, config.rejected_extra_turns)
    return run_rounds(config, build, "eto", config.rounds)


def main(argv: list[str] | None = None) -> int:
    return cli.run(ETOConfig, train, argv, "trainers.eto", __doc__)


if __name__ == "__main__":
    sys.exit(main())
