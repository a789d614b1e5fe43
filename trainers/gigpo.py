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
   steps taken from the same state (``info["anchor"]`` before the step; or observations at
   least ``--similarity-threshold`` alike with ``--group-by similar``); invalid actions (and
   replies with no action) pay ``invalid_penalty`` on their own sample (``--penalty-on``);
3. **updates** the policy with PPO's clipped loss (dual clip) on the reply tokens
   (``trainers.core.rl_losses``), plus ``kl_coef`` x the k3 KL to the starting model and minus
   ``entropy_coef`` x the entropy, for ``ppo_epochs`` passes over mini-batches of step samples.

The loop, the PPO update and checkpoints are ``trainers.core.online``'s (shared with PPO and
StepAgent). Defaults follow the paper's WebShop/ALFWorld settings where it states them: group size 8,
omega 1, gamma 0.95, clip 0.2, KL 0.01, invalid-action penalty 0.1, lr 1e-6 (for 1.5B-7B
models; tiny test models need ~1e-3), and verl-agent's advantage code where the paper is
silent (``trainers.core.advantages``: episode statistics over step samples, the penalty on
the offending sample). ``--preset verl-agent-webshop`` sets everything verl-agent's WebShop
script sets (``docs/verl_agent_webshop.md``: setting by setting, where our defaults differ). Checkpoints every ``save_every`` iterations resume the
run (model, optimizer, random states, iteration).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from trainers.core import cli
from trainers.core.advantages import EPISODE_STATS, GROUP_BY, PENALTY_MODES, anchor_groups, gigpo_advantages
from trainers.core.cli import opt
from trainers.core.online import OnlineConfig, RolloutTrainer, step_records, step_sample

__all__ = ["GiGPOConfig", "GiGPOTrainer", "main", "step_records", "train"]


@dataclass
class GiGPOConfig(OnlineConfig):
    output_dir: str = opt("runs/gigpo", "checkpoints/, metrics.jsonl and final/ go here")
    omega: float = opt(1.0, "weight of the step advantage (0: GRPO)")
    gamma: float = opt(0.95, "discount of step returns (GiGPO: 0.95)")
    use_std: bool = opt(True, "divide advantages by the group std (--no-use-std: mean-only)")
    episode_stats: str = opt("step", "episode mean/std over the group's step samples (verl-agent) or its "
                                     "trajectories (trajectory: the paper's Eq. 3)")
    group_by: str = opt("anchor", "step groups: equal states (anchor), observations at least "
                                  "--similarity-threshold alike (similar, verl-agent), or page pattern (page: coarser)")
    similarity_threshold: float = opt(0.95, "SequenceMatcher ratio that makes two observations one group "
                                            "(--group-by similar; verl-agent: 0.95)")
    penalty_on: str = opt("sample", "invalid_penalty on the offending step's own sample (verl-agent) or on the "
                                    "reward before returns are summed (return)")
    win_reward: float = opt(0.0, "if > 0, train on win_reward for a won episode and 0 otherwise instead of "
                                 "the env's rewards (verl-agent WebShop: 10)")
    baseline: str = opt("group", "episode advantage: group (GRPO/GiGPO normalisation) or rloo (leave-one-out)")


class GiGPOTrainer(RolloutTrainer):
    name = "gigpo"

    def __init__(self, config: GiGPOConfig):
        if config.baseline not in ("group", "rloo"):
            raise ValueError(f"baseline must be 'group' or 'rloo', not {config.baseline!r}")
        for name, value, allowed in (("episode_stats", config.episode_stats, EPISODE_STATS),
                                     ("group_by", config.group_by, GROUP_BY),
                                     ("penalty_on", config.penalty_on, PENALTY_MODES)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {value!r}")
        if not 0.0 < config.similarity_threshold <= 1.0:
            raise ValueError(f"similarity_threshold must lie in (0, 1], got {config.similarity_threshold}")
        if config.win_reward < 0:
            raise ValueError(f"win_reward must be >= 0, got {config.win_reward}")
        super().__init__(config)

    # across processes: group counts add up, the mean group size is weighted by the count
    summed_stats = ("anchor_groups",)
    stat_weights = {"anchor_group_size": "anchor_groups"}

    def score(self, episodes, iteration):
        c = self.config
        g = c.group_size
        samples, sizes = [], []
        for k in range(len(episodes) // g):
            members = episodes[k * g:(k + 1) * g]
            records = [step_records(e, c.win_reward or None) for e in members]
            groups = anchor_groups(records, c.group_by, c.similarity_threshold) if c.omega else None
            advs = gigpo_advantages(records, omega=c.omega, gamma=c.gamma, use_std=c.use_std,
                                    episode_stats=c.episode_stats, group_by=c.group_by,
                                    invalid_penalty=c.invalid_penalty, penalty=c.penalty_on,
                                    similarity_threshold=c.similarity_threshold, baseline=c.baseline,
                                    groups=groups)
            sizes += [len(p) for p in groups or ()]
            for e, a in zip(members, advs):
                samples += [step_sample(s, adv) for s, adv in zip(e.steps, a) if s.response_ids]
        stats = {"anchor_groups": len(sizes), "anchor_group_size": sum(sizes) / max(1, len(sizes))} if sizes else {}
        if samples:
            stats["advantage_abs"] = sum(abs(s["advantage"]) for s in samples) / len(samples)
        return samples, stats


def train(config: GiGPOConfig) -> dict:
    return GiGPOTrainer(config).train()


PRESETS = Path(__file__).parent / "configs"


def preset_path(name: str) -> Path:
    """The JSON config a ``--preset NAME`` stands for (``trainers/configs/NAME.json``)."""
    path = PRESETS / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in PRESETS.glob("*.json"))
        raise SystemExit(f"unknown preset {name!r}; known presets: {known}")
    return path


def main(argv: list[str] | None = None) -> int:
    """``--preset NAME`` stands for ``--config trainers/configs/NAME.json`` (options given on the
    command line override it)."""
    args, out = iter(sys.argv[1:] if argv is None else argv), []
    for a in args:
        if a == "--preset" or a.startswith("--preset="):
            name = a.partition("=")[2] if "=" in a else next(args, "")
            if not name:
                raise SystemExit("--preset needs a name")
            out += ["--config", str(preset_path(name))]
        else:
            out.append(a)
    if out.count("--config") + sum(a.startswith("--config=") for a in out) > 1:
        raise SystemExit("give --preset or --config, not both")
    return cli.run(GiGPOConfig, train, out, "trainers.gigpo", __doc__)


if __name__ == "__main__":
    sys.exit(main())
