"""The loop every online RL trainer shares: roll out groups, score the steps, PPO-update.

``OnlineTrainer.train`` runs ``iterations`` times:

1. draw ``tasks_per_iteration`` training tasks and roll out ``group_size`` trajectories of
   each, stepped as one batch (``trainers.core.rollout.rollout`` over an ``EnvGroup``, or Ray
   actors with ``env_backend="ray"``). Every agent step is a training sample: its prompt (the
   task, the last ``history`` turns, the current observation, the available actions) and its
   reply;
2. ``score(episodes)`` (the algorithm: GiGPO, GRPO, PPO's GAE, StepAgent's discriminator)
   gives every step one advantage, copied to every token of its reply;
3. ``update``: PPO's clipped loss (dual clip) on the reply tokens, plus ``kl_coef`` x the k3
   KL to the starting model and minus ``entropy_coef`` x the entropy, over ``ppo_epochs``
   passes of mini-batches; subclasses add their own models' updates (``update_extra``).

Checkpoints every ``save_every`` iterations hold the policy, its optimizer, the random states
and the subclass's extra models, and ``resume`` continues from the latest to the same weights
as an uninterrupted run (each iteration's task draw and sampling seed depend only on the seed
and the iteration).
"""

from __future__ import annotations

import abc
import dataclasses
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trainers.core.advantages import StepRecord
from trainers.core.checkpoint import finished_run, latest_checkpoint, load_checkpoint, save_checkpoint
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig
from trainers.core.logprobs import collate
from trainers.core.policy import save_final
from trainers.core.rl_losses import AGGREGATIONS, aggregate, entropy_from_logits, kl_k3, policy_loss


@dataclass
class OnlineConfig(TrainerConfig):
    model: str = opt("", "the starting policy (usually an SFT model); also the KL reference")
    env: str = opt("agent_gym/WebShop-v0", "registered env id")
    env_kwargs: str = opt("{}", "JSON of gym.make arguments")
    env_backend: str = opt("local", "local (one process) or ray (envs in Ray actors)")
    split: str = opt("train", "tasks are drawn from this split")
    output_dir: str = opt("runs/online", "checkpoints/, metrics.jsonl and final/ go here")
    iterations: int = opt(100, "rollout + update iterations")
    tasks_per_iteration: int = opt(16, "N tasks per iteration")
    group_size: int = opt(8, "G trajectories per task")
    invalid_penalty: float = opt(0.1, "reward penalty of an invalid action (GiGPO: 0.1)")
    clip_low: float = opt(0.2, "PPO clip below 1")
    clip_high: float = opt(0.2, "PPO clip above 1")
    dual_clip: float = opt(3.0, "dual-clip bound for negative advantages (0: off)")
    kl_coef: float = opt(0.01, "k3 KL to the starting model (0: no reference model kept)")
    entropy_coef: float = opt(0.0, "entropy bonus")
    loss_agg: str = opt("token-mean", "token-mean or seq-mean-token-mean")
    lr: float = opt(1e-6, "learning rate (1.5B-7B: 1e-6; tiny test models: ~1e-3)")
    ppo_epochs: int = opt(1, "passes over each iteration's samples")
    mini_batch: int = opt(64, "step samples per optimizer step")
    micro_batch: int = opt(16, "step samples per forward pass")
    max_grad_norm: float = opt(1.0, "gradient clipping (0: none)")
    recompute_old_logprobs: bool = opt(True, "recompute the behaviour policy's log-probs with a forward pass (verl's "
                                             "default); --no-recompute-old-logprobs: use those recorded at generation")
    temperature: float = opt(1.0, "sampling temperature of rollouts")
    max_new_tokens: int = opt(128, "tokens per reply")
    rollout_dtype: str = opt("float32", "precision of rollout generation: float32, or bfloat16 (autocast); the "
                                        "update always scores in the training precision")
    tis: str = opt("auto", "truncated importance sampling of the sampler/trainer log-prob mismatch: auto (on when "
                           "the sampler is not the float32 training model: bfloat16 rollouts, vLLM), on, off")
    tis_cap: float = opt(2.0, "cap of the per-token weight exp(trainer - sampler log-prob)")
    keyed_sampling: bool = opt(False, "each trajectory's random draws depend only on seed, iteration and its "
                                      "index (on by itself with several processes, so that they sample what "
                                      "one process would)")
    save_every: int = opt(10, "checkpoint every N iterations (and at the end)")
    keep_last: int = opt(2, "checkpoints kept (0: all)")
    target_success: float = opt(0.0, "stop once an iteration's rollout success reaches this (0: never)")
    stop_after_iterations: int = opt(0, "stop (with a checkpoint) after this many iterations of this call (0: never)")


