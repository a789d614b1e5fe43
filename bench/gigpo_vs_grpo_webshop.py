"""GiGPO against GRPO on WebShop with a small model: learning curves, rollout tokens/s, time per iteration.

    python bench/gigpo_vs_grpo_webshop.py --model runs/smollm2/sft/final --out runs/gigpo-vs-grpo          # GPU
    python bench/gigpo_vs_grpo_webshop.py --model runs/smollm2-cpu/sft/final --out runs/gvg-cpu --short    # CPU

Both runs use ``trainers.gigpo`` with the same settings and seed; GRPO is ``omega = 0``. The
default settings are a small version of the paper's WebShop recipe (Feng et al. 2025: groups
of 8, lr 1e-6, KL 0.01, invalid-action penalty 0.1); ``--short`` is what a CPU can do in minutes
(1 task x 4 trajectories, at most 3 steps, 2 iterations): it shows the loop on a real model
and its costs, not a learning curve. Prints one table row per iteration and writes
``curves.png`` (success and reward per iteration) and ``summary.json`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def run(model: str, out: Path, omega: float, args) -> list[dict]:
    from trainers import gigpo

    folder = out / ("gigpo" if omega else "grpo")
    config = gigpo.GiGPOConfig(
        model=model, env="agent_gym/WebShop-v0", env_kwargs=json.dumps({"max_steps": args.max_steps}),
        output_dir=str(folder), omega=omega, iterations=args.iterations, tasks_per_iteration=args.tasks,
        group_size=args.group, history=args.history, max_new_tokens=args.max_new_tokens, lr=args.lr,
        kl_coef=args.kl_coef, micro_batch=args.micro_batch, mini_batch=args.mini_batch, device=args.device,
        dtype=args.dtype, recompute_old_logprobs=False, save_every=0, keep_last=1, progress=True, seed=args.seed)
    gigpo.train(config)
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="an SFT checkpoint (trainers.sft / bench/smollm2_webshop.py)")
    p.add_argument("--out", default="runs/gigpo-vs-grpo")
    p.add_argument("--short", action="store_true", help="the CPU version: 1 task x 4, 3 steps, 2 iterations")
    p.add_argument("--iterations", type=int, default=50)
    p.add_argument("--tasks", type=int, default=16)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--max-steps", type=int, default=15)
    p.add_argument("--history", type=int, default=1, help="as the SFT model was trained (the recipe: 1)")
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--lr", type=float, default=1e-6)
    p.add_argument("--kl-coef", type=float, default=0.01)
    p.add_argument("--micro-batch", type=int, default=4)
    p.add_argument("--mini-batch", type=int, default=64)
    p.add_argument("--device", default="auto")
    p.add_argument("--dtype", default="float32")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.short:
        args.iterations, args.tasks, args.group, args.max_steps = 2, 1, 4, 3
        args.max_new_tokens, args.kl_coef, args.micro_batch = 64, 0.0, 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    curves = {name: run(args.model, out, omega, args) for name, omega in (("gigpo", 1.0), ("grpo", 0.0))}
    print("\n| run | iteration | success | reward | invalid | rollout tokens/s | rollout s | iteration s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, rows in curves.items():
        for r in rows:
            print(f"| {name} | {r['step']} | {r['success']:.3f} | {r['reward']:.3f} | {r['invalid']:.3f} | "
                  f"{r['rollout_tokens_per_s']:.1f} | {r['rollout_s']:.1f} | {r['iteration_s']:.1f} |")
    summary = {"settings": vars(args), "curves": curves, "runtime_s": round(time.time() - started, 1)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        for name, rows in curves.items():
            steps = [r["step"] for r in rows]
            axes[0].plot(steps, [r["success"] for r in rows], marker="o", label=name)
            axes[1].plot(steps, [r["reward"] for r in rows], marker="o", label=name)
        for ax, title in zip(axes, ("rollout success", "rollout reward (score / 100)")):
            ax.set_title(title)
            ax.set_xlabel("iteration")
            ax.legend()
        fig.tight_layout()
        fig.savefig(out / "curves.png", dpi=100)
        print(f"curves: {out / 'curves.png'}")
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
    print(f"runtime {summary['runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
