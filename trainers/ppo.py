"""PPO with a critic: turn-level GAE over the agent's replies.

    python -m trainers.ppo --model SFT_DIR --env agent_gym/WebShop-v0 --output runs/ppo

The loop, rollouts and the clipped policy loss are ``trainers.core.online``'s (shared with
GiGPO/GRPO). PPO (Schulman et al. 2017) replaces the group baseline by a learned one: a
critic ``V(prompt)`` (``trainers.core.value.ValueModel``: the starting model's transformer
body and a scalar head, a separate network as in verl) is read at the last prompt token of
every step; each agent turn is one time step of GAE (``advantages.turn_gae``: rewards shaped
by ``invalid_penalty``, ``gamma``, ``lam``; the last step of an episode has no next value), the
advantage is copied to every token of the reply, and advantages are whitened over the
iteration's samples (``--no-whiten`` keeps them raw: with sparse rewards, whitening a batch
where few episodes succeed inflates their advantages, and small models then collapse to one
behaviour at learning rates that work without it). The critic regresses the GAE returns with a clipped value loss
(``cliprange_value``) on its own optimizer, ``critic_warmup`` iterations updating only it.

Defaults: verl's PPO recipe for LLM agents (critic lr 1e-5, value clip 0.5, gamma = lambda = 1,
one trajectory per task) and the policy settings of the GiGPO trainer; tiny test models need
learning rates near 1e-3.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from trainers.core import cli
from trainers.core.checkpoint import load_tensors
from trainers.core.advantages import shaped_rewards, turn_gae
from trainers.core.cli import opt
from trainers.core.online import OnlineConfig, RolloutTrainer, minibatch_descent, step_records, step_sample
from trainers.core.value import ValueModel


@dataclass
class PPOConfig(OnlineConfig):
    output_dir: str = opt("runs/ppo", "checkpoints/, metrics.jsonl and final/ go here")
    tasks_per_iteration: int = opt(64, "tasks per iteration")
    group_size: int = opt(1, "trajectories per task (PPO needs no groups)")
    gamma: float = opt(1.0, "discount over agent turns")
    lam: float = opt(1.0, "GAE lambda over agent turns")
    whiten: bool = opt(True, "normalise the iteration's advantages to mean 0, std 1")
    critic: str = opt("", "initial critic (a ValueModel folder or a causal LM; default: the policy's body)")
    critic_lr: float = opt(1e-5, "critic learning rate")
    cliprange_value: float = opt(0.5, "value clip around the rollout-time values (0: off)")
    critic_warmup: int = opt(0, "first iterations that train only the critic")


class PPOTrainer(RolloutTrainer):
    name = "ppo"

    def setup_extra(self, resume_from: Path | None) -> None:
        from trainers.core.optim import make_optimizer

        c = self.config
        source = (resume_from / "critic") if resume_from else Path(c.critic or c.model)
        self.critic = ValueModel.from_pretrained(source).to(self.device)
        self.critic_optimizer = make_optimizer(self.critic, c.critic_lr)
        if resume_from and (resume_from / "critic_optimizer.pt").is_file():
            self.critic_optimizer.load_state_dict(load_tensors(resume_from / "critic_optimizer.pt"))

    def save_extra(self, folder: Path) -> None:
        self.critic.save(folder / "critic")
        torch.save(self.critic_optimizer.state_dict(), folder / "critic_optimizer.pt")

    def values(self, prompts: list[list[int]]) -> list[float]:
        self.critic.eval()
        out: list[float] = []
        with torch.no_grad():
            for lo in range(0, len(prompts), self.config.micro_batch):
                out += self.critic.score(prompts[lo:lo + self.config.micro_batch], self.pad_id, self.ctx).tolist()
        return out

    def score(self, episodes, iteration):
        c = self.config
        steps = [(e, s) for e in episodes for s in e.steps if s.response_ids]
        values = iter(self.values([list(s.prompt_ids) for _, s in steps]))
        samples = []
        for e in episodes:
            kept = [s for s in e.steps if s.response_ids]
            if not kept:
                continue
            v = [next(values) for _ in kept]
            rewards = shaped_rewards([r for r, s in zip(step_records(e), e.steps) if s.response_ids],
                                     c.invalid_penalty)
            adv, ret = turn_gae(rewards, v, c.gamma, c.lam)
            samples += [step_sample(s, a, value=vv, ret=r) for s, a, vv, r in zip(kept, adv, v, ret)]
        stats = {}
        raw = torch.tensor([s["advantage"] for s in samples], dtype=torch.float32)
        # whitened over the iteration's samples on every process, as one process would (every
        # process takes part in the gather, with or without samples)
        every = torch.tensor([a for part in self._dist().gather(raw.tolist()) for a in part], dtype=torch.float32)
        if samples:
            stats = {"value": sum(s["value"] for s in samples) / len(samples),
                     "advantage_abs": raw.abs().mean().item()}
            if c.whiten and len(every) > 1:
                raw = (raw - every.mean()) / (every.std() + 1e-6)
                for s, a in zip(samples, raw.tolist()):
                    s["advantage"] = a
        return samples, stats

    def update(self, samples, rng):
        if self.config.critic_warmup and self._iteration < self.config.critic_warmup:
            return {}
        return super().update(samples, rng)

    def update_extra(self, samples, rng):
        """Clipped value regression of the GAE returns, ``ppo_epochs`` passes of mini-batches."""
        c = self.config
        if not samples:
            return {}
        self.critic.train()
        losses: list[float] = []

        def value_loss(ids):
            prompts = [s["input_ids"][:len(s["labels_mask"]) - sum(s["labels_mask"])] for s in (samples[i] for i in ids)]
            v = self.critic.score(prompts, self.pad_id, self.ctx)
            ret = torch.tensor([samples[i]["ret"] for i in ids], device=v.device)
            old = torch.tensor([samples[i]["value"] for i in ids], device=v.device)
            loss = (v - ret) ** 2
            if c.cliprange_value:
                clipped = old + (v - old).clamp(-c.cliprange_value, c.cliprange_value)
                loss = torch.maximum(loss, (clipped - ret) ** 2)
            loss = 0.5 * loss.mean()
            losses.append(loss.item())
            return loss

        minibatch_descent(len(samples), c.ppo_epochs, rng, c.mini_batch, c.micro_batch, self.critic.parameters(),
                          self.critic_optimizer, c.max_grad_norm, value_loss)
        return {"value_loss": sum(losses) / max(1, len(losses))}


def train(config: PPOConfig) -> dict:
    return PPOTrainer(config).train()


def main(argv: list[str] | None = None) -> int:
    return cli.run(PPOConfig, train, argv, "trainers.ppo", __doc__)


if __name__ == "__main__":
    sys.exit(main())
