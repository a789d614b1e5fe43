"""RFT: rejection-sampling fine-tuning on the policy's own successful trajectories.

    python -m trainers.rft --model SFT_DIR --demos DEMOS/trajectories.jsonl --output runs/rft

Yuan et al. 2023, "Scaling Relationship on Learning Mathematical Reasoning with Large Language
Models": sample ``k`` trajectories per training task from the (SFT) model, keep the correct ones,
de-duplicate them, and fine-tune on them together with the original demonstrations. Here a
trajectory is kept when its reward reaches ``--threshold`` (default 1: a success), distinct
means a distinct sequence of replies per task, and iterations repeat the loop from the new
model (expert iteration / ReST-style; ``--from-base`` fine-tunes the starting model each time
instead, as the paper's single round does). Only the *won* demonstrations join the data, as
in SFT (``--no-only-won`` keeps the failed ones too): a failed expert episode is not a
correct answer.

Defaults: k = 4 (the paper samples up to 100 reasoning paths per question at temperature 0.7;
agent episodes are longer, so fewer), temperature 0.7, 1 iteration, the SFT trainer's own
settings otherwise (3 epochs, lr 2e-5). Each iteration lives in ``output_dir/iter-<i>/``
(sampled trajectories' step samples in ``samples.jsonl``, the SFT run); ``--resume`` continues
an interrupted run.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from trainers import sft
from trainers.core import cli
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig, shared
from trainers.core.data import TrajectorySample, dedupe, flatten, trajectory_to_samples, write_step_samples
from trainers.eto import load_demos, save_config


@dataclass
class RFTConfig(TrainerConfig):
    model: str = opt("", "the model to sample from and fine-tune (usually an SFT model)")
    demos: str = opt("", "expert trajectory records: the training tasks, env and split; also trained on unless "
                         "--no-include-demos")
    output_dir: str = opt("runs/rft", "iter-<i>/ folders and final/ go here")
    iterations: int = opt(1, "sample -> filter -> fine-tune rounds (RFT: 1)")
    k: int = opt(4, "trajectories sampled per task")
    temperature: float = opt(0.7, "sampling temperature (RFT: 0.7)")
    threshold: float = opt(1.0, "keep trajectories whose total reward is at least this")
    include_demos: bool = opt(True, "train on the demonstrations too (as RFT does)")
    only_won: bool = opt(True, "train only on the won demonstrations, as SFT does (--no-only-won: all of them)")
    from_base: bool = opt(False, "fine-tune the starting model at every iteration (else the previous iterate)")
    max_tasks: int = opt(0, "sample only the first N demo tasks (0: all)")
    max_new_tokens: int = opt(128, "tokens per reply when sampling")
    rollout_batch: int = opt(64, "envs played side by side when sampling")
    epochs: int = opt(3, "SFT epochs per iteration")
    lr: float = opt(2e-5, "SFT learning rate (tiny test models: ~1e-2)")
    batch_size: int = opt(4, "samples per micro-batch")
    grad_accum: int = opt(16, "micro-batches per optimizer step")
    max_length: int = opt(2048, "tokens per step sample")


def sample_tasks(config, model: str, records, seed: int):
    """``k`` episodes per demo task from ``model``."""
    from trainers.core.optim import resolve_device
    from trainers.core.policy import Policy
    from trainers.core.rollout import collect

    policy = Policy.load(model, device=resolve_device(config.device))
    return collect(policy, records[0].env_id, [t.task_id for t in records], k=config.k,
                   split=records[0].split or "train", temperature=config.temperature,
                   max_new_tokens=config.max_new_tokens, fmt=config.fmt, history=config.history, seed=seed,
                   batch=config.rollout_batch, env_kwargs=dict(records[0].env_kwargs or {}), progress=config.progress)


def sft_config(config, model: str, data: Path, output_dir: Path, seed: int) -> sft.SFTConfig:
    return sft.SFTConfig(**shared(config, model=model, output_dir=str(output_dir), seed=seed), data=str(data),
                         epochs=config.epochs, lr=config.lr, batch_size=config.batch_size,
                         grad_accum=config.grad_accum, max_length=config.max_length, save_every=0, log_every=1)


def demo_successes(expert: Sequence[TrajectorySample], only_won: bool = True) -> list[TrajectorySample]:
    """The demonstrations that may be trained on as successes: the won ones (as SFT's
    ``only_won``), or all with ``only_won=False``. RFT, NAT and SFT agree on this."""
    return [t for t in expert if t.won or not only_won]


def training_set(expert: Sequence[TrajectorySample], kept: Sequence[TrajectorySample], include_demos: bool = True,
                 only_won: bool = True) -> list[TrajectorySample]:
    """RFT's data: the (won) demonstrations, if included, and the kept distinct samples."""
    return (demo_successes(expert, only_won) if include_demos else []) + list(kept)


def train(config: RFTConfig) -> dict[str, Any]:
    if not config.model or not config.demos:
        raise ValueError("RFTConfig.model and RFTConfig.demos are required")
    from trainers.core.distributed import Dist
    from trainers.core.optim import resolve_device

    dist = Dist(resolve_device(config.device))  # under accelerate: the main process samples and writes
    if dist.is_main:
        save_config(config)
    out = Path(config.output_dir)
    records, expert = load_demos(config.demos, config.fmt, config.history, config.max_tasks)
    current, summary = config.model, []
    for i in range(config.iterations):
        idir = out / f"iter-{i}"
        done_file = idir / "iteration.json"
        if config.resume and done_file.is_file():
            info = json.loads(done_file.read_text())
            summary.append(info)
            current = info["final_dir"]
            continue
        data = idir / "samples.jsonl"
        stats_file = idir / "sampling.json"
        if not (config.resume and data.is_file() and stats_file.is_file()) and dist.is_main:
            episodes = sample_tasks(config, current, records, config.seed + 1000 * i)
            sampled = [trajectory_to_samples(e, source="policy") for e in episodes]
            kept = dedupe([t for t in sampled if t.reward >= config.threshold])
            train_set = training_set(expert, kept, config.include_demos, config.only_won)
            if not train_set:
                raise RuntimeError(f"iteration {i}: no trajectory reached reward {config.threshold} and no demos "
                                   f"to train on; lower --threshold or sample more (--k)")
            write_step_samples(data, flatten(train_set))
            stats = {"sampled": len(episodes), "success": sum(e.won for e in episodes) / len(episodes),
                     "kept": len(kept), "tasks_solved": len({t.task_id for t in kept}),
                     "reward": sum(e.total_reward for e in episodes) / len(episodes)}
            stats_file.write_text(json.dumps(stats))
        dist.barrier()
        stats = json.loads(stats_file.read_text())
        print(f"[rft] iteration {i}: sampled success {stats['success']:.1%}, kept {stats['kept']} distinct "
              f"trajectories on {stats['tasks_solved']} tasks", file=sys.stderr)
        start = config.model if config.from_base else current
        result = sft.train(sft_config(config, start, data, idir / "sft", config.seed + i))
        info = {"iteration": i, **stats, "final_dir": result["final_dir"], "loss": result["epoch_loss"]}
        if dist.is_main:
            done_file.write_text(json.dumps(info))
        summary.append(info)
        current = result["final_dir"]
    result = {"iterations": summary, "final_dir": current}
    if dist.is_main:
        (out / "final_metrics.json").write_text(json.dumps(result, indent=2))
    dist.barrier()
    return result


def main(argv: list[str] | None = None) -> int:
    return cli.run(RFTConfig, train, argv, "trainers.rft", __doc__)


if __name__ == "__main__":
    sys.exit(main())