def step_records(episode, win_reward: float | None = None) -> list[StepRecord]:
    """Each step with the state it was taken in (the previous step's anchor, page and
    observation). ``win_reward``: replace the env's rewards by ``win_reward`` on the last step
    of a won episode and 0 elsewhere (verl-agent's WebShop reward: a win is worth 10, partial
    scores nothing; ``agent_system/environments/env_package/webshop/envs.py``)."""
    info = episode.initial_info
    anchor, page, obs = info.get("anchor", ""), info.get("page", ""), episode.observation
    out = []
    for t, s in enumerate(episode.steps):
        reward = s.reward
        if win_reward is not None:
            reward = win_reward if (t == len(episode.steps) - 1 and episode.won) else 0.0
        out.append(StepRecord(anchor=anchor or f"step{len(out)}", reward=reward,
                              invalid=bool(s.parse_error or s.info.get("invalid_action")), page=page,
                              observation=obs))
        anchor, page, obs = s.info.get("anchor", ""), s.info.get("page", ""), s.observation
    return out


def step_sample(step, advantage: float, **extra) -> dict:
    """A rollout step as a training sample: prompt + reply token ids, the reply scored, and the
    reply's log-probs recorded at generation (``old_logp``)."""
    return {"input_ids": list(step.prompt_ids) + list(step.response_ids),
            "labels_mask": [0] * len(step.prompt_ids) + [1] * len(step.response_ids),
            "advantage": float(advantage), "old_logp": list(step.response_logprobs), **extra}


def reply_batch(samples: list[dict], pad_id: int, device) -> tuple[dict, int]:
    """Left-padded batch of ``samples`` (replies end together at the right edge) and ``W``, the
    longest reply: every reply token lies in the last ``W`` columns."""
    batch = collate(samples, pad_id, padding_side="left")
    width = max(1, max(sum(s["labels_mask"]) for s in samples))
    return {k: v.to(device) for k, v in batch.items()}, width


def model_tail(model, batch: dict, width: int, ctx):
    """The model's output over the batch with logits only for the last ``width + 1``
    positions (``logits_to_keep``: a 100-token reply after a 2,000-token prompt never
    materialises the prompt's full-vocabulary logits)."""
    position_ids = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    kwargs = dict(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=position_ids)
    with ctx:
        try:
            return model(**kwargs, logits_to_keep=width + 1)
        except TypeError:  # a model class without logits_to_keep: full logits, sliced by the caller
            return model(**kwargs)


def token_stats(model, samples: list[dict], pad_id: int, ctx) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Log-probs and entropies of the reply tokens, ``[B, W]`` right-aligned (``W`` = the
    longest reply of the batch; sample ``i``'s ``L_i`` reply tokens are its last ``L_i``
    columns), and their 0/1 mask."""
    batch, width = reply_batch(samples, pad_id, next(model.parameters()).device)
    logits = model_tail(model, batch, width, ctx).logits[:, -(width + 1):-1].float()
    targets = batch["input_ids"][:, -width:]
    logp = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, -1)
    mask = (batch["labels_mask"][:, -width:] * batch["attention_mask"][:, -width:]).float()
    logp = torch.where(mask.bool(), logp, torch.zeros_like(logp))
    return logp, entropy_from_logits(logits), mask


def reply_values(row: torch.Tensor, mask_row: torch.Tensor) -> torch.Tensor:
    """The reply tokens' entries of one right-aligned row (a 1-D tensor of length ``L_i``)."""
    return row[mask_row.bool()].detach()


