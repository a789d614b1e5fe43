"""DEPO-style dual-efficiency preference optimisation: KTO with an efficiency bonus.

    python -m trainers.collect --policy SFT_DIR --env agent_gym/WebShop-v0 --k 4 --output runs/depo-data.jsonl
    python -m trainers.depo --model SFT_DIR --data runs/depo-data.jsonl --output runs/depo
    python -m trainers.depo --model BASE --data data.jsonl --sft-epochs 3 --output runs/depo   # BC start first

Chen et al. 2025 (AAAI 2026), "DEPO: Dual-Efficiency Preference Optimization for LLM Agents"
(arXiv 2511.15392) define an agent's efficiency in two parts: *step level*, the tokens it
generates per step, and *trajectory level*, the steps it takes per task. Their recipe:
trajectories (from MCTS over ReAct agents), behaviour cloning (SFT) on the desirable ones, then
offline KTO (``trainers.core.losses.kto_loss``) in which desirable samples get an efficiency
bonus. Read top to bottom:

1. **data**: trajectory records scored by an env (``agent-gym eval``, ``trainers.collect``:
   several sampled trajectories per task). A trajectory is *desirable* when it was won
   (``threshold = 0``) or its reward reaches ``threshold``; every step of it is a KTO sample
   with its label (a step's prompt is the one the rollouts would build, ``trainers.core.data``).
2. **efficiency bonus** (``label_and_bonus``), for desirable trajectories only, relative to the
   desirable trajectories of the same task::

       b(y) = alpha_tokens * clip(1 - tps(y) / mean_tps(task), -1, 1)
            + alpha_steps  * clip(1 - steps(y) / mean_steps(task), -1, 1)

   ``tps`` = reply tokens per step (the recorded token ids when the policy wrote the replies,
   else the tokenizer's count of the reply text), ``steps`` = the trajectory's length. Shorter
   than the task's average gives a positive bonus, longer a negative one.
3. **SFT start** (``sft_epochs > 0``): ``trainers.sft`` on the desirable trajectories first; the
   KTO stage starts from (and uses as its reference) that model.
4. **KTO update**: ``kto_loss`` on step samples, with the reference point ``z_ref`` estimated
   from each micro-batch's mismatched pairs (a step's prompt with another step's reply, fixed
   once: the sample before it in a seeded order, as trl cycles completions); the bonus scales
   the value of the desirable outcome, ``lambda_D * max(0, 1 + b) * sigmoid(beta * (r - z_ref))``.

What is DEPO-style, not checked against the paper: the paper's exact bonus formula and
coefficients are not reproduced here (its text says a bonus favouring fewer tokens per step
and fewer steps is added for desirable samples; we could not read the formula). Our choices:
the relative, clipped form above (scale-free across benchmarks, zero on tasks with one
desirable trajectory), and the bonus *scales the gain* of a desirable sample (its
``lambda_D``) rather than shifting the sigmoid's argument. We tried the shift first, as a
margin ``sigmoid(beta * (r - z_ref) - b)``: the sigmoid's slope is symmetric around 0, so
efficient and verbose successes got the same push until the log-ratios saturated, and on the
KeyDoor data (docs/depo.md) neither steps nor tokens moved; with a plus sign efficient samples
would even saturate first. Scaled gains act from the first step. Samples are
steps, not whole trajectories (trl's KTO on prompt/completion pairs; memory stays one step).
Defaults: KTO's ``beta = 0.1`` and ``lambda_D = lambda_U = 1`` (Ethayarajh et al.: keep
``lambda_D n_D / (lambda_U n_U)`` in ``[1, 4/3]``; the run logs that ratio),
``alpha_tokens = alpha_steps = 1``. The reference log-probs are computed once, before the first
step, and kept in ``output_dir/reference_logps.json``, so a resumed run uses the same ones.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from trainers.core import cli
from trainers.core.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig, shared
from trainers.core.data import StepSample, TrajectorySample, encode_step, trajectory_to_samples
from trainers.core.losses import kto_loss
from trainers.core.metrics import MetricsLogger
from trainers.core.optim import autocast, epoch_order, linear_schedule, make_optimizer, resolve_device
from trainers.core.policy import has_adapter, load_policy, load_tokenizer, reference_scope, save_final


@dataclass
class DEPOConfig(TrainerConfig):
    model: str = opt("", "the starting model (the BC/SFT policy; with --sft-epochs, the base model)")
    data: str = opt("", "trajectory records scored by an env (trainers.collect, agent-gym eval); comma-separated files")
    output_dir: str = opt("runs/depo", "checkpoints/, metrics.jsonl, reference_logps.json and final/ go here")
    thoughts: bool = opt(True, "keep the recorded thoughts in the replies (else action only)")
    threshold: float = opt(0.0, "desirable = won (0), or reward >= threshold (> 0)")
    alpha_tokens: float = opt(1.0, "weight of the step-level (tokens per step) bonus")
    alpha_steps: float = opt(1.0, "weight of the trajectory-level (steps per task) bonus")
    beta: float = opt(0.1, "KTO beta (KTO paper: 0.1)")
    desirable_weight: float = opt(1.0, "KTO lambda_D")
    undesirable_weight: float = opt(1.0, "KTO lambda_U")
    sft_epochs: int = opt(0, "SFT epochs on the desirable trajectories before KTO (0: --model is the BC start)")
    sft_lr: float = opt(2e-5, "SFT learning rate (tiny test models: ~1e-2)")
    epochs: int = opt(3, "passes over the step samples")
    lr: float = opt(5e-7, "peak learning rate (7B models: 5e-7 to 5e-6; tiny test models: ~1e-3)")
    batch_size: int = opt(8, "step samples per micro-batch (>= 2: the KL estimate needs mismatched pairs)")
    grad_accum: int = opt(4, "micro-batches per optimizer step")
    max_length: int = opt(4096, "tokens per step sample (prompt + reply); longer prompts lose their start")
    warmup_ratio: float = opt(0.1, "fraction of steps of linear warmup")
    weight_decay: float = opt(0.0, "AdamW weight decay")
    max_grad_norm: float = opt(1.0, "gradient clipping (0: none)")
    save_every: int = opt(500, "checkpoint every N optimizer steps (0: only at the end)")
    keep_last: int = opt(2, "checkpoints kept (0: all)")
    log_every: int = opt(10, "log metrics every N optimizer steps")
    stop_after_steps: int = opt(0, "stop (with a checkpoint) after this step, schedule unchanged (0: run to the end)")


# ---------------------------------------------------------------------------------------------
# Data: labels and the efficiency bonus
# ---------------------------------------------------------------------------------------------
def reply_tokens(step: StepSample, tokenizer=None) -> int:
    """Tokens the agent generated for a step: the recorded ids, else the tokenizer's count."""
    if step.response_ids is not None:
        return len(step.response_ids)
    if tokenizer is None:
        raise ValueError("a step without recorded token ids needs a tokenizer to count its reply")
    return len(tokenizer(step.response, add_special_tokens=False)["input_ids"]) + 1  # + end of turn


