"""NAT: negative-aware training, fine-tuning on successes and failures marked as such.

    python -m trainers.nat --model SFT_DIR --demos DEMOS/trajectories.jsonl --output runs/nat

Wang et al. 2024, "Learning From Failure: Integrating Negative Examples when Fine-tuning Large
Language Models as Agents". Trajectories sampled from a model are kept whatever their outcome;
each is marked in the prompt as a success or a failure, so the model learns from the failed
ones without being taught to fail; at inference the prompt carries the success mark. Here the
mark is a line at the end of each step's request, right before the reply (``--positive-mark``
/ ``--negative-mark``; our wording), the won expert demonstrations are included as successes
(failed ones are left out as SFT leaves them, or marked as failures with ``--no-only-won``), and
failures are capped at ``--max-negative-ratio`` times the successes (the paper studies this
ratio; we default to 0.5).

To act with the success mark, pass the mark the trainer writes to ``final/nat.json`` as
``mark=`` to ``trainers.core.rollout`` (``rollout``, ``collect``, ``evaluate_policy``).
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from trainers import sft
from trainers.core import cli
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig
from trainers.core.data import (TrajectorySample, dedupe, flatten, trajectory_to_samples, with_mark,
                                write_step_samples)
from trainers.eto import load_demos, save_config
from trainers.rft import demo_successes, sample_tasks, sft_config

POSITIVE = "Outcome: success."
NEGATIVE = "Outcome: failure."


@dataclass
class NATConfig(TrainerConfig):
    model: str = opt("", "the model to sample from and fine-tune (usually an SFT model)")
    demos: str = opt("", "expert trajectory records: the training tasks, env and split (trained on as successes)")
    output_dir: str = opt("runs/nat", "samples.jsonl, the SFT run and final/ go here")
    k: int = opt(4, "trajectories sampled per task")
    temperature: float = opt(1.0, "sampling temperature")
    threshold: float = opt(1.0, "a trajectory with total reward >= this is a success, else a failure")
    max_negative_ratio: float = opt(0.5, "at most this many failures per success in the data")
    only_won: bool = opt(True, "failed demonstrations are left out, as SFT leaves them (--no-only-won: they "
                               "join the failures, with the failure mark)")
    positive_mark: str = opt(POSITIVE, "last line of each request of successful trajectories, and when acting")
    negative_mark: str = opt(NEGATIVE, "last line of each request of failed trajectories")
    max_tasks: int = opt(0, "sample only the first N demo tasks (0: all)")
    max_new_tokens: int = opt(128, "tokens per reply when sampling")
    rollout_batch: int = opt(64, "envs played side by side when sampling")
    epochs: int = opt(3, "SFT epochs")
    lr: float = opt(2e-5, "SFT learning rate (tiny test models: ~1e-2)")
    batch_size: int = opt(4, "samples per micro-batch")
    grad_accum: int = opt(16, "micro-batches per optimizer step")
    max_length: int = opt(2048, "tokens per step sample")


def outcome_sets(expert: Sequence[TrajectorySample], sampled: Sequence[TrajectorySample],
                 config: NATConfig) -> tuple[list[TrajectorySample], list[TrajectorySample]]:
    """``(successes, failures)``: the won demonstrations and the samples reaching
    ``threshold``; the samples below it (and, with ``only_won=False``, the failed
    demonstrations), at most ``max_negative_ratio`` per success, drawn with ``seed``."""
    good = demo_successes(expert, True) + [t for t in sampled if t.reward >= config.threshold]
    failed_demos = [] if config.only_won else [t for t in expert if not t.won]
    bad = failed_demos + [t for t in sampled if t.reward < config.threshold]
    cap = int(config.max_negative_ratio * len(good))
    if len(bad) > cap:
        bad = random.Random(config.seed).sample(bad, cap)
    return good, bad


def train(config: NATConfig) -> dict[str, Any]:
    if not config.model or not config.demos:
        raise ValueError("NATConfig.model and NATConfig.demos are required")
    from trainers.core.distributed import Dist
    from trainers.core.optim import resolve_device

    dist = Dist(resolve_device(config.device))  # under accelerate: the main process samples and writes
    if dist.is_main:
        save_config(config)
    out = Path(config.output_dir)
    records, expert = load_demos(config.demos, config.fmt, config.history, config.max_tasks)
    data, stats_file = out / "samples.jsonl", out / "sampling.json"
    if not (config.resume and data.is_file() and stats_file.is_file()) and dist.is_main:
        episodes = sample_tasks(config, config.model, records, config.seed)
        sampled = dedupe([trajectory_to_samples(e, source="policy") for e in episodes])
        good, bad = outcome_sets(expert, sampled, config)
        samples = ([with_mark(s, config.positive_mark) for s in flatten(good)] +
                   [with_mark(s, config.negative_mark) for s in flatten(bad)])
        write_step_samples(data, samples)
        stats = {"sampled": len(episodes), "success": sum(e.won for e in episodes) / len(episodes),
                 "positive": len(good), "negative": len(bad)}
        stats_file.write_text(json.dumps(stats))
    dist.barrier()
    stats = json.loads(stats_file.read_text())
    print(f"[nat] sampled success {stats['success']:.1%}; training on {stats['positive']} successes and "
          f"{stats['negative']} failures", file=sys.stderr)
    result = sft.train(sft_config(config, config.model, data, out / "sft", config.seed))
    if result["final_dir"] and dist.is_main:
        Path(result["final_dir"], "nat.json").write_text(json.dumps({"mark": config.positive_mark}, indent=2))
    summary = {**stats, "final_dir": result["final_dir"], "loss": result["epoch_loss"], "mark": config.positive_mark}
    if dist.is_main:
        (out / "final_metrics.json").write_text(json.dumps(summary, indent=2))
    dist.barrier()
    return summary


def main(argv: list[str] | None = None) -> int:
    return cli.run(NATConfig, train, argv, "trainers.nat", __doc__)


if __name__ == "__main__":
    sys.exit(main())
