"""SFT: supervised fine-tuning on expert conversations, loss on the agent's turns only.

    python -m trainers.sft --model PATH --data DEMOS/trajectories.jsonl --output runs/sft \
        [--epochs 3 --lr 2e-5 ...] [--config sft.json] [--resume]

Read top to bottom: the config, the data, the loop (AdamW, linear warmup then linear decay, gradient accumulation, gradient
clipping), checkpoints every ``save_every`` steps and at the end (the final model in
``output_dir/final``), exact resume from the latest checkpoint.

The data (``--data``, JSON lines; the kind is told by the first record's keys):

- trajectory records (``trajectories.jsonl`` of ``agent-gym demos`` or ``agent-gym eval``):
  each step becomes one sample prompted exactly as the rollouts prompt the policy
  (``trainers.core.data``: ``--fmt``, ``--history``), the reply scored; only won episodes
  unless ``--no-only-won``. This is the default way to train an agent.
- step samples ``{"prompt": [messages], "response": str, "response_ids"?: [int]}`` (what
  RFT and NAT write);
- chat conversations ``{"messages": [...]}`` (any chat data; every assistant turn scored,
  ``tokenize_conversation``).

The loss is the mean negative log-likelihood over all agent tokens of an optimizer step (tokens,
not conversations, are averaged, across the accumulated micro-batches), as in trl's SFTTrainer.

Why not trl's ``SFTTrainer``: its assistant-only loss (``assistant_only_loss=True``) takes the
mask from the chat template's ``{% generation %}`` markers, which most shipped templates (ChatML,
Llama, SmolLM...) lack, so one would have to rewrite each model's template. Our masks work with
any template whose renderings are prefix-stable (``trainers.core.masks``). trl also brings
``accelerate``, ``datasets``, ``pandas`` and ``pyarrow`` (trl 1.16.0's own wheel is 0.95 MB, its
required dependencies tens of MB; none is needed here) and a framework to learn before the
maths; the loop below is about 60 lines of plain torch. The data order is a seeded
permutation per epoch, so a resumed run replays exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from trainers.core import ChatTemplateError, cli, collate, masked_logprobs, tokenize_conversation
from trainers.core.checkpoint import finished_run, latest_checkpoint, load_checkpoint, save_checkpoint
from trainers.core.cli import opt
from trainers.core.config import TrainerConfig
from trainers.core.distributed import Dist
from trainers.core.metrics import open_logger
from trainers.core.optim import autocast as autocast_for
from trainers.core.optim import epoch_order, linear_schedule, make_optimizer, resolve_device
from trainers.core.policy import load_policy, save_final


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------
@dataclass
class SFTConfig(TrainerConfig):
    """Supervised fine-tuning. Defaults follow ETO's SFT stage for 7B models (Song et al. 2024,
    "Trial and Error: Exploration-Based Trajectory Optimization for LLM Agents", implementation
    details: lr 2e-5, 3 epochs, batch 64, 3% warmup, AdamW); AgentTuning (Zeng et al. 2023)
    used 5e-5 for 7B/13B and 1e-5 for 70B. We use a linear rather than cosine decay. Tiny test
    models (``trainers.core.tiny``, ~35k parameters, random init) need a much larger lr (3e-3)
    to learn in a few dozen steps. The fields every trainer has (model, output_dir, fmt, history,
    seed, device, dtype, resume, LoRA, logging...) are ``TrainerConfig``'s."""

    data: str = opt("data/webshop_demos/trajectories.jsonl", "trajectory records, step samples or chat JSONL "
                                                               "(see the module docstring)")
    output_dir: str = opt("runs/sft", "checkpoints/, metrics.jsonl and final/ go here")
    only_won: bool = opt(True, "trajectory data: train only on won episodes")
    thoughts: bool = opt(True, "trajectory data: keep the recorded thoughts in the replies (else action only)")
    epochs: int = opt(3, "passes over the data (ETO: 3)")
    lr: float = opt(2e-5, "peak learning rate (ETO: 2e-5 for 7B; tiny models: ~3e-3)")
    batch_size: int = opt(4, "conversations per micro-batch (forward pass)")
    grad_accum: int = opt(16, "micro-batches per optimizer step (effective batch = batch_size * grad_accum; "
                              "ETO: 64)")
    max_length: int = opt(2048, "tokens per conversation; longer ones are cut from the left at a turn "
                                "boundary")
    warmup_ratio: float = opt(0.03, "fraction of steps of linear warmup (ETO: 3%%)")
    weight_decay: float = opt(0.0, "AdamW weight decay")
    max_grad_norm: float = opt(1.0, "gradient clipping (0: none)")
    max_examples: int = opt(0, "use only the first N conversations (0: all)")
    save_every: int = opt(500, "checkpoint every N optimizer steps (0: only at the end)")
    keep_last: int = opt(2, "checkpoints kept (older ones are deleted; 0: keep all)")
    log_every: int = opt(10, "log metrics every N optimizer steps")
    stop_after_steps: int = opt(0, "stop (with a checkpoint) after this global step, the schedule unchanged "
                                   "(0: run to the end); for preemptible jobs and tests")


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def read_jsonl(path: str | os.PathLike, limit: int = 0, numbered: bool = False) -> list:
    """The JSON records of a JSONL file (``numbered``: as ``(line number, record)``); a line
    that is not a JSON object raises ``ValueError`` naming the file and line."""
    records = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{n}: a record must be a JSON object, not {type(record).__name__}")
            records.append((n, record) if numbered else record)
            if limit and len(records) >= limit:
                break
    if not records:
        raise ValueError(f"no records in {path}")
    return records


