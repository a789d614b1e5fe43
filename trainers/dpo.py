"""DPO on multi-turn trajectory pairs, log-probs summed over the agent's turns only.

    python -m trainers.dpo --model SFT_DIR --pairs pairs.jsonl --output runs/dpo
    python -m trainers.dpo --model SFT_DIR --chosen expert/trajectories.jsonl \
        --rejected policy/trajectories.jsonl --output runs/dpo

Read top to bottom: the config; the pairs (two trajectories of the same task, chosen = the
higher reward, ties dropped); the reference log-probs (the starting model's, computed once
before the first step, without a graph and in the run's precision, and kept in
``output_dir/reference_logps.json``, so no second model is held in memory and a resumed run
uses the same reference); the loop (the loss of
``trainers.core.losses``: DPO, or IPO, plus an optional NLL term on the chosen trajectory).

A trajectory's log-probability is the sum over its steps of ``log pi(reply_t | prompt_t)``,
each step prompted as the rollouts prompt the policy (``trainers.core.data``): observations,
the task and the system prompt are conditioned on, never scored. trl's ``DPOTrainer`` would
score the observation turns of a multi-turn completion as if the policy had written them.

ETO (``trainers.eto``) and SPIN (``trainers.spin``) are rounds of this trainer with pairs they
build themselves and the previous round's model as the reference.

Defaults: ``beta = 0.1`` (Rafailov et al. 2023; ETO, Song et al. 2024, and SPIN, Chen et al.
2024, use 0.1 too), 3 epochs, AdamW with 10% warmup then linear decay. DPO fine-tunes of 7B
models typically use learning rates of 5e-7 to 1e-6 (DPO's own default is 1e-6); tiny test
models need ~1e-3.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from trainers.core import cli, collate, masked_logprobs
from trainers.core.checkpoint import finished_run, latest_checkpoint, load_checkpoint, save_checkpoint
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig
from trainers.core.data import StepSample, TrajectorySample, check_messages, encode_step, trajectory_to_samples
from trainers.core.distributed import Dist
from trainers.core.losses import dpo_loss, eto_loss, ipo_loss
from trainers.core.metrics import open_logger
from trainers.core.optim import autocast, epoch_order, linear_schedule, make_optimizer, resolve_device
from trainers.core.policy import has_adapter, load_policy, reference_scope, save_final

LOSSES = ("sigmoid", "ipo")


@dataclass
class DPOConfig(TrainerConfig):
    model: str = opt("", "the starting model (also the reference): a folder or hub id")
    pairs: str = opt("", "pairs JSONL ({task_id, chosen: [steps], rejected: [steps]}); or give --chosen/--rejected")
    chosen: str = opt("", "trajectory records of one side (e.g. the expert's), paired by task id with --rejected")
    rejected: str = opt("", "trajectory records of the other side (e.g. the policy's); chosen = higher reward")
    max_pairs: int = opt(0, "use only the first N pairs (0: all)")
    output_dir: str = opt("runs/dpo", "checkpoints/, metrics.jsonl, reference_logps.json and final/ go here")
    loss: str = opt("sigmoid", "sigmoid (DPO) or ipo")
    beta: float = opt(0.1, "DPO beta (IPO: tau) (DPO, ETO, SPIN: 0.1)")
    label_smoothing: float = opt(0.0, "conservative DPO label smoothing (0: plain DPO)")
    nll_weight: float = opt(0.0, "weight of an NLL term on the chosen trajectory (0: none, as in DPO/ETO)")
    epochs: int = opt(3, "passes over the pairs")
    lr: float = opt(1e-6, "peak learning rate (7B models: 5e-7 to 1e-6; tiny test models: ~1e-3)")
    batch_size: int = opt(4, "pairs per micro-batch")
    grad_accum: int = opt(8, "micro-batches per optimizer step")
    max_length: int = opt(4096, "tokens per step sample (prompt + reply); longer prompts lose their start")
    warmup_ratio: float = opt(0.1, "fraction of steps of linear warmup")
    weight_decay: float = opt(0.0, "AdamW weight decay")
    max_grad_norm: float = opt(1.0, "gradient clipping (0: none)")
    save_every: int = opt(500, "checkpoint every N optimizer steps (0: only at the end)")
    keep_last: int = opt(2, "checkpoints kept (0: all)")
    log_every: int = opt(10, "log metrics every N optimizer steps")
    stop_after_steps: int = opt(0, "stop (with a checkpoint) after this step, schedule unchanged (0: run to the end)")


# ---------------------------------------------------------------------------------------------
# Pairs
# ---------------------------------------------------------------------------------------------
@dataclass
class Pair:
    task_id: int
    chosen: TrajectorySample
    rejected: TrajectorySample


def make_pairs(first: Sequence[TrajectorySample], second: Sequence[TrajectorySample]) -> list[Pair]:
    """Pair trajectories of the same task: one from ``first`` (e.g. the expert) with each of
    ``second`` (e.g. the policy's) on that task; chosen = the higher reward; ties are dropped
    (they say nothing about which is better)."""
    by_task: dict[int, TrajectorySample] = {}
    for t in first:
        by_task.setdefault(t.task_id, t)
    pairs = []
    for t in second:
        other = by_task.get(t.task_id)
        if other is None or other.reward == t.reward:
            continue
        chosen, rejected = (other, t) if other.reward > t.reward else (t, other)
        pairs.append(Pair(t.task_id, chosen, rejected))
    return pairs


def _steps_to_json(traj: TrajectorySample) -> list[dict]:
    return [{"prompt": s.messages, "response": s.response,
             **({"response_ids": s.response_ids} if s.response_ids is not None else {})} for s in traj.steps]


def _steps_from_json(steps: list[dict]) -> list[StepSample]:
    out = []
    for s in steps:
        if not isinstance(s["response"], str):
            raise ValueError("a step's response must be a string")
        out.append(StepSample(check_messages(s["prompt"]), s["response"], s.get("response_ids")))
    return out


def write_pairs(path: str | os.PathLike, pairs: Sequence[Pair]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps({"task_id": p.task_id,
                                "chosen": _steps_to_json(p.chosen), "chosen_reward": p.chosen.reward,
                                "chosen_source": p.chosen.source,
                                "rejected": _steps_to_json(p.rejected), "rejected_reward": p.rejected.reward,
                                "rejected_source": p.rejected.source}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path


def read_pairs(path: str | os.PathLike) -> list[Pair]:
    pairs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                task = int(r["task_id"])
                pairs.append(Pair(task, TrajectorySample(task, _steps_from_json(r["chosen"]), r.get("chosen_reward", 1.0),
                                                         source=r.get("chosen_source", "")),
                                  TrajectorySample(task, _steps_from_json(r["rejected"]),
                                                   r.get("rejected_reward", 0.0), source=r.get("rejected_source", ""))))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{n}: not a pair record ({exc})") from None
    return pairs


def load_pairs(config: DPOConfig) -> list[Pair]:
    if config.pairs:
        return read_pairs(config.pairs)
    if not (config.chosen and config.rejected):
        raise ValueError("give --pairs, or --chosen and --rejected trajectory records")
    from agent_gym.core.trajectory import read_trajectories

    def samples(path):
        return [trajectory_to_samples(t, fmt=config.fmt, history=config.history) for t in read_trajectories(path)]
    return make_pairs(samples(config.chosen), samples(config.rejected))


# ---------------------------------------------------------------------------------------------
# Trajectory log-probs: the sum of the step replies' log-probs, steps batched across trajectories
# ---------------------------------------------------------------------------------------------
def trajectory_logps(model, trajectories: Sequence[list[dict]], pad_id: int, micro_batch: int = 16,
                     ctx=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logps [N], reply_tokens [N])`` of ``N`` encoded trajectories (lists of ``encode_step``
    outputs); steps of all trajectories are scored in padded micro-batches under ``ctx`` (the
    run's precision: bfloat16 autocast or none), with gradients unless the caller turned them
    off (``torch.no_grad``)."""
    flat = [(i, ex) for i, steps in enumerate(trajectories) for ex in steps]
    device = next(model.parameters()).device
    total = torch.zeros(len(trajectories), device=device)
    tokens = torch.zeros(len(trajectories), device=device)
    for lo in range(0, len(flat), micro_batch):
        chunk = flat[lo:lo + micro_batch]
        batch = {k: v.to(device) for k, v in collate([ex for _, ex in chunk], pad_id).items()}
        with ctx if ctx is not None else contextlib.nullcontext():  # never re-enables grad
            _, seq = masked_logprobs(model, **batch)
        index = torch.tensor([i for i, _ in chunk], device=device)
        total = total.index_add(0, index, seq.float())
        tokens = tokens.index_add(0, index, batch["labels_mask"][:, 1:].sum(-1).float())
    return total, tokens


def backward_through_steps(model, trajectories: Sequence[list[dict]], weights: torch.Tensor, pad_id: int,
                           micro_batch: int, ctx, backward=None) -> None:
    """Accumulate ``sum_j weights[j] * d log pi(trajectory_j) / d theta`` one step micro-batch
    at a time (the second pass of the DPO update); ``backward(loss)``: the engine's backward
    (``Dist.backward``; default ``loss.backward()``)."""
    flat = [(i, ex) for i, steps in enumerate(trajectories) for ex in steps]
    device = next(model.parameters()).device
    for lo in range(0, len(flat), micro_batch):
        chunk = flat[lo:lo + micro_batch]
        batch = {k: v.to(device) for k, v in collate([ex for _, ex in chunk], pad_id).items()}
        with ctx:
            _, seq = masked_logprobs(model, **batch)
        coef = weights[torch.tensor([i for i, _ in chunk], device=weights.device)].to(seq.device)
        loss = (seq.float() * coef).sum()
        loss.backward() if backward is None else backward(loss)


def reference_logps(model, encoded: Sequence[dict], pad_id: int, micro_batch: int = 16,
                    ctx=None) -> list[list[float]]:
    """``[[chosen, rejected], ...]`` under ``model`` without gradients (no graph is built) and
    under ``ctx``, the precision the policy is trained in: a bfloat16 run must score the
    reference in bfloat16 too, or its first step starts with non-zero log-ratios."""
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for lo in range(0, len(encoded), micro_batch):
            chunk = encoded[lo:lo + micro_batch]
            trajs = [p["chosen"] for p in chunk] + [p["rejected"] for p in chunk]
            logps, _ = trajectory_logps(model, trajs, pad_id, micro_batch, ctx)
            n = len(chunk)
            out += [[float(logps[i]), float(logps[n + i])] for i in range(n)]
    model.train(was_training)
    return out


def preference_loss(config: DPOConfig, pc, pr, rc, rr, chosen_tokens):
    if config.loss == "ipo":
        loss, metrics = ipo_loss(pc, pr, rc, rr, tau=config.beta)
    elif config.nll_weight:
        loss, metrics = eto_loss(pc, pr, rc, rr, chosen_token_counts=chosen_tokens, beta=config.beta,
                                 alpha=config.nll_weight, label_smoothing=config.label_smoothing)
    else:
        loss, metrics = dpo_loss(pc, pr, rc, rr, beta=config.beta, label_smoothing=config.label_smoothing)
    return loss, metrics


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def train(config: DPOConfig, pairs: Sequence[Pair] | None = None) -> dict[str, Any]:
    """Train on ``pairs`` (default: ``load_pairs(config)``); returns the final metrics
    (``step``, ``loss``, ``margin``, ``accuracy`` of the last step, ``start_margin`` (0: the
    policy starts as the reference) and ``end_margin``: the mean beta-scaled log-ratio margin
    over all pairs after training,
    ``pairs``, ``runtime_s``, ``final_dir``)."""
    from tqdm.auto import tqdm

    if config.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, not {config.loss!r}")
    out = Path(config.output_dir)
    ckpt_dir = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    dist = Dist(resolve_device(config.device))
    device = dist.device
    pairs = list(pairs) if pairs is not None else load_pairs(config)
    if config.max_pairs:
        pairs = pairs[:config.max_pairs]
    if not pairs:
        raise ValueError("no preference pairs (all ties, or no task in common)")

    resume_from = latest_checkpoint(ckpt_dir) if config.resume else None
    if not (config.model or resume_from):
        raise ValueError("DPOConfig.model is required")
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    policy = load_policy(config, resume_from, device=device, meta=not dist.reads_weights,
                         partitioned=dist.partition_on_load)
    model, tokenizer = policy.model, policy.tokenizer
    pad_id = tokenizer.pad_token_id
    encoded = [{"chosen": [encode_step(policy, s, config.max_length) for s in p.chosen.steps],
                "rejected": [encode_step(policy, s, config.max_length) for s in p.rejected.steps]} for p in pairs]

    per_step = config.batch_size * config.grad_accum
    steps_per_epoch = math.ceil(len(encoded) / per_step)
    total_steps = steps_per_epoch * config.epochs
    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    wrapped, optimizer = dist.prepare(model, optimizer, config.max_grad_norm)  # DDP, FSDP2 or ZeRO-3; else as is
    # after prepare: ZeRO-3 regroups the optimizer's parameters
    scheduler = linear_schedule(optimizer, int(config.warmup_ratio * total_steps), total_steps)

    ref_file = out / "reference_logps.json"
    # the main process computes the reference and writes it (a resumed run reads the file: the
    # reference is the model the run started from); under FSDP2 and ZeRO-3 every process
    # computes it (every forward through a sharded model is a collective), after ``prepare``
    # (ZeRO-3 may have partitioned the weights as they loaded)
    compute = dist.broadcast(not ref_file.is_file())
    if compute:
        if resume_from:
            raise ValueError(f"{ref_file} is missing: cannot resume without the reference log-probs")
        if dist.is_main or dist.sharded:
            with reference_scope(model, None if has_adapter(model) else model) as reference:
                ref = reference_logps(reference, encoded, pad_id, config.batch_size * 2,
                                      autocast(device, config.dtype))
            if dist.is_main:
                tmp = ref_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(ref))
                os.replace(tmp, ref_file)
        dist.barrier()
    ref = json.loads(ref_file.read_text())
    if len(ref) != len(encoded):
        raise ValueError(f"{ref_file} holds {len(ref)} pairs, the data {len(encoded)}: another run's folder?")
    ref_t = torch.tensor(ref, dtype=torch.float32, device=device)
    step = 0
    if resume_from:
        step = load_checkpoint(resume_from, optimizer, scheduler,
                               load_optimizer=lambda st: dist.load_optimizer(model, optimizer, st))["step"]
        done = finished_run(out, step >= total_steps)
        if done is not None:
            return done
    logger = open_logger(config, out, dist.is_main)
    if resume_from:
        logger.truncate_after(step)
        print(f"[dpo] resumed from {resume_from} at step {step}/{total_steps}", file=sys.stderr)
    ctx = autocast(device, config.dtype)
    model.train()

    def save(at_step: int) -> None:
        model_state, optimizer_state = dist.full_state(model, optimizer)  # FSDP2: gathered on the main process
        if dist.is_main:
            save_checkpoint(ckpt_dir, model, tokenizer, optimizer, scheduler, step=at_step,
                            epoch=at_step // steps_per_epoch,
                            state={"config": dataclasses.asdict(config), "processes": dist.world,
                                   "engine": dist.engine},
                            keep_last=config.keep_last or None, model_state=model_state,
                            optimizer_state=optimizer_state)
        dist.barrier()

    start, last = time.time(), {}
    bar = tqdm(total=total_steps, initial=step, desc="dpo", disable=None if config.progress else True)
    while step < total_steps:
        epoch, index = divmod(step, steps_per_epoch)
        order = epoch_order(len(encoded), config.seed, epoch)
        group = order[index * per_step:(index + 1) * per_step]
        sums: dict[str, float] = {}
        first = collate([encoded[group[0]]["chosen"][0]], pad_id)

        def pad_pass():  # one pass of the step's first sample, weighted 0 by the callers
            return masked_logprobs(wrapped, **{k: v.to(device) for k, v in first.items()})[1].sum()

        # each process takes its share of the step's pairs; gradients accumulate locally and are
        # reduced once at the end of the step (``dist.sync``), scaled by the number of processes
        # because the engine averages them
        for ids, weight in dist.padded_chunks(group, config.batch_size):
            n = len(ids)
            trajs = [encoded[i]["chosen"] for i in ids] + [encoded[i]["rejected"] for i in ids]
            # The loss is a function of whole-trajectory sums, so backpropagate in two passes to
            # keep memory at one micro-batch of steps: (1) the sums without a graph and the
            # loss's gradient w.r.t. each sum; (2) each step micro-batch again, with a graph,
            # weighted by its trajectory's gradient (d loss / d theta = sum_j dL/dS_j dS_j/dtheta).
            with torch.no_grad(), dist.count_passes(wrapped) as passes:
                sums_now, tokens = trajectory_logps(wrapped, trajs, pad_id, config.batch_size * 2, ctx)
            dist.match_passes(passes[0], pad_pass)
            leaf = sums_now.detach().requires_grad_(True)
            r = ref_t[ids]
            loss, metrics = preference_loss(config, leaf[:n], leaf[n:], r[:, 0], r[:, 1], tokens[:n])
            (loss * (n / len(group) * weight * dist.world)).backward()
            with dist.no_sync(wrapped, skip=True), dist.count_passes(wrapped) as passes:
                backward_through_steps(wrapped, trajs, leaf.grad, pad_id, config.batch_size * 2, ctx, dist.backward)
                dist.match_passes(passes[0], pad_pass, backward=True)
            metrics["loss"] = loss.item()
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v * n / len(group) * weight
        dist.sync(wrapped, pad_pass)
        sums = {k: dist.sum(v) for k, v in sums.items()}
        grad_norm = (dist.clip_grad_norm(wrapped, config.max_grad_norm)
                     if config.max_grad_norm > 0 else torch.tensor(float("nan")))
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        last = sums
        bar.update(1)
        bar.set_postfix(loss=f"{sums['loss']:.4f}", margin=f"{sums['margin']:.3f}")
        if step % config.log_every == 0 or step == total_steps:
            logger.log(step, {**sums, "lr": lr, "grad_norm": float(grad_norm), "epoch": epoch})
        stop_now = config.stop_after_steps and step >= config.stop_after_steps
        if (config.save_every and step % config.save_every == 0) or step == total_steps or stop_now:
            save(step)
        if stop_now and step < total_steps:
            print(f"[dpo] stopping after step {step} (stop_after_steps); resume with --resume", file=sys.stderr)
            break
    bar.close()

    end_margin = pair_margin(model, encoded, ref, pad_id, config.beta, config.batch_size * 2, ctx)
    final_dir = None
    if step >= total_steps:
        final_dir = out / "final"
        model_state, _ = dist.full_state(model)
        if dist.is_main:
            save_final(model, tokenizer, final_dir, merge=config.merge_lora, state_dict=model_state)
    result = {"step": step, "total_steps": total_steps, "pairs": len(encoded), "loss": last.get("loss"),
              "margin": last.get("margin"), "accuracy": last.get("accuracy"),
              "start_margin": 0.0,  # the policy starts as the reference: every log-ratio is 0
              "end_margin": end_margin, "runtime_s": round(time.time() - start, 3),
              "final_dir": str(final_dir) if final_dir else None}
    logger.close()
    if dist.is_main:
        with open(out / "final_metrics.json", "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    dist.barrier()
    return result


def pair_margin(model, encoded: Sequence[dict], ref: Sequence[Sequence[float]], pad_id: int, beta: float,
                micro_batch: int = 16, ctx=None) -> float:
    """Mean over pairs of ``beta * ((log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l)))``."""
    now = reference_logps(model, encoded, pad_id, micro_batch, ctx)
    return sum(beta * ((c - rc) - (r - rr)) for (c, r), (rc, rr) in zip(now, ref)) / max(1, len(ref))


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    return cli.run(DPOConfig, train, argv, "trainers.dpo", __doc__)


if __name__ == "__main__":
    sys.exit(main())