def right_align(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    """Stack per-sample reply vectors into a ``[B, width]`` right-aligned tensor (zeros before)."""
    out = torch.zeros(len(rows), width, dtype=rows[0].dtype if rows else torch.float32)
    for i, r in enumerate(rows):
        if len(r):
            out[i, width - len(r):] = r[-width:]
    return out


def ppo_objective(c: OnlineConfig, logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                  mask: torch.Tensor, entropy: torch.Tensor, ref_logp: torch.Tensor | None = None):
    """The loss of one micro-batch: the clipped policy loss, plus ``kl_coef`` x the k3 KL to
    ``ref_logp`` (when given), minus ``entropy_coef`` x the entropy, each term aggregated with
    ``c.loss_agg`` (verl's actor applies ``agg_loss(..., loss_agg_mode)`` to all three)."""
    loss, stats = policy_loss(logp, old_logp, advantages, mask, c.clip_low, c.clip_high, c.dual_clip or None,
                              c.loss_agg)
    if ref_logp is not None:
        kl = aggregate(kl_k3(logp, ref_logp), mask, c.loss_agg)
        loss = loss + c.kl_coef * kl
        stats["kl"] = kl.item()
    ent = aggregate(entropy, mask, c.loss_agg)
    if c.entropy_coef:
        loss = loss - c.entropy_coef * ent
    stats["entropy"] = ent.item()
    return loss, stats


def mini_batches(n: int, epochs: int, rng: random.Random, size: int):
    """Sample indices in optimizer-step groups: ``epochs`` passes, each a fresh ``rng`` shuffle
    of ``range(n)`` cut into mini-batches of ``size``."""
    for _ in range(epochs):
        order = list(range(n))
        rng.shuffle(order)
        for lo in range(0, n, size):
            yield order[lo:lo + size]


def minibatch_descent(n: int, epochs: int, rng: random.Random, mini_batch: int, micro_batch: int,
                      params, optimizer, max_grad_norm: float, micro_loss) -> None:
    """One process's gradient descent over ``n`` samples: each mini-batch of ``mini_batches`` is
    one optimizer step, its micro-batches' ``micro_loss(ids)`` (a mean over ``ids``) weighted by
    their share of the mini-batch; gradients clipped to ``max_grad_norm`` (0: none)."""
    params = list(params)
    for mb in mini_batches(n, epochs, rng, mini_batch):
        for lo in range(0, len(mb), micro_batch):
            ids = mb[lo:lo + micro_batch]
            (micro_loss(ids) * len(ids) / len(mb)).backward()
        if max_grad_norm:
            torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)