def is_desirable(traj: TrajectorySample, threshold: float = 0.0) -> bool:
    return traj.reward >= threshold if threshold > 0 else bool(traj.won)


def label_and_bonus(trajs: Sequence[TrajectorySample], tokenizer=None, threshold: float = 0.0,
                    alpha_tokens: float = 1.0, alpha_steps: float = 1.0) -> list[tuple[bool, float]]:
    """``(desirable, bonus)`` per trajectory (see the module docstring); undesirable ones get 0."""
    labels = [is_desirable(t, threshold) and bool(t.steps) for t in trajs]
    tps = [sum(reply_tokens(s, tokenizer) for s in t.steps) / max(1, len(t.steps)) for t in trajs]
    by_task: dict[int, list[int]] = defaultdict(list)
    for i, t in enumerate(trajs):
        if labels[i]:
            by_task[t.task_id].append(i)
    out = []
    for i, t in enumerate(trajs):
        if not labels[i]:
            out.append((False, 0.0))
            continue
        peers = by_task[t.task_id]
        mean_tps = sum(tps[j] for j in peers) / len(peers)
        mean_steps = sum(len(trajs[j].steps) for j in peers) / len(peers)

        def rel(x, mean):
            return max(-1.0, min(1.0, 1.0 - x / mean)) if mean > 0 else 0.0
        out.append((True, alpha_tokens * rel(tps[i], mean_tps) + alpha_steps * rel(len(t.steps), mean_steps)))
    return out


