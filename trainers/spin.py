"""SPIN: self-play fine-tuning, the expert trajectory against the policy's own.

    python -m trainers.spin --model SFT_DIR --demos DEMOS/trajectories.jsonl --output runs/spin

Chen et al. 2024, "Self-Play Fine-Tuning Converts Weak Language Models to Strong Language
Models". At iteration ``t`` the current model ``p_t`` plays every task of the expert
demonstrations; each pair is (real = the expert's trajectory, generated = ``p_t``'s own) whatever
their rewards (SPIN needs no reward: it pushes the model's distribution towards the expert
data's); the next iterate minimises the logistic loss of ``trainers.core.losses.spin_loss``
with ``p_t`` as the reference. A generated trajectory identical to the expert's is dropped (its
two log-ratios cancel: it has no gradient).

The loop (exploration, pairs, a DPO-form run per iteration, resume) is ETO's
(``trainers.eto.run_rounds``); the logistic loss equals DPO's sigmoid loss, which the DPO
trainer computes. Defaults: beta (the paper's lambda) 0.1 and 3 iterations as in the paper's
experiments (iterations 0 to 3); the paper's lr (5e-7 for 7B, 1e-7 at later iterations) is
for 7B models, tiny test models need ~1e-3.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Sequence

from trainers import dpo
from trainers.core import cli
from trainers.core.cli import opt
from trainers.core.data import TrajectorySample
from trainers.eto import ETOConfig, run_rounds, save_config


@dataclass
class SPINConfig(ETOConfig):
    output_dir: str = opt("runs/spin", "iteration folders (round-<i>/) and final/ go here")
    rounds: int = opt(3, "self-play iterations (SPIN: 3)")
    lr: float = opt(5e-7, "learning rate (SPIN: 5e-7 for 7B; tiny test models: ~1e-3)")
    epochs: int = opt(2, "epochs per iteration (SPIN: 2)")
    later_beta: float = opt(0.1, "beta of the iterations after the first (SPIN keeps lambda 0.1)")
    later_lr_scale: float = opt(1.0, "later iterations train at lr x this (SPIN's 7B runs: 5e-7 then 1e-7, 0.2)")
    rejected_extra_turns: int = opt(-1, "(ETO's cut; SPIN keeps the generated trajectory whole)")


def real_vs_generated_pairs(expert: Sequence[TrajectorySample], generated: Sequence[TrajectorySample]) -> list:
    """(real, generated) for every task the policy played, unless the two replies are identical."""
    by_task = {t.task_id: t for t in expert}
    pairs = []
    for g in generated:
        real = by_task.get(g.task_id)
        if real is None or [s.response.strip() for s in real.steps] == [s.response.strip() for s in g.steps]:
            continue
        pairs.append(dpo.Pair(g.task_id, real, g))
    return pairs


def train(config: SPINConfig) -> dict[str, Any]:
    if not config.model or not config.demos:
        raise ValueError("SPINConfig.model and SPINConfig.demos are required")
    if config.nll_weight:
        raise ValueError("SPIN's loss has no NLL term: leave nll_weight at 0")
    save_config(config)
    return run_rounds(config, real_vs_generated_pairs, "spin", config.rounds)


def main(argv: list[str] | None = None) -> int:
    return cli.run(SPINConfig, train, argv, "trainers.spin", __doc__)


if __name__ == "__main__":
    sys.exit(main())