def load_conversations(path: str | os.PathLike, limit: int = 0) -> list[list[dict]]:
    return [r["messages"] for r in read_jsonl(path, limit)]


def load_examples(config: SFTConfig, policy) -> list[dict]:
    """Tokenized examples (``input_ids``, ``labels_mask``) of ``config.data``, whatever its kind
    (told by the first record's keys); a record not of that kind raises ``ValueError`` naming
    the file and line."""
    from agent_gym.core.trajectory import Trajectory
    from trainers.core.data import StepSample, check_messages, encode_step, trajectory_to_samples

    records = read_jsonl(config.data, config.max_examples, numbered=True)
    first = records[0][1]
    if "messages" in first:
        kind = "chat"
    elif "prompt" in first and "response" in first:
        kind = "step"
    elif "steps" in first and "env_id" in first:
        kind = "trajectory"
    else:
        raise ValueError(f"{config.data}:{records[0][0]}: records have keys {sorted(first)[:8]}; expected "
                         f"trajectory records (env_id, steps...), step samples (prompt, response) or chat "
                         f"({{\"messages\": ...}})")
    examples = []
    for n, r in records:
        try:
            if kind == "chat":
                examples.append(tokenize_conversation(policy.tokenizer, check_messages(r["messages"]),
                                                      max_length=config.max_length))
                continue
            if kind == "step":
                ids = r.get("response_ids")
                if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
                    raise ValueError("response_ids must be a list of token ids")
                if not isinstance(r["response"], str):
                    raise ValueError("response must be a string")
                samples = [StepSample(check_messages(r["prompt"]), r["response"], ids)]
            else:
                t = Trajectory.from_dict(r)
                if not t.won and config.only_won:
                    continue
                samples = trajectory_to_samples(t, fmt=config.fmt, history=config.history,
                                                thoughts=config.thoughts).steps
            examples += [encode_step(policy, s, max_length=config.max_length) for s in samples]
        except ChatTemplateError:
            raise
        except Exception as exc:  # noqa: BLE001  any malformed record: say where it is
            what = {"chat": "a chat record", "step": "a step sample", "trajectory": "a trajectory record"}[kind]
            raise ValueError(f"{config.data}:{n}: not {what} like line {records[0][0]} "
                             f"({type(exc).__name__}: {exc})") from None
    return examples


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def train(config: SFTConfig) -> dict[str, Any]:
    """Train; return the final metrics (``step``, ``epoch``, ``loss`` of the last step,
    ``epoch_loss`` (mean of the last epoch's steps), ``tokens``, ``runtime_s``, ``final_dir``)."""
    from tqdm.auto import tqdm

    out = Path(config.output_dir)
    ckpt_dir = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    dist = Dist(resolve_device(config.device))
    device = dist.device

    resume_from = latest_checkpoint(ckpt_dir) if config.resume else None
    if not (config.model or resume_from):
        raise ValueError("SFTConfig.model is required")
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    policy = load_policy(config, resume_from, device=device, meta=not dist.reads_weights,
                         partitioned=dist.partition_on_load)
    model, tokenizer = policy.model, policy.tokenizer
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    examples = load_examples(config, policy)
    examples = [e for e in examples if sum(e["labels_mask"]) > 0]  # nothing to learn from the rest
    if not examples:
        raise ValueError(f"{config.data}: no example with an agent turn to learn from")
    per_step = config.batch_size * config.grad_accum
    steps_per_epoch = math.ceil(len(examples) / per_step)
    total_steps = steps_per_epoch * config.epochs

    optimizer = make_optimizer(model, config.lr, config.weight_decay)
    wrapped, optimizer = dist.prepare(model, optimizer, config.max_grad_norm)  # DDP, FSDP2 or ZeRO-3; else as is
    # after prepare: ZeRO-3 regroups the optimizer's parameters
    scheduler = linear_schedule(optimizer, int(config.warmup_ratio * total_steps), total_steps)

    step = 0
    if resume_from:
        state = load_checkpoint(resume_from, optimizer, scheduler,
                                load_optimizer=lambda st: dist.load_optimizer(model, optimizer, st))
        step = state["step"]
        done = finished_run(out, step >= total_steps)
        if done is not None:
            return done
    logger = open_logger(config, out, dist.is_main)
    if resume_from:
        logger.truncate_after(step)
        print(f"[sft] resumed from {resume_from} at step {step}/{total_steps}", file=sys.stderr)
    elif config.resume:
        print(f"[sft] resume=True but no checkpoint in {ckpt_dir}; starting from {config.model}", file=sys.stderr)

    autocast = autocast_for(device, config.dtype)

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

    start, tokens_seen, loss, epoch_losses = time.time(), 0, float("nan"), []
    bar = tqdm(total=total_steps, initial=step, desc="sft", disable=None if config.progress else True)
    while step < total_steps:
        epoch, index = divmod(step, steps_per_epoch)
        if index == 0:
            epoch_losses = []
        order = epoch_order(len(examples), config.seed, epoch)
        group = [examples[i] for i in order[index * per_step:(index + 1) * per_step]]
        n_tokens = sum(sum(e["labels_mask"][1:]) for e in group)  # the first token is never predicted

        # one optimizer step: accumulate the token-summed NLL of each micro-batch / tokens of the
        # step; with several processes each takes its share of the step's examples, and its loss
        # is multiplied by their number because the engine averages the gradients
        total_nll = 0.0
        chunks = dist.padded_chunks(group, config.batch_size)
        for j, (chunk, weight) in enumerate(chunks):
            batch = {k: v.to(device) for k, v in collate(chunk, pad_id).items()}
            with dist.no_sync(wrapped, skip=j < len(chunks) - 1):
                with autocast:
                    _, seq_logp = masked_logprobs(wrapped, **batch)
                micro = -seq_logp.sum() / n_tokens
                dist.backward(micro * (weight * dist.world))
            total_nll += micro.item() * weight
        total_nll = dist.sum(total_nll)
        grad_norm = (dist.clip_grad_norm(wrapped, config.max_grad_norm)
                     if config.max_grad_norm > 0 else torch.tensor(float("nan")))
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        loss, tokens_seen = total_nll, tokens_seen + n_tokens
        epoch_losses.append(loss)
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}", epoch=epoch)

        if step % config.log_every == 0 or step == total_steps:
            logger.log(step, {"loss": loss, "lr": lr, "grad_norm": float(grad_norm), "epoch": epoch,
                              "tokens": n_tokens})
        stop_now = config.stop_after_steps and step >= config.stop_after_steps
        if (config.save_every and step % config.save_every == 0) or step == total_steps or stop_now:
            save(step)
        if stop_now and step < total_steps:
            print(f"[sft] stopping after step {step} (stop_after_steps); resume with --resume", file=sys.stderr)
            break
    bar.close()

    final_dir = None
    if step >= total_steps:
        final_dir = out / "final"
        model_state, _ = dist.full_state(model)
        if dist.is_main:
            save_final(model, tokenizer, final_dir, merge=config.merge_lora, state_dict=model_state)
    result = {"step": step, "epoch": (step - 1) // steps_per_epoch if step else 0, "loss": loss,
              "epoch_loss": sum(epoch_losses) / len(epoch_losses) if epoch_losses else float("nan"),
              "tokens": tokens_seen, "total_steps": total_steps, "runtime_s": round(time.time() - start, 3),
              "final_dir": str(final_dir) if final_dir else None}
    logger.close()
    if dist.is_main:
        with open(out / "final_metrics.json", "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    dist.barrier()
    return result


# ---------------------------------------------------------------------------------------------
# Command line: one option per config field (--config file.json first, then the options given)
# ---------------------------------------------------------------------------------------------
ALIASES = {"output_dir": ["--output"]}


def config_from_args(argv: list[str] | None = None) -> SFTConfig:
    return cli.config_from_args(SFTConfig, argv, prog="python -m trainers.sft", description=__doc__.split("\n")[0],
                                aliases=ALIASES)


def main(argv: list[str] | None = None) -> int:
    return cli.run(SFTConfig, train, argv, "trainers.sft", __doc__)


if __name__ == "__main__":
    sys.exit(main())
