"""StepAgent: step-level learning from expert trajectories (inspection, then reflection).

    python -m trainers.stepagent --model SFT_DIR --demos runs/demos/trajectories.jsonl \\
        --variant implicit --output runs/stepagent          # or --variant inverse

Deng et al., "From Novice to Expert: LLM Agent Policy Optimization via Step-wise
Reinforcement Learning" (WWW 2025). Each iteration draws ``steps_per_iteration`` steps of the
expert's trajectories and

1. **inspects**: the policy acts (samples a reply) in the expert's state, i.e. after the
   expert's prefix of the trajectory, prompted exactly as in rollouts and SFT
   (``trainers.core.data.trajectory_to_samples``);
2. **reflects**, in one of the paper's two variants:

   * ``implicit`` (StepAgent-Implicit): step-level DPO: the expert's reply is chosen, the
     policy's is rejected, both after the same prefix (pairs whose actions agree are dropped),
     with the starting model as reference (``trainers.core.losses.dpo_loss``; ``beta``);
   * ``inverse`` (StepAgent-Inverse): inverse RL: a discriminator ``D(state, reply)`` learns
     to tell the expert's steps from the policy's (binary cross-entropy), and its logit is the
     policy step's reward (AIRL's ``log D - log(1 - D)``), whitened over the iteration and
     optimised with PPO's clipped loss (``trainers.core.online``; one step per "episode", so
     the advantage is the whitened reward). By default ``D`` has AIRL's form (Fu et al. 2018):
     its logit is ``log q(reply | state) - log pi(reply | state)``, ``q`` a causal LM started
     from the model (it learns what the expert would reply, as a policy does); with
     ``discriminator="head"`` it is a scalar head on the model's body
     (``trainers.core.value.ValueModel``), which must learn to compare state and reply.

The loop, checkpoints (with the discriminator) and resume are ``trainers.core.online``'s.
StepAgent plays no episodes: its progress measure, logged as ``agreement`` and read by
``--target-success``, is agreement with the expert (the share of inspected expert states
where the policy's action equals the expert's), not a success rate.
Defaults: DPO's beta 0.1; the PPO settings of the other online trainers.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from trainers.core import cli
from trainers.core.checkpoint import load_tensors
from trainers.core.cli import opt
from trainers.core.online import OnlineConfig, OnlineTrainer, token_stats
from trainers.core.value import ValueModel

VARIANTS = ("implicit", "inverse")


@dataclass
class StepAgentConfig(OnlineConfig):
    output_dir: str = opt("runs/stepagent", "checkpoints/, metrics.jsonl and final/ go here")
    demos: str = opt("", "expert trajectory records (JSONL; won episodes are used)")
    variant: str = opt("implicit", "implicit (step-level DPO) or inverse (discriminator rewards + PPO)")
    thoughts: bool = opt(True, "keep the expert's recorded thoughts in its replies (--no-thoughts: action only, "
                                "as a policy SFT'd without thoughts replies)")
    steps_per_iteration: int = opt(64, "expert steps inspected per iteration")
    beta: float = opt(0.1, "implicit: DPO beta")
    discriminator: str = opt("airl", "inverse: airl (D's logit = log q(reply|state) - log pi(reply|state), q a causal "
                                     "LM started from the model) or head (a scalar head on the model's body)")
    disc_lr: float = opt(1e-5, "inverse: discriminator learning rate")
    target_success: float = opt(0.0, "stop once an iteration's agreement with the expert (the share of inspected "
                                     "expert states where the policy's action is the expert's) reaches this (0: "
                                     "never); StepAgent plays no episodes, so it has no success rate")
    disc_epochs: int = opt(2, "inverse: discriminator passes over the iteration's steps")
    group_size: int = opt(1, "unused by StepAgent (no env rollouts while training)")


class StepAgentTrainer(OnlineTrainer):
    name = "stepagent"
    target_metric = "agreement"  # agreement with the expert: what target_success stops on

    def __init__(self, config: StepAgentConfig):
        if config.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {config.variant!r}")
        if config.discriminator not in ("airl", "head"):
            raise ValueError(f"discriminator must be 'airl' or 'head', not {config.discriminator!r}")
        if not config.demos:
            raise ValueError("StepAgentConfig.demos (expert trajectory records) is required")
        super().__init__(config)

    @property
    def uses_reference(self) -> bool:
        return self.config.variant == "implicit" or super().uses_reference  # DPO's reference

    # ----- models ------------------------------------------------------------------------
    def setup_extra(self, resume_from: Path | None) -> None:
        from agent_gym.core.trajectory import read_trajectories
        from trainers.core.data import encode_step, trajectory_to_samples
        from trainers.core.optim import make_optimizer

        c = self.config
        records = [r for r in read_trajectories(c.demos) if r.won]
        if not records:
            raise ValueError(f"no won trajectories in {c.demos}")
        self.states = []  # (messages, expert reply ids, expert action, available actions)
        for r in records:
            traj = trajectory_to_samples(r, fmt=c.fmt, history=c.history, thoughts=c.thoughts)
            before = [r.initial_info] + [step.info for step in r.steps[:-1]]  # the info each action saw
            for sample, step, info in zip(traj.steps, r.steps, before):
                enc = encode_step(self.policy, sample)
                reply = [t for t, m in zip(enc["input_ids"], enc["labels_mask"]) if m]
                self.states.append((sample.messages, reply, step.action, info.get("available_actions") or None))
        self.disc = None
        if c.variant == "inverse":
            from trainers.core.policy import load_model

            source = (resume_from / "discriminator") if resume_from else Path(c.model)
            if c.discriminator == "airl":
                self.disc = load_model(source, torch.float32).to(self.device)
            else:
                self.disc = ValueModel.from_pretrained(source).to(self.device)
            self.disc_optimizer = make_optimizer(self.disc, c.disc_lr)
            if resume_from and (resume_from / "discriminator_optimizer.pt").is_file():
                self.disc_optimizer.load_state_dict(load_tensors(resume_from / "discriminator_optimizer.pt"))

    def save_extra(self, folder: Path) -> None:
        if self.disc is not None:
            if self.config.discriminator == "airl":
                self.disc.save_pretrained(folder / "discriminator")
            else:
                self.disc.save(folder / "discriminator")
            torch.save(self.disc_optimizer.state_dict(), folder / "discriminator_optimizer.pt")

    # ----- one iteration -----------------------------------------------------------------
    def collect(self, iteration: int):
        """Inspection: the policy's reply in ``steps_per_iteration`` expert states."""
        from trainers.core.generation import HFGenerator
        from trainers.core.prompts import parse_response

        c = self.config
        rng = random.Random(c.seed * 1_000_003 + iteration)
        picked = [self.states[rng.randrange(len(self.states))] for _ in range(c.steps_per_iteration)]
        generator = HFGenerator(self.policy, max_new_tokens=c.max_new_tokens, temperature=c.temperature,
                                seed=c.seed * 7919 + iteration, autocast_dtype=c.rollout_dtype)
        self.model.eval()
        with self._dist().generation(self.model):
            outs = generator.generate([state[0] for state in picked])
        samples, agree = [], 0
        for (_, expert_reply, expert_action, available), out in zip(picked, outs):
            _, action = parse_response(out.text, available, c.fmt)
            same = action is not None and action == expert_action
            agree += same
            samples.append({"prompt_ids": list(out.prompt_ids), "expert_ids": expert_reply,
                            "policy_ids": list(out.response_ids), "policy_logp": list(out.response_logprobs),
                            "same": same})
        agreement = agree / max(1, len(picked))
        metrics = {"agreement": agreement}  # no episode is played: there is no success rate
        return samples, metrics

    def iteration(self, it: int, group) -> dict:
        """Inspection in the expert's states (no envs: ``group`` is None), then reflection."""
        samples, metrics = self.collect(it)
        rng = random.Random(self.config.seed * 1_000_033 + it)
        if self.config.variant == "implicit":
            metrics.update(self.dpo_update(samples))
        else:
            metrics.update(self.inverse_update(samples, rng))
        return metrics

    def _seq_logps(self, model, samples: list[dict]) -> torch.Tensor:
        """Sum of the reply tokens' log-probs of each sample, ``[B]``."""
        out = []
        for lo in range(0, len(samples), self.config.micro_batch):
            logp, _, mask = token_stats(model, samples[lo:lo + self.config.micro_batch], self.pad_id, self.ctx)
            out.append((logp * mask).sum(-1))
        return torch.cat(out)

    def dpo_update(self, inspected: list[dict]) -> dict[str, float]:
        from trainers.core.losses import dpo_loss

        c = self.config
        pairs = [s for s in inspected if not s["same"] and s["policy_ids"]]
        if not pairs:
            return {"pairs": 0}
        chosen = [_sample(s["prompt_ids"], s["expert_ids"]) for s in pairs]
        rejected = [_sample(s["prompt_ids"], s["policy_ids"]) for s in pairs]
        with torch.no_grad():
            with self.reference() as ref:
                ref_c, ref_r = self._seq_logps(ref, chosen), self._seq_logps(ref, rejected)
        self.model.train()
        dist = self._dist()
        wrapped = self.wrapped if self.wrapped is not None else self.model
        sums, count = {}, 0
        for _ in range(c.ppo_epochs):
            # every process holds every pair: the same passes, gradients and step everywhere (the
            # engine's backward; under ZeRO-3 the epoch's last backward steps the engine)
            starts = list(range(0, len(pairs), c.micro_batch))
            for j, lo in enumerate(starts):
                sl = slice(lo, lo + c.micro_batch)
                with dist.no_sync(wrapped, skip=j < len(starts) - 1):
                    pc, pr = self._seq_logps(wrapped, chosen[sl]), self._seq_logps(wrapped, rejected[sl])
                    loss, stats = dpo_loss(pc, pr, ref_c[sl], ref_r[sl], beta=c.beta)
                    dist.backward(loss * len(chosen[sl]) / len(pairs))
                for k, v in stats.items():
                    sums[k] = sums.get(k, 0.0) + v
                count += 1
            if c.max_grad_norm:
                dist.clip_grad_norm(wrapped, c.max_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        return {"pairs": len(pairs), **{k: v / max(1, count) for k, v in sums.items()}}

    def disc_logits(self, samples: list[dict]) -> torch.Tensor:
        """The discriminator's logit ``log D - log(1 - D)`` of each (state, reply)."""
        if self.config.discriminator == "airl":
            pi = torch.tensor([x["pi_logp"] for x in samples])
            q = self._seq_logps(self.disc, samples)
            return q - pi.to(q.device)
        return self.disc.score([x["input_ids"] for x in samples], self.pad_id, self.ctx)

    def inverse_update(self, inspected: list[dict], rng: random.Random) -> dict[str, float]:
        c = self.config
        expert = [_sample(s["prompt_ids"], s["expert_ids"]) for s in inspected]
        policy = [_sample(s["prompt_ids"], s["policy_ids"], s["policy_logp"]) for s in inspected if s["policy_ids"]]
        data = [(x, 1.0) for x in expert] + [(x, 0.0) for x in policy]
        if c.discriminator == "airl":  # log pi(reply | state) of every sample, fixed while D trains
            with torch.no_grad():
                pi = self._seq_logps(self.model, [x for x, _ in data]).tolist()
            for (x, _), lp in zip(data, pi):
                x["pi_logp"] = lp
        # the discriminator: expert steps 1, the policy's 0; an optimizer step per mini-batch
        self.disc.train()
        disc_loss, n = 0.0, 0
        for _ in range(c.disc_epochs):
            rng.shuffle(data)
            for lo in range(0, len(data), c.mini_batch):
                batch = data[lo:lo + c.mini_batch]
                for mlo in range(0, len(batch), c.micro_batch):
                    chunk = batch[mlo:mlo + c.micro_batch]
                    logits = self.disc_logits([x for x, _ in chunk])
                    labels = torch.tensor([y for _, y in chunk], device=logits.device)
                    loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
                    (loss * len(chunk) / len(batch)).backward()
                    disc_loss += loss.item()
                    n += 1
                if c.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(self.disc.parameters(), c.max_grad_norm)
                self.disc_optimizer.step()
                self.disc_optimizer.zero_grad(set_to_none=True)
        # rewards of the policy's steps: the discriminator's logit (log D - log(1 - D)), whitened
        self.disc.eval()
        with torch.no_grad():
            rewards = torch.cat([self.disc_logits(policy[lo:lo + c.micro_batch])
                                 for lo in range(0, len(policy), c.micro_batch)]) if policy else torch.zeros(0)
        stats = {"disc_loss": disc_loss / max(1, n), "disc_reward": rewards.mean().item() if len(rewards) else 0.0}
        if len(rewards) > 1:
            adv = ((rewards - rewards.mean()) / (rewards.std() + 1e-6)).tolist()
            for x, a in zip(policy, adv):
                x["advantage"] = a
            stats.update(self.update(policy, rng))
        return stats


def _sample(prompt_ids: list[int], reply_ids: list[int], old_logp: list[float] | None = None) -> dict:
    return {"input_ids": list(prompt_ids) + list(reply_ids),
            "labels_mask": [0] * len(prompt_ids) + [1] * len(reply_ids), "advantage": 0.0,
            "old_logp": list(old_logp or [])}


def train(config: StepAgentConfig) -> dict:
    return StepAgentTrainer(config).train()


def main(argv: list[str] | None = None) -> int:
    return cli.run(StepAgentConfig, train, argv, "trainers.stepagent", __doc__)


if __name__ == "__main__":
    sys.exit(main())
