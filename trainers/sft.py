"""SFT: supervised fine-tuning on expert conversations, loss on the agent's turns only.

    python -m trainers.sft --model PATH --data data/webshop_demos/chat.jsonl --output runs/sft \
        [--epochs 3 --lr 2e-5 ...] [--config sft.json] [--resume]

Read top to bottom: the config, the data (chat JSONL, one ``{"messages": [...]}`` a line,
tokenized with ``tokenize_conversation`` so that only assistant content + end-of-turn tokens are
scored), the loop (AdamW, linear warmup then linear decay, gradient accumulation, gradient
clipping), checkpoints every ``save_every`` steps and at the end (the final model in
``output_dir/final``), exact resume from the latest checkpoint.

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

import argparse
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from trainers.core import collate, masked_logprobs, tokenize_conversation
from trainers.core.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from trainers.core.metrics import MetricsLogger


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------
def opt(default, help: str):
    """A config field with its command-line help."""
    return field(default=default, metadata={"help": help})


@dataclass
class SFTConfig:
    """Supervised fine-tuning. Defaults follow ETO's SFT stage for 7B models (Song et al. 2024,
    "Trial and Error: Exploration-Based Trajectory Optimization for LLM Agents", implementation
    details: lr 2e-5, 3 epochs, batch 64, 3% warmup, AdamW); AgentTuning (Zeng et al. 2023)
    used 5e-5 for 7B/13B and 1e-5 for 70B. We use a linear rather than cosine decay. Tiny test
    models (``trainers.core.tiny``, ~35k parameters, random init) need a much larger lr (3e-3)
    to learn in a few dozen steps."""

    model: str = opt("", "model path or hub id (AutoModelForCausalLM + tokenizer with chat template)")
    data: str = opt("data/webshop_demos/chat.jsonl", "chat JSONL: one {\"messages\": [...]} a line")
    output_dir: str = opt("runs/sft", "checkpoints/, metrics.jsonl and final/ go here")
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
    seed: int = opt(0, "seed of the data order and of torch/python RNGs")
    max_examples: int = opt(0, "use only the first N conversations (0: all)")
    save_every: int = opt(500, "checkpoint every N optimizer steps (0: only at the end)")
    keep_last: int = opt(2, "checkpoints kept (older ones are deleted; 0: keep all)")
    log_every: int = opt(10, "log metrics every N optimizer steps")
    resume: bool = opt(False, "continue from the latest checkpoint in output_dir/checkpoints")
    stop_after_steps: int = opt(0, "stop (with a checkpoint) after this global step, the schedule unchanged "
                                   "(0: run to the end); for preemptible jobs and tests")
    device: str = opt("auto", "auto (cuda if available), cpu, cuda, cuda:1...")
    dtype: str = opt("float32", "float32, or bfloat16 (autocast mixed precision; weights and "
                                "optimizer stay float32)")
    progress: bool = opt(True, "tqdm progress bar (hidden when stderr is not a terminal)")
    tensorboard: bool = opt(False, "also log to TensorBoard (needs tensorboard)")
    wandb: bool = opt(False, "also log to W&B, offline unless WANDB_MODE is set (needs wandb)")


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def load_conversations(path: str | os.PathLike, limit: int = 0) -> list[list[dict]]:
    convs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                convs.append(json.loads(line)["messages"])
                if limit and len(convs) >= limit:
                    break
    if not convs:
        raise ValueError(f"no conversations in {path}")
    return convs


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    """The data order of an epoch: a permutation that depends only on (seed, epoch)."""
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=g).tolist()


def linear_schedule(optimizer, warmup_steps: int, total_steps: int):
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def train(config: SFTConfig) -> dict[str, Any]:
    """Train; return the final metrics (``step``, ``epoch``, ``loss`` of the last step,
    ``epoch_loss`` (mean of the last epoch's steps), ``tokens``, ``runtime_s``, ``final_dir``)."""
    import transformers
    from tqdm.auto import tqdm

    if config.dtype not in ("float32", "bfloat16"):
        raise ValueError(f"dtype must be float32 or bfloat16, not {config.dtype!r}")
    out = Path(config.output_dir)
    ckpt_dir = out / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)

    resume_from = latest_checkpoint(ckpt_dir) if config.resume else None
    model_path = str(resume_from) if resume_from else config.model
    if not model_path:
        raise ValueError("SFTConfig.model is required")
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_path)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).to(device)
    model.train()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    examples = [tokenize_conversation(tokenizer, m, max_length=config.max_length)
                for m in load_conversations(config.data, config.max_examples)]
    examples = [e for e in examples if sum(e["labels_mask"]) > 0]  # nothing to learn from the rest
    per_step = config.batch_size * config.grad_accum
    steps_per_epoch = math.ceil(len(examples) / per_step)
    total_steps = steps_per_epoch * config.epochs

    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]  # biases, norms
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=config.lr)
    scheduler = linear_schedule(optimizer, int(config.warmup_ratio * total_steps), total_steps)

    step = 0
    logger = MetricsLogger(out, console=True, tensorboard=config.tensorboard, wandb=config.wandb,
                           config=dataclasses.asdict(config), stream=sys.stderr)
    if resume_from:
        state = load_checkpoint(resume_from, optimizer, scheduler)
        step = state["step"]
        logger.truncate_after(step)
        print(f"[sft] resumed from {resume_from} at step {step}/{total_steps}", file=sys.stderr)
    elif config.resume:
        print(f"[sft] resume=True but no checkpoint in {ckpt_dir}; starting from {config.model}", file=sys.stderr)

    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if config.dtype == "bfloat16"
                else torch.autocast(device.type, enabled=False))

    def save(at_step: int) -> None:
        save_checkpoint(ckpt_dir, model, tokenizer, optimizer, scheduler, step=at_step,
                        epoch=at_step // steps_per_epoch, state={"config": dataclasses.asdict(config)},
                        keep_last=config.keep_last or None)

    start, tokens_seen, loss, epoch_losses = time.time(), 0, float("nan"), []
    bar = tqdm(total=total_steps, initial=step, desc="sft", disable=None if config.progress else True)
    while step < total_steps:
        epoch, index = divmod(step, steps_per_epoch)
        if index == 0:
            epoch_losses = []
        order = epoch_order(len(examples), config.seed, epoch)
        group = [examples[i] for i in order[index * per_step:(index + 1) * per_step]]
        n_tokens = sum(sum(e["labels_mask"][1:]) for e in group)  # the first token is never predicted

        # one optimizer step: accumulate the token-summed NLL of each micro-batch / tokens of the step
        total_nll = 0.0
        for lo in range(0, len(group), config.batch_size):
            batch = {k: v.to(device) for k, v in collate(group[lo:lo + config.batch_size], pad_id).items()}
            with autocast:
                _, seq_logp = masked_logprobs(model, **batch)
            micro = -seq_logp.sum() / n_tokens
            micro.backward()
            total_nll += micro.item()
        grad_norm = (torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
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
        model.save_pretrained(final_dir)
        tokenizer.save_pretrained(final_dir)
    result = {"step": step, "epoch": (step - 1) // steps_per_epoch if step else 0, "loss": loss,
              "epoch_loss": sum(epoch_losses) / len(epoch_losses) if epoch_losses else float("nan"),
              "tokens": tokens_seen, "total_steps": total_steps, "runtime_s": round(time.time() - start, 3),
              "final_dir": str(final_dir) if final_dir else None}
    logger.close()
    with open(out / "final_metrics.json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return result


# ---------------------------------------------------------------------------------------------
# Command line: one option per config field (--config file.json first, then the options given)
# ---------------------------------------------------------------------------------------------
ALIASES = {"output_dir": ["--output"]}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m trainers.sft", description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="JSON file of SFTConfig fields; options on the command line override it")
    for f in dataclasses.fields(SFTConfig):
        names = [f"--{f.name.replace('_', '-')}"] + ALIASES.get(f.name, [])
        if f.name != f.name.replace("_", "-"):
            names.append(f"--{f.name}")
        help_text = f"{f.metadata.get('help', '')} (default: {f.default!r})"
        type_name = f.type if isinstance(f.type, str) else f.type.__name__  # str under `from __future__`
        if type_name == "bool":
            parser.add_argument(*names, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)
        else:
            kind = {"int": int, "float": float}.get(type_name, str)
            parser.add_argument(*names, dest=f.name, type=kind, default=None, help=help_text)
    return parser


def config_from_args(argv: list[str] | None = None) -> SFTConfig:
    args = build_parser().parse_args(argv)
    values: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            values.update(json.load(f))
        unknown = set(values) - {f.name for f in dataclasses.fields(SFTConfig)}
        if unknown:
            raise SystemExit(f"unknown SFTConfig fields in {args.config}: {sorted(unknown)}")
    values.update({k: v for k, v in vars(args).items() if k != "config" and v is not None})
    return SFTConfig(**values)


def main(argv: list[str] | None = None) -> int:
    result = train(config_from_args(argv))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