def load_trajectories(config: DEPOConfig) -> list[TrajectorySample]:
    """The records of ``config.data`` as step samples; a record written from a rollout
    (``meta["steps"]`` with the reply texts and token ids) keeps the policy's own replies."""
    from agent_gym.core.trajectory import read_trajectories

    if not config.data:
        raise ValueError("DEPOConfig.data (trajectory records) is required")
    out = []
    for path in [p for p in config.data.split(",") if p]:
        if not Path(path).is_file():
            raise FileNotFoundError(f"no trajectory file {path}")
        for rec in read_trajectories(path):
            t = trajectory_to_samples(rec, fmt=config.fmt, history=config.history, thoughts=config.thoughts)
            recorded = rec.meta.get("steps") if isinstance(rec.meta, dict) else None
            if recorded and len(recorded) == len(t.steps) and all(r.get("response_ids") for r in recorded):
                t.steps = [StepSample(s.messages, r["response"], list(r["response_ids"]))
                           for s, r in zip(t.steps, recorded)]
            out.append(t)
    return out


def efficiency_metrics(episodes) -> dict[str, float]:
    """Dual-efficiency figures of rollout ``Episode``s: ``success``, ``steps`` (mean over all
    episodes), ``steps_success`` (mean over won ones; nan if none), ``tokens_per_step`` (reply
    tokens generated per step, over all steps)."""
    won = [e for e in episodes if e.won]
    steps = [s for e in episodes for s in e.steps]
    return {"success": len(won) / max(1, len(episodes)),
            "steps": len(steps) / max(1, len(episodes)),
            "steps_success": sum(len(e.steps) for e in won) / len(won) if won else float("nan"),
            "tokens_per_step": sum(len(s.response_ids) for s in steps) / max(1, len(steps))}


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def _sft_start(config: DEPOConfig, trajs: Sequence[TrajectorySample], labels) -> str:
    """Behaviour cloning on the desirable trajectories (``trainers.sft``); returns the model to
    start KTO from. Resumable: a finished SFT stage is reused, an interrupted one resumed."""
    from trainers import sft

    out = Path(config.output_dir) / "sft"
    final = out / "final"
    if config.resume and ((final / "config.json").is_file() or (final / "adapter_config.json").is_file()):
        return str(final)  # a resumed run whose SFT stage had finished
    data = Path(config.output_dir) / "sft_data.jsonl"
    if not (config.resume and data.is_file()):
        from trainers.core.data import write_step_samples
        write_step_samples(data, [s for t, (d, _) in zip(trajs, labels) if d for s in t.steps])
    sft.train(sft.SFTConfig(**shared(config, output_dir=str(out), resume=config.resume),
                            data=str(data), epochs=config.sft_epochs, lr=config.sft_lr, batch_size=config.batch_size,
                            grad_accum=1, max_length=config.max_length, log_every=config.log_every,
                            save_every=config.save_every,
                            keep_last=1))
    return str(final)  # with LoRA an adapter folder: loading it merges it into its base


def _logps(model, encoded: Sequence[dict], pad_id: int, micro: int, ctx, grad: bool) -> torch.Tensor:
    import contextlib

    from trainers.dpo import trajectory_logps

    with torch.set_grad_enabled(grad):
        logps, _ = trajectory_logps(model, [[e] for e in encoded], pad_id, micro, ctx or contextlib.nullcontext())
    return logps