class OnlineTrainer(abc.ABC):
    """The loop, the policy, its PPO update and checkpoints. Subclasses set ``name`` and
    implement ``iteration`` (``RolloutTrainer`` does, for trainers that learn from env
    rollouts); they may add models with ``setup_extra``, ``save_extra`` and ``update_extra``."""

    name = "online"
    target_metric = "success"  # the metric target_success and the progress bar read

    def __init__(self, config: OnlineConfig):
        if not config.model:
            raise ValueError(f"{type(config).__name__}.model is required")
        if config.loss_agg not in AGGREGATIONS:
            raise ValueError(f"loss_agg must be one of {AGGREGATIONS}, not {config.loss_agg!r}")
        if config.env_backend not in ("local", "ray"):
            raise ValueError(f"env_backend must be 'local' or 'ray', not {config.env_backend!r}")
        self.config = config
        self.dist = None  # set by setup; None: one process (e.g. a trainer driven piece by piece)
        self.wrapped = None

    def _dist(self):
        from trainers.core.distributed import Dist

        if self.dist is None:
            self.dist = Dist(torch.device("cpu"), single=True)
        return self.dist

    # ----- hooks -------------------------------------------------------------------------
    @abc.abstractmethod
    def iteration(self, it: int, group) -> dict[str, Any]:
        """One iteration (``group``: what ``make_group`` made); returns its metrics, with
        ``target_metric`` (the progress bar's and ``target_success``'s measure: ``success``,
        the share of won rollouts, unless the trainer names another)."""

    def make_group(self):
        """The envs the iterations step (``None``: the trainer needs none)."""
        return None

    @property
    def uses_reference(self) -> bool:
        """Whether the starting model is kept as a frozen reference (the KL term needs it)."""
        return bool(self.config.kl_coef)

    def setup_extra(self, resume_from: Path | None) -> None:
        """Load the subclass's own models (from ``resume_from`` when resuming)."""

    def save_extra(self, folder: Path) -> None:
        """Write the subclass's own models into a checkpoint folder."""

    def update_extra(self, samples: list[dict], rng: random.Random) -> dict[str, float]:
        """Update the subclass's own models on the iteration's samples."""
        return {}

    # ----- the loop ----------------------------------------------------------------------
    def setup(self) -> Path | None:
        from trainers.core.distributed import Dist
        from trainers.core.metrics import open_logger
        from trainers.core.optim import autocast, make_optimizer, resolve_device
        from trainers.core.policy import load_policy, load_reference

        c = self.config
        self.out = Path(c.output_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        if c.tis not in ("auto", "on", "off"):
            raise ValueError(f"tis must be auto, on or off, not {c.tis!r}")
        if self.use_tis() and not c.recompute_old_logprobs:
            raise ValueError("tis corrects the sampler's log-probs with the trainer's own: leave recompute_old_logprobs on")
        self.dist = Dist(resolve_device(c.device))
        self.device = self.dist.device
        self.ctx = autocast(self.device, c.dtype)
        self.ckpt_dir = self.out / "checkpoints"
        resume_from = latest_checkpoint(self.ckpt_dir) if c.resume else None
        torch.manual_seed(c.seed)  # a new LoRA adapter's initial weights
        self.policy = load_policy(c, resume_from, device=self.device, meta=not self.dist.reads_weights,
                                  partitioned=self.dist.partition_on_load)
        self.model, self.tokenizer = self.policy.model, self.policy.tokenizer
        # the frozen starting model; with LoRA none: the policy with its adapter disabled
        self.ref = (load_reference(c, self.policy, self.device, meta=not self.dist.reads_weights,
                                   partitioned=self.dist.partition_on_load)
                    if self.uses_reference else None)
        self.pad_id = self.tokenizer.pad_token_id
        self.optimizer = make_optimizer(self.model, c.lr)
        # the engine's wrapper (DDP, FSDP2...) for the update's passes; self.model for the rest
        self.wrapped, self.optimizer = self.dist.prepare(self.model, self.optimizer, c.max_grad_norm)
        self.ref = self.dist.shard_frozen(self.ref)  # FSDP2: sharded like the policy
        self.setup_extra(resume_from)
        self.logger = open_logger(c, self.out, self.dist.is_main)
        self.start = 0
        if resume_from:
            self.start = load_checkpoint(resume_from, self.optimizer, load_optimizer=lambda st: self.dist.load_optimizer(
                self.model, self.optimizer, st))["step"]
        self.logger.truncate_after(self.start)  # a fresh run in a used folder starts a fresh log
        if self.dist.is_main:
            (self.out / "config.json").write_text(json.dumps(dataclasses.asdict(c), indent=2))
        return resume_from

    def reference(self):
        """``with self.reference() as ref:`` the model of the reference log-probs."""
        from trainers.core.policy import reference_scope

        return reference_scope(self.model, self.ref)

    def train(self) -> dict[str, Any]:
        from tqdm.auto import tqdm

        c = self.config
        resumed = self.setup()
        done = finished_run(self.out, resumed is not None and self.start >= c.iterations)
        if done is None and resumed is not None:  # stopped at its target before the last iteration
            state = json.loads((resumed / "trainer_state.json").read_text())
            done = finished_run(self.out, bool(state.get("reached_target")))
        if done is not None:
            self.logger.close()
            return done
        group = self.make_group()
        history, started, done_here = [], time.time(), 0
        bar = tqdm(total=c.iterations, initial=self.start, desc=self.name, unit="it",
                   disable=None if c.progress else True)
        reached = False
        try:
            for it in range(self.start, c.iterations):
                self._iteration = it
                t0 = time.time()
                metrics = self.iteration(it, group)
                metrics["iteration_s"] = round(time.time() - t0, 3)
                self.logger.log(it + 1, metrics)
                history.append(metrics)
                bar.update(1)
                bar.set_postfix({self.target_metric: f"{metrics[self.target_metric]:.2f}"})
                done_here += 1
                reached = bool(c.target_success) and metrics[self.target_metric] >= c.target_success
                last = it + 1 == c.iterations or reached
                stop = bool(c.stop_after_iterations) and done_here >= c.stop_after_iterations
                if (c.save_every and (it + 1) % c.save_every == 0) or last or stop:
                    # FSDP2: the full states gathered on the main process (every process takes part)
                    model_state, optimizer_state = self.dist.full_state(self.model, self.optimizer)
                    if self.dist.is_main:
                        save_checkpoint(self.ckpt_dir, self.model, self.tokenizer, self.optimizer, step=it + 1,
                                        state={"config": dataclasses.asdict(c), "reached_target": reached,
                                               "processes": self.dist.world, "engine": self.dist.engine},
                                        keep_last=c.keep_last or None, extra=self.save_extra,
                                        model_state=model_state, optimizer_state=optimizer_state)
                self.dist.barrier()
                if reached:
                    break
                if stop and not last:
                    return {"iterations": it + 1, "stopped": True, "last": metrics}
        finally:
            bar.close()
            if group is not None:
                group.close()
            self.logger.close()
        final = self.out / "final"
        model_state, _ = self.dist.full_state(self.model)
        if self.dist.is_main:
            save_final(self.model, self.tokenizer, final, merge=c.merge_lora, state_dict=model_state)
            self.save_extra(final)
        result = {"iterations": self.start + len(history), "reached_target": reached,
                  "last": history[-1] if history else {}, "final_dir": str(final),
                  "runtime_s": round(time.time() - started, 2)}
        if self.dist.is_main:
            (self.out / "final_metrics.json").write_text(json.dumps(result, indent=2))
        self.dist.barrier()
        return result

    # the samples passed to ``update`` are this process's share (``RolloutTrainer``: its task
    # groups) and are gathered; False: every process holds all of them (StepAgent)
    sharded_samples = False

    def use_tis(self) -> bool:
        """Whether the update corrects the sampler/trainer log-prob mismatch (``tis``)."""
        c = self.config
        return c.tis == "on" or (c.tis == "auto" and c.rollout_dtype != "float32")

    def update(self, samples: list[dict], rng: random.Random) -> dict[str, float]:
        """PPO epochs over the iteration's step samples; returns mean loss statistics (``loss``:
        the mean over optimizer steps of the mini-batch's loss; the others: means over reply
        tokens, so that they do not depend on how samples are split into micro-batches).

        The behaviour policy's log-probs (recomputed, or as recorded at generation), the
        reference's, and the truncated importance weights are computed where the samples
        live; then the samples of every process are gathered, every process draws the same
        mini-batches, and each takes its share of each (data parallel)."""
        c = self.config
        dist = self._dist()
        if self.wrapped is None:
            self.wrapped = self.model
        tis = self.use_tis()
        recorded = not c.recompute_old_logprobs and all(
            len(x.get("old_logp") or ()) == sum(x["labels_mask"]) for x in samples)
        if dist.sharded:  # one decision for every process: the passes below are collectives
            recorded = all(dist.gather(recorded))
        model, ctx, pad_id = self.model, self.ctx, self.pad_id
        model.eval()
        n_chunks = -(-len(samples) // c.micro_batch)
        if dist.sharded:  # every process runs as many passes (collectives): short ones repeat a sample
            spare = next((x for part in dist.gather(samples[:1]) for x in part), None)
        with torch.no_grad():  # the behaviour policy's log-probs (the weights of the rollout)
            for k in range(dist.lockstep(n_chunks)):
                chunk = samples[k * c.micro_batch:(k + 1) * c.micro_batch] if k < n_chunks else [dict(spare)]
                if not recorded:
                    logp, _, mask = token_stats(model, chunk, pad_id, ctx)
                    for x, r, m in zip(chunk, logp, mask):
                        x["old_t"] = reply_values(r, m)
                if self.uses_reference:
                    with self.reference() as ref:
                        logp, _, mask = token_stats(ref, chunk, pad_id, ctx)
                    for x, r, m in zip(chunk, logp, mask):
                        x["ref_t"] = reply_values(r, m)
        for x in samples:
            sampler = torch.tensor(x.get("old_logp") or [], dtype=torch.float32)
            if recorded:
                x["old_t"] = sampler
            if tis:
                x["is_t"] = truncated_is_weights(x["old_t"], sampler, c.tis_cap)
        if self.sharded_samples:
            samples = [x for part in dist.gather(samples) for x in part]
        if not samples:
            return {"loss": 0.0}
        model.train()
        sums: dict[str, float] = {}
        count, steps, loss_sum = 0, 0, 0.0
        for mb in mini_batches(len(samples), c.ppo_epochs, rng, c.mini_batch):
            n_tokens = sum(sum(samples[i]["labels_mask"]) for i in mb)
            chunks = dist.padded_chunks(mb, c.micro_batch)
            step_loss = 0.0
            for j, (ids, weight) in enumerate(chunks):
                with dist.no_sync(self.wrapped, skip=j < len(chunks) - 1):
                    loss, stats, share = self._micro_loss([samples[i] for i in ids], n_tokens, len(mb))
                    dist.backward(loss * (share * weight * dist.world))
                step_loss += loss.item() * share * weight
                if weight:  # statistics: token-weighted means, whatever the micro-batches
                    tokens = sum(sum(samples[i]["labels_mask"]) for i in ids)
                    for k, v in stats.items():
                        sums[k] = sums.get(k, 0.0) + v * tokens
                    count += tokens
            if c.max_grad_norm:
                dist.clip_grad_norm(self.wrapped, c.max_grad_norm)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            loss_sum += dist.sum(step_loss)
            steps += 1
        sums, count = {k: dist.sum(v) for k, v in sums.items()}, dist.sum(count)
        return {**{k: v / max(1, count) for k, v in sums.items()}, "loss": loss_sum / max(1, steps)}

    def _micro_loss(self, chunk: list[dict], n_tokens: int, mb_size: int):
        """The loss of one micro-batch, its statistics, and its share of the mini-batch (token
        mean: its tokens over the mini-batch's; seq-mean: its sequences over the mini-batch's)."""
        c = self.config
        logp, ent, mask = token_stats(self.wrapped, chunk, self.pad_id, self.ctx)
        width = logp.shape[1]
        old_t = right_align([x["old_t"] for x in chunk], width).to(logp.device)
        adv = torch.tensor([x["advantage"] for x in chunk], device=logp.device, dtype=logp.dtype)
        if "is_t" in chunk[0]:  # per-token weights: the same as weighting each token's loss
            adv = adv[:, None] * right_align([x["is_t"] for x in chunk], width).to(logp.device)
        ref_t = right_align([x["ref_t"] for x in chunk], width).to(logp.device) if "ref_t" in chunk[0] else None
        loss, stats = ppo_objective(c, logp, old_t, adv, mask, ent, ref_t)
        if "is_t" in chunk[0]:
            stats["tis_weight"] = (right_align([x["is_t"] for x in chunk], width).to(mask.device) * mask).sum().item() \
                / mask.sum().clamp(min=1).item()
        share = mask.sum().item() / max(1, n_tokens) if c.loss_agg == "token-mean" else len(chunk) / mb_size
        return loss, stats, share


def truncated_is_weights(trainer_logp: torch.Tensor, sampler_logp: torch.Tensor, cap: float) -> torch.Tensor:
    """Per-token ``min(exp(trainer - sampler), cap)``: the importance weight that corrects a
    sampler whose log-probs differ from the trainer's (bfloat16 or vLLM rollouts), truncated
    as in verl's and trl's "truncated importance sampling" so a rare token cannot dominate."""
    if len(sampler_logp) != len(trainer_logp):
        raise ValueError(f"{len(sampler_logp)} sampler log-probs for {len(trainer_logp)} reply tokens: "
                         f"the rollout must record the sampler's log-prob of every sampled token")
    return torch.exp(trainer_logp.float() - sampler_logp.float()).clamp(max=cap)


class RolloutTrainer(OnlineTrainer):
    """Online RL from the envs: each iteration rolls out groups of trajectories and gives every
    step an advantage (``score``: GiGPO, GRPO, RLOO, PPO's GAE)."""

    @abc.abstractmethod
    def score(self, episodes: list, iteration: int) -> tuple[list[dict], dict[str, float]]:
        """Training samples (``step_sample``) of an iteration's episodes, and metrics."""

    sharded_samples = True

    def make_group(self):
        """This process's envs: its share of the iteration's task groups, ``group_size`` each
        (a group never straddles two processes)."""
        from agent_gym.core.backends import make_group

        c = self.config
        if c.tasks_per_iteration % self._dist().world:
            raise ValueError(f"tasks_per_iteration ({c.tasks_per_iteration}) must be a multiple of the number of "
                             f"processes ({self.dist.world}): each process rolls out whole task groups")
        kwargs = json.loads(c.env_kwargs)
        kwargs["split"] = c.split
        return make_group(c.env, c.tasks_per_iteration // self._dist().world * c.group_size, backend=c.env_backend,
                          **kwargs)

    # how ``score``'s statistics combine across processes: those named in ``summed_stats`` add
    # up; the others are means, weighted by the statistic ``stat_weights`` names (default: the
    # process's number of samples), so the result is what one process would report
    summed_stats: tuple[str, ...] = ()
    stat_weights: dict[str, str] = {}

    def combine_score_stats(self, parts: list[dict]) -> dict[str, float]:
        out: dict[str, float] = {}
        for k in {k for p in parts for k in p if k != "_samples"}:
            have = [p for p in parts if k in p]
            if k in self.summed_stats:
                out[k] = sum(p[k] for p in have)
                continue
            weight = self.stat_weights.get(k, "_samples")
            total = sum(p.get(weight, 0) for p in have)
            out[k] = (sum(p[k] * p.get(weight, 0) for p in have) / total) if total else sum(p[k] for p in have) / len(have)
        return out

    def draw_tasks(self, iteration: int, num_tasks: int) -> list[int]:
        """The iteration's tasks: consecutive slices of epoch-wise shuffles of the split (every
        task once per epoch, as a data loader without replacement), a function of the seed and
        the iteration only, so a resumed run draws the same tasks."""
        n = self.config.tasks_per_iteration
        start = iteration * n
        out = []
        for pos in range(start, start + n):
            epoch, k = divmod(pos, num_tasks)
            order = list(range(num_tasks))
            random.Random(self.config.seed * 1_000_003 + epoch).shuffle(order)
            out.append(order[k])
        return out

    def iteration(self, it: int, group) -> dict[str, Any]:
        """Roll out, score, update."""
        from trainers.core.generation import HFGenerator
        from trainers.core.rollout import rollout

        c = self.config
        dist = self._dist()
        task_ids = self.draw_tasks(it, group.num_tasks)
        per = len(task_ids) // dist.world  # this process's contiguous share of whole task groups
        mine = task_ids[dist.rank * per:(dist.rank + 1) * per]
        first_env = dist.rank * per * c.group_size  # index of its first env in the whole iteration
        generator = HFGenerator(self.policy, max_new_tokens=c.max_new_tokens, temperature=c.temperature,
                                seed=c.seed * 7919 + it, autocast_dtype=c.rollout_dtype)
        keyed = c.keyed_sampling or dist.world > 1
        t0 = time.time()
        self.model.eval()
        with dist.generation(self.model):  # FSDP2: the weights gathered, each process at its own pace
            episodes = rollout(group, generator, mine, group_size=c.group_size, fmt=c.fmt, history=c.history,
                               seed=c.seed + it + first_env, key_offset=first_env if keyed else None)
        rollout_s = time.time() - t0
        samples, score_stats = self.score(episodes, it)
        rng = random.Random(c.seed * 1_000_033 + it)
        stats = self.update(samples, rng)
        everyone = [x for part in dist.gather(samples) for x in part] if dist.world > 1 else samples
        stats.update(self.update_extra(everyone, rng))
        # the iteration's metrics over every process's episodes and samples
        parts = dist.gather(({**{k: v for k, v in score_stats.items()}, "_samples": len(samples)},
                             [(e.won, e.total_reward, len(e.steps), sum(len(s.response_ids) for s in e.steps))
                              for e in episodes],
                             [bool(s.parse_error or s.info.get("invalid_action")) for e in episodes for s in e.steps]))
        stats.update(self.combine_score_stats([p[0] for p in parts]))
        eps = [e for p in parts for e in p[1]]
        invalid = [v for p in parts for v in p[2]]
        rollout_s = max(dist.gather(rollout_s))
        metrics = {"success": sum(e[0] for e in eps) / len(eps), "reward": sum(e[1] for e in eps) / len(eps),
                   "steps": sum(e[2] for e in eps) / len(eps), "invalid": sum(invalid) / max(1, len(invalid)),
                   "samples": len(everyone), "rollout_s": round(rollout_s, 3),
                   "rollout_tokens_per_s": round(sum(e[3] for e in eps) / max(rollout_s, 1e-9), 1), **stats}
        return metrics
