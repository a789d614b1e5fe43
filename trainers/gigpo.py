"""GiGPO (and GRPO): online RL with group-relative episode and anchor-state step advantages.

    python -m trainers.gigpo --model SFT_DIR --env agent_gym/WebShop-v0 --output runs/gigpo
    python -m trainers.gigpo --model SFT_DIR --omega 0 --output runs/grpo          # GRPO
    python -m trainers.gigpo --model SFT_DIR --omega 0 --baseline rloo --output runs/rloo   # RLOO

Feng et al. 2025, "Group-in-Group Policy Optimization for LLM Agent Training". Each iteration

1. **rolls out** ``tasks_per_iteration`` training tasks x ``group_size`` trajectories each,
   stepped as one batch (``trainers.core.rollout``); every agent step is a training sample
   (its prompt, as verl-agent builds it: the task, the last ``history`` turns, the current
   observation and the available actions; its reply);
2. **scores** each step with ``A = A^E + omega * A^S`` (``trainers.core.advantages``): the
   episode advantage within the task's group, plus the step advantage within the group of
   steps taken from the same state (``info["anchor"]`` before the step); invalid actions
   (and replies with no action) pay ``invalid_penalty``;
3. **updates** the policy with PPO's clipped loss (dual clip) on the reply tokens
   (``trainers.core.rl_losses``), plus ``kl_coef`` x the k3 KL to the starting model and minus
   ``entropy_coef`` x the entropy, for ``ppo_epochs`` passes over mini-batches of step samples.

The loop, the PPO update and checkpoints are ``trainers.core.online``'s (shared with PPO and
StepAgent). Defaults follow the paper's WebShop/ALFWorld settings where it states them: group size 8,
omega 1, gamma 0.95, clip 0.2, KL 0.01, invalid-action penalty 0.1, lr 1e-6 (for 1.5B-7B
models; tiny test models need ~1e-3). Checkpoints every ``save_every`` iterations resume the
run (model, optimizer, random states, iteration).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from trainers.core import cli
from collections import Counter

from trainers.core.advantages import gigpo_advantages
from trainers.core.cli import opt
from trainers.core.online import OnlineConfig, RolloutTrainer, step_records, step_sample

__all__ = ["GiGPOConfig", "GiGPOTrainer", "main", "step_records", "train"]


@dataclass
class GiGPOConfig(OnlineConfig):
    output_dir: str = opt("runs/gigpo", "checkpoints/, metrics.jsonl and final/ go here")
    omega: float = opt(1.0, "weight of the step advantage (0: GRPO)")
    gamma: float = opt(0.95, "discount of step returns (GiGPO: 0.95)")
    use_std: bool = opt(True, "divide advantages by the group std (--no-use-std: mean-only)")
    episode_stats: str = opt("trajectory", "episode mean/std over trajectories (paper) or step samples")
    group_by: str = opt("anchor", "anchor groups by exact state (anchor) or page pattern (page)")
    baseline: str = opt("group", "episode advantage: group (GRPO/GiGPO normalisation) or rloo (leave-one-out)")


class GiGPOTrainer(RolloutTrainer):
    name = "gigpo"

    def __init__(self, config: GiGPOConfig):
        if config.baseline not in ("group", "rloo"):
            raise ValueError(f"baseline must be 'group' or 'rloo', not {config.baseline!r}")
        super().__init__(config)

    def score(self, episodes, iteration):
        c = self.config
        g = c.group_size
        samples, sizes = [], []
        for k in range(len(episodes) // g):
            members = episodes[k * g:(k + 1) * g]
            records = [step_records(e) for e in members]
            advs = gigpo_advantages(records, omega=c.omega, gamma=c.gamma, use_std=c.use_std,
                                    episode_stats=c.episode_stats, group_by=c.group_by,
                                    invalid_penalty=c.invalid_penalty, baseline=c.baseline)
            sizes += Counter(r.anchor if c.group_by == "anchor" else r.page for rec in records for r in rec).values()
            for e, a in zip(members, advs):
                samples += [step_sample(s, adv) for s, adv in zip(e.steps, a) if s.response_ids]
        stats = {"anchor_groups": len(sizes), "anchor_group_size": sum(sizes) / max(1, len(sizes))}
        if samples:
            stats["advantage_abs"] = sum(abs(s["advantage"]) for s in samples) / len(samples)
        return samples, stats


def train(config: GiGPOConfig) -> dict:
    return GiGPOTrainer(config).train()


def main(argv: list[str] | None = None) -> int:
    return cli.run(GiGPOConfig, train, argv, "trainers.gigpo", __doc__)


if __name__ == "__main__":
    sys.exit(main())