def train(config: DEPOConfig, trajectories: Sequence[TrajectorySample] | None = None) -> dict[str, Any]:
    """Train on ``trajectories`` (default: ``load_trajectories(config)``); returns the final
    metrics (``step``, ``loss``, ``kl``, ``desirable``/``undesirable`` sample counts,
    ``bonus_abs_mean``, ``runtime_s``, ``final_dir``)."""
    autocast(torch.device("cpu"), config.dtype)  # refuses an unknown dtype before any work
    from trainers.core.distributed import launched_distributed

    if launched_distributed():  # its processes would each train and write the same files
        raise RuntimeError("trainers.depo runs in one process: start it with python -m trainers.depo, "
                           "not under accelerate launch or torchrun")
    if config.batch_size < 2:
        raise ValueError("batch_size must be >= 2: KTO's reference point needs mismatched pairs in a micro-batch")
    from tqdm.auto import tqdm

    out = Path(config.output_dir)
    ckpt_dir = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)
    trajs = list(trajectories) if trajectories is not None else load_trajectories(config)
    if not config.model:
        raise ValueError("DEPOConfig.model is required")
    tokenizer = load_tokenizer(config.model)
    labels = label_and_bonus(trajs, tokenizer, config.threshold, config.alpha_tokens, config.alpha_steps)
    n_good = sum(d for d, _ in labels)
    if n_good == 0 or n_good == len(labels):
        raise ValueError(f"KTO needs desirable and undesirable trajectories; got {n_good} desirable of {len(labels)}")

    resume_from = latest_checkpoint(ckpt_dir) if config.resume else None
    start_model = _sft_start(config, trajs, labels) if config.sft_epochs > 0 else config.model
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    policy = load_policy(dataclasses.replace(config, model=start_model), resume_from, device=device)
    model, tokenizer = policy.model, policy.tokenizer
    pad_id = tokenizer.pad_token_id

    steps = [(s, d, b) for t, (d, b) in zip(trajs, labels) for s in t.steps]
    n = len(steps)
    encoded = [encode_step(policy, s, config.max_length) for s, _, _ in steps]
    cycle = list(range(n))
    random.Random(config.seed).shuffle(cycle)
    partner = {cycle[k]: cycle[k - 1] for k in range(n)}  # a fixed mismatched reply for every prompt
    kl_encoded = [encode_step(policy, StepSample(steps[i][0].messages, steps[partner[i]][0].response,
                                                 steps[partner[i]][0].response_ids), config.max_length)
                  for i in range(n)]
    is_good = torch.tensor([d for _, d, _ in steps], device=device)
    scale = torch.tensor([max(0.0, 1.0 + b) for _, _, b in steps], dtype=torch.float32, device=device)
    micro = config.batch_size

    ref_file = out / "reference_logps.json"
    if resume_from and ref_file.is_file():  # the reference of the run being resumed
        ref = json.loads(ref_file.read_text())
        if len(ref) != n:
            raise ValueError(f"{ref_file} holds {len(ref)} samples, the data {n}: another run's folder?")
    else:
        if resume_from:
            raise ValueError(f"{ref_file} is missing: cannot resume without the reference log-probs")
        model.eval()
        with reference_scope(model, None if has_adapter(model) else model) as reference:
            ref = list(zip(_logps(reference, encoded, pad_id, micro, None, False).tolist(),
                           _logps(reference, kl_encoded, pad_id, micro, None, False).tolist()))
        tmp = ref_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(ref))
        os.replace(tmp, ref_file)
    ref_t = torch.tensor(ref, dtype=torch.float32, device=device)

    per_step = config.batch_size * config.grad_accum
    steps_per_epoch = math.ceil(n / per_step)
    total_steps = steps_per_epoch * config.epochs
    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    scheduler = linear_schedule(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    logger = MetricsLogger(out, console=True, tensorboard=config.tensorboard, wandb=config.wandb,
                           config=dataclasses.asdict(config), stream=sys.stderr)
    n_des = int(is_good.sum())
    balance = config.desirable_weight * n_des / max(1e-9, config.undesirable_weight * (n - n_des))
    step = 0
    if resume_from:
        step = load_checkpoint(resume_from, optimizer, scheduler)["step"]
        logger.truncate_after(step)
        print(f"[depo] resumed from {resume_from} at step {step}/{total_steps}", file=sys.stderr)
    else:
        logger.truncate_after(0)
    if not 1.0 <= balance <= 4 / 3:
        print(f"[depo] lambda_D n_D / (lambda_U n_U) = {balance:.2f} (KTO advises [1, 4/3]): "
              f"consider --desirable-weight/--undesirable-weight", file=sys.stderr)
    ctx = autocast(device, config.dtype)
    model.train()
    start, last = time.time(), {}
    bar = tqdm(total=total_steps, initial=step, desc="depo", disable=None if config.progress else True)
    while step < total_steps:
        epoch, index = divmod(step, steps_per_epoch)
        group = epoch_order(n, config.seed, epoch)[index * per_step:(index + 1) * per_step]
        sums: dict[str, float] = {}
        for lo in range(0, len(group), micro):
            ids = group[lo:lo + micro]
            pol = _logps(model, [encoded[i] for i in ids], pad_id, micro, ctx, True)
            with torch.no_grad():
                pol_kl = _logps(model, [kl_encoded[i] for i in ids], pad_id, micro, ctx, False)
            idx = torch.tensor(ids, device=device)
            loss, metrics = kto_loss(pol, ref_t[idx, 0], is_good[idx], pol_kl, ref_t[idx, 1], beta=config.beta,
                                     desirable_weight=config.desirable_weight,
                                     undesirable_weight=config.undesirable_weight, desirable_scale=scale[idx])
            (loss * len(ids) / len(group)).backward()
            metrics["loss"] = loss.item()
            for k, v in metrics.items():
                if not math.isnan(v):
                    sums[k] = sums.get(k, 0.0) + v * len(ids) / len(group)
        grad_norm = (torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                     if config.max_grad_norm > 0 else torch.tensor(float("nan")))
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        last = sums
        bar.update(1)
        bar.set_postfix(loss=f"{sums['loss']:.4f}", kl=f"{sums.get('kl', 0):.3f}")
        if step % config.log_every == 0 or step == total_steps:
            logger.log(step, {**sums, "lr": lr, "grad_norm": float(grad_norm), "epoch": epoch})
        stop_now = config.stop_after_steps and step >= config.stop_after_steps
        if (config.save_every and step % config.save_every == 0) or step == total_steps or stop_now:
            save_checkpoint(ckpt_dir, model, tokenizer, optimizer, scheduler, step=step,
                            epoch=step // steps_per_epoch, state={"config": dataclasses.asdict(config)},
                            keep_last=config.keep_last or None)
        if stop_now and step < total_steps:
            print(f"[depo] stopping after step {step} (stop_after_steps); resume with --resume", file=sys.stderr)
            break
    bar.close()
    logger.close()
    final_dir = None
    if step >= total_steps:
        final_dir = save_final(model, tokenizer, out / "final", merge=config.merge_lora)
    bonuses = [b for d, b in labels if d]
    result = {"step": step, "total_steps": total_steps, "start_model": start_model,
              "samples": n, "desirable": n_des, "undesirable": n - n_des,
              "trajectories": len(trajs), "bonus_abs_mean": sum(abs(b) for b in bonuses) / len(bonuses),
              "loss": last.get("loss"), "kl": last.get("kl"), "runtime_s": round(time.time() - start, 3),
              "final_dir": str(final_dir) if final_dir else None}
    with open(out / "final_metrics.json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return result


def main(argv: list[str] | None = None) -> int:
    return cli.run(DEPOConfig, train, argv, "trainers.depo", __doc__)


if __name__ == "__main__":
    sys.exit(main())
