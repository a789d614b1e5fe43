"""Is the environment ever the bottleneck of online RL rollouts? WebShop under a GiGPO iteration.

    python bench/rl_rollout_envs.py                        # CPU-sized run (about 3-5 minutes on 2 cores)
    python bench/rl_rollout_envs.py --device cuda          # the paper's 16 tasks x 8 copies, full episodes
    python bench/rl_rollout_envs.py --model DIR --json out.json

Claims, with ``EnvGroup.make("agent_gym/WebShop-v0", 128, split="train")`` (128 envs in one
process sharing one catalog and one Lucene searcher):

1. **time**: env calls (``reset`` + ``step`` of the group, timed by a proxy around it) take
   <= 5% of a rollout iteration, i.e. what ``trainers.gigpo`` does per iteration: ``rollout``
   of N tasks x G copies with a small LLM agent, then ``GiGPOTrainer``'s ``score`` and
   ``update`` (GiGPO advantages, one PPO epoch: forward + backward over the iteration's step
   samples; no KL reference model, which would only lengthen the iteration).
2. **memory**: the RSS of a process holding 128 envs is within 1.5x that of a process holding
   one env, both after the same replayed workload (the JVM runs in-process through pyjnius, so
   the process RSS includes it; child processes are added in).

The env share is reported twice:

- *measured*: env seconds / iteration seconds in a real model rollout. The model is a 135M
  SmolLM2 (``--model auto``: the SFT checkpoint of ``bench/smollm2_webshop.py`` when it exists,
  which emits mostly valid actions, else SmolLM2-135M's architecture with random weights:
  ``--model random``). On CPU the default rollout is 1 task x 8 copies for 1 step (the search
  step: the shortest prompts and the env's most expensive action, so the least favourable step
  for the claim); 16 x 8 envs do not fit a few CPU minutes. With ``--device cuda`` the default
  is 16 tasks x 8 copies played to the end.
- *computed*: a model's actions decide how much work the env does (an invalid action is
  nearly free), so the env is also timed on a realistic action mix: 128 envs replaying the
  shipped oracle demonstrations (``data/webshop_demos``: search, results, item, options, buy)
  at once, with a cold search cache and product cache. The share is then
  ``env ms per step / (env ms per step + policy ms per env-step)``, the policy time
  (generation + update, per env-step) coming from the model rollout. The policy time needed
  for the 5% target (19x the env's) is printed too, to judge faster generation backends.

The model-free measurements run in fresh subprocesses so that the model's memory does not
pollute them. Timings on a shared 2-core machine are noisy; the script always exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

ENV_ID = "agent_gym/WebShop-v0"
DEMOS = ROOT / "data" / "webshop_demos" / "trajectories.jsonl"
SFT_CHECKPOINTS = (ROOT / "runs" / "smollm2" / "sft" / "final", ROOT.parent / "runs" / "smollm2-cpu" / "sft" / "final")
# SmolLM2-135M (HuggingFaceTB/SmolLM2-135M config.json)
SMOLLM2_135M = {"hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
                "num_key_value_heads": 3, "head_dim": 64, "vocab_size": 49152, "max_position_embeddings": 8192,
                "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": True}
SHARE_TARGET = 0.05
MEMORY_TARGET = 1.5


class TimedGroup:
    """An ``EnvGroup`` that adds up the seconds spent in its ``reset`` and ``step`` calls."""

    def __init__(self, group):
        self.group = group
        self.clear()

    def clear(self) -> None:
        self.reset_s = self.step_s = 0.0
        self.resets = self.env_steps = 0

    @property
    def env_s(self) -> float:
        return self.reset_s + self.step_s

    def __getattr__(self, name):  # envs, done, task_ids, all_done, close
        return getattr(self.group, name)

    def __len__(self) -> int:
        return len(self.group)

    def reset(self, task_ids, group_size: int = 1, seed: int | None = None):
        start = time.perf_counter()
        out = self.group.reset(task_ids, group_size=group_size, seed=seed)
        self.reset_s += time.perf_counter() - start
        self.resets += len(self.group)
        return out

    def step(self, actions):
        active = self.group.done.count(False)
        start = time.perf_counter()
        out = self.group.step(actions)
        self.step_s += time.perf_counter() - start
        self.env_steps += active
        return out


def rss_mb() -> float:
    """Resident memory of this process and its children, in MiB."""
    import psutil

    proc = psutil.Process()
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a child that exited meanwhile
            total += child.memory_info().rss
    return total / 2**20


def load_demos(path: str | os.PathLike = DEMOS) -> list:
    from agent_gym.core.trajectory import read_trajectories

    return list(read_trajectories(path))


def warm_up(group, demo=None, queries: int = 20) -> None:
    """One-time costs off the clock: the JVM's first searches (JIT) and, with ``demo``, one
    episode played to its purchase on ``group.envs[0]``. The search cache is cleared after."""
    env = group.envs[0].unwrapped
    engine = env.catalog.search_engine()
    for j in range(queries):
        engine.search(f"warm up query {j} red cotton shirt under {10 + j} dollars", k=50)
    if demo is not None:
        env.reset(options={"task_id": demo.task_id})
        for step in demo.steps:
            env.step(step.action)
    engine.clear_cache()  # (the group's next reset also resets envs[0])


def replay(group: TimedGroup, demos: list, group_size: int = 1) -> dict:
    """Env ``i`` replays the actions of ``demos[i // group_size]`` (in chunks of
    ``len(group)`` envs); returns the won fraction, episodes and env-steps."""
    n = len(group)
    if n < group_size:  # fewer envs than copies: play the copies one after the other
        demos, group_size = [d for d in demos for _ in range(group_size)], 1
    per_chunk = n // group_size
    if n % group_size or len(demos) % per_chunk:
        raise ValueError(f"{len(demos)} demos x {group_size} copies do not fill chunks of {n} envs")
    won = episodes = 0
    steps_before = group.env_steps
    for lo in range(0, len(demos), per_chunk):
        chunk = demos[lo:lo + per_chunk]
        group.reset([d.task_id for d in chunk], group_size=group_size)
        plans = [chunk[i // group_size].steps for i in range(n)]
        t = 0
        while not group.all_done and t < max(len(p) for p in plans):
            # a replay that diverged (it should not) sends "" past its end: an invalid, cheap action
            _, _, terms, truncs, infos = group.step([p[t].action if t < len(p) else "" for p in plans])
            won += sum(bool(infos[i].get("won")) for i in range(n) if terms[i] or truncs[i])
            t += 1
        episodes += n
    return {"won": won / max(1, episodes), "episodes": episodes, "env_steps": group.env_steps - steps_before}


def measure_envs(n_envs: int, n_demos: int | None = None, grouped: int = 16, group_size: int = 8) -> dict:
    """The realistic action mix on ``n_envs`` envs of one ``EnvGroup``: the first ``n_demos``
    (default ``n_envs``) oracle demonstrations, one per env (distinct tasks: no search-cache
    hits between envs), then ``grouped`` further demos x ``group_size`` copies (the GRPO
    layout, whose copies share search results). Returns env ms per step and RSS (MiB) after.
    Same workload for any ``n_envs``: one env plays the episodes one after the other."""
    import agent_gym  # noqa: F401
    from agent_gym.core.groups import EnvGroup

    demos = load_demos()
    n_demos = n_envs if n_demos is None else n_demos
    distinct = demos[:n_demos]
    grouped_demos = demos[n_demos:n_demos + grouped]
    if len(distinct) < n_demos:
        raise ValueError(f"only {len(demos)} demonstrations")
    rss_start = rss_mb()
    start = time.perf_counter()
    group = TimedGroup(EnvGroup.make(ENV_ID, n_envs, split="train"))
    make_s = time.perf_counter() - start
    try:
        warm_up(group, demos[-1])
        rss_made = rss_mb()
        out = {"n_envs": n_envs, "make_s": make_s, "rss_start_mb": rss_start, "rss_made_mb": rss_made}
        group.clear()
        res = replay(group, distinct)
        out.update(mix_won=res["won"], mix_episodes=res["episodes"], mix_env_steps=res["env_steps"],
                   mix_reset_ms=1000 * group.reset_s / max(1, group.resets),
                   mix_step_ms=1000 * group.step_s / max(1, group.env_steps),
                   mix_env_ms_per_step=1000 * group.env_s / max(1, group.env_steps),
                   mix_env_s=group.env_s)
        if grouped_demos and (n_envs % group_size == 0 or n_envs < group_size) \
                and (len(grouped_demos) * group_size) % n_envs == 0:
            group.clear()
            res = replay(group, grouped_demos, group_size)
            out.update(grouped_won=res["won"], grouped_env_steps=res["env_steps"],
                       grouped_env_ms_per_step=1000 * group.env_s / max(1, group.env_steps))
        out["rss_mb"] = rss_mb()
        return out
    finally:
        group.close()


def env_figures(n_envs: int, n_demos: int | None = None, grouped: int = 16) -> dict:
    """``measure_envs`` in a fresh process (so nothing else is in its memory)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-envs", str(n_envs), "--child-grouped", str(grouped)]
    if n_demos is not None:
        cmd += ["--child-demos", str(n_demos)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        raise RuntimeError(f"measuring {n_envs} envs failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def smollm2_random_policy(device, **overrides):
    """SmolLM2-135M's architecture with random weights (nothing downloaded); the tokenizer is a
    byte-level BPE trained offline on the WebShop demonstrations (``trainers.core.tiny``)."""
    import tempfile

    import torch
    import transformers

    from trainers.core.policy import Policy
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            build_tiny_model_and_tokenizer(tmp, vocab_size=8192, hidden=16, layers=1))
    config = transformers.LlamaConfig(**{**SMOLLM2_135M, **overrides}, bos_token_id=None,
                                      eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(0)
        model = transformers.LlamaForCausalLM(config)
    finally:
        torch.random.set_rng_state(state)
    return Policy(model, tokenizer, device=device)


def load_policy(model: str, device):
    """``(policy, description)`` for ``auto`` / ``random`` / a checkpoint folder."""
    from trainers.core.policy import Policy

    if model == "auto":
        model = next((str(p) for p in SFT_CHECKPOINTS if (p / "config.json").is_file()), "random")
    if model == "random":
        policy = smollm2_random_policy(device)
        desc = "SmolLM2-135M architecture, random weights"
    else:
        policy = Policy.load(model, dtype="float32", device=device)
        desc = model
    n_params = sum(p.numel() for p in policy.model.parameters())
    return policy, f"{desc} ({n_params / 1e6:.0f}M params)"


def action_kind(step) -> str:
    if step.parse_error:
        return "no action"
    if step.info.get("invalid_action"):
        return "invalid"
    return step.action.split("[", 1)[0] or "other"


def model_iteration(policy, tasks: int, group_size: int, steps: int | None, max_new_tokens: int, seed: int = 0,
                    dtype: str = "float32", env_kwargs: dict | None = None) -> dict:
    """One GiGPO iteration (rollout of ``tasks`` x ``group_size`` envs, advantages, one PPO
    epoch) with the env calls timed; ``steps`` caps the rollout (None: until every env is done)."""
    import torch

    import agent_gym  # noqa: F401
    from agent_gym.core.groups import EnvGroup
    from trainers.core.generation import HFGenerator
    from trainers.core.optim import autocast, make_optimizer
    from trainers.core.rollout import rollout
    from trainers.gigpo import GiGPOConfig, GiGPOTrainer

    config = GiGPOConfig(model="(in memory)", tasks_per_iteration=tasks, group_size=group_size, kl_coef=0.0,
                         max_new_tokens=max_new_tokens, dtype=dtype, seed=seed)
    # the trainer's own scoring and PPO update, on the policy in memory (what GiGPOTrainer.setup loads)
    trainer = GiGPOTrainer(config)
    device = policy.device
    trainer.model, trainer.ref, trainer.policy = policy.model, None, policy
    trainer.ctx, trainer.pad_id = autocast(device, dtype), policy.tokenizer.pad_token_id
    trainer.optimizer = make_optimizer(policy.model, config.lr)
    group = TimedGroup(EnvGroup.make(ENV_ID, tasks * group_size, **{"split": "train", **(env_kwargs or {})}))
    try:
        warm_up(group, load_demos()[-1])
        HFGenerator(policy, max_new_tokens=2, seed=None).generate([[{"role": "user", "content": "warm up"}]])
        task_ids = trainer.draw_tasks(0, group.envs[0].unwrapped.num_tasks)
        generator = HFGenerator(policy, max_new_tokens=max_new_tokens, temperature=config.temperature, seed=seed)

        def sync():
            if device.type == "cuda":
                torch.cuda.synchronize()

        group.clear()
        sync()
        t0 = time.perf_counter()
        policy.model.eval()
        episodes = rollout(group, generator, task_ids, group_size=group_size, fmt=config.fmt,
                           history=config.history, max_steps=steps, seed=seed)
        sync()
        t1 = time.perf_counter()
        samples, _ = trainer.score(episodes, 0)
        trainer.update(samples, random.Random(seed))
        sync()
        t2 = time.perf_counter()
    finally:
        group.close()
    all_steps = [s for e in episodes for s in e.steps]
    kinds: dict[str, int] = {}
    for s in all_steps:
        kinds[action_kind(s)] = kinds.get(action_kind(s), 0) + 1
    rollout_s, update_s, iteration_s = t1 - t0, t2 - t1, t2 - t0
    env_steps = max(1, group.env_steps)
    return {
        "envs": tasks * group_size, "tasks": tasks, "group_size": group_size, "max_steps": steps,
        "max_new_tokens": max_new_tokens, "device": str(device), "env_steps": group.env_steps,
        "rollout_s": rollout_s, "update_s": update_s, "iteration_s": iteration_s,
        "env_s": group.env_s, "env_reset_s": group.reset_s, "env_step_s": group.step_s,
        "generation_s": rollout_s - group.env_s,
        "env_ms_per_step": 1000 * group.env_s / env_steps,
        "policy_ms_per_step": 1000 * (iteration_s - group.env_s) / env_steps,
        "env_share": group.env_s / iteration_s,
        "prompt_tokens": sum(len(s.prompt_ids) for s in all_steps) / max(1, len(all_steps)),
        "response_tokens": sum(len(s.response_ids) for s in all_steps) / max(1, len(all_steps)),
        "actions": kinds, "samples": len(samples),
        "success": sum(e.won for e in episodes) / len(episodes),
    }


def summarize(run: dict, one: dict, many: dict) -> dict:
    """The figures of the table: the env shares and the memory ratio, with their targets."""
    mix_ms = many["mix_env_ms_per_step"]
    policy_ms = run["policy_ms_per_step"]
    computed = mix_ms / (mix_ms + policy_ms)
    ratio = many["rss_mb"] / one["rss_mb"]
    return {"env_share_measured": run["env_share"], "env_share_computed": computed,
            "policy_ms_needed_for_target": mix_ms * (1 - SHARE_TARGET) / SHARE_TARGET,
            "rss_ratio": ratio, "ok_measured": run["env_share"] <= SHARE_TARGET,
            "ok_computed": computed <= SHARE_TARGET, "ok_memory": ratio <= MEMORY_TARGET}


def table(run: dict, one: dict, many: dict, summary: dict, model_desc: str) -> str:
    n = many["n_envs"]
    target = f"<= {SHARE_TARGET:.0%}"
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(run["actions"].items()))
    steps = "to the end" if run["max_steps"] is None else f"<= {run['max_steps']} step(s)"
    rollout = (f"{run['tasks']} x {run['group_size']} copies = {run['envs']} envs, {steps}, {run['env_steps']} "
               f"env-steps, <= {run['max_new_tokens']} new tokens, {run['device']}")
    replies = f"{run['prompt_tokens']:.0f} prompt / {run['response_tokens']:.0f} reply tokens; actions: {kinds}"
    iteration = f"{run['iteration_s']:.1f} = {run['rollout_s']:.1f} + {run['update_s']:.1f}"
    split = (f"{run['generation_s']:.1f} / {run['env_s']:.3f} "
             f"({run['env_reset_s']:.3f} + {run['env_step_s']:.3f})")
    mix = (f"{many['mix_env_ms_per_step']:.2f} incl. resets (reset {many['mix_reset_ms']:.2f}/episode, step "
           f"{many['mix_step_ms']:.2f}; {many['mix_env_steps']} steps, won {many['mix_won']:.0%})")
    policy = (f"{run['policy_ms_per_step']:.0f} "
              f"(5% needs >= {summary['policy_ms_needed_for_target']:.0f})")
    rows = [
        ("model", model_desc, "", ""),
        ("model rollout (tasks x copies)", rollout, "", ""),
        ("model replies", replies, "", ""),
        ("iteration s (rollout + update)", iteration, "", ""),
        ("  generation s / env s (reset + step)", split, "", ""),
        ("env share of iteration, measured", f"{summary['env_share_measured']:.2%}", target,
         _ok(summary["ok_measured"])),
        (f"env ms/step, demo mix, {n} envs", mix, "", ""),
        ("env ms/step, demo mix, 1 env", f"{one['mix_env_ms_per_step']:.2f}", "", ""),
    ]
    if "grouped_env_ms_per_step" in many:
        grouped = f"{many['grouped_env_ms_per_step']:.2f} (won {many['grouped_won']:.0%})"
        rows.append((f"env ms/step, 16 demos x 8 copies, {n} envs", grouped, "", ""))
    rows += [
        ("policy ms per env-step (generation + update)", policy, "", ""),
        ("env share, computed (demo mix vs policy)", f"{summary['env_share_computed']:.2%}", target,
         _ok(summary["ok_computed"])),
        ("RSS MiB, 1 env", f"{one['rss_mb']:.0f}", "", ""),
        (f"RSS MiB, {n} envs", f"{many['rss_mb']:.0f} (after make: {many['rss_made_mb']:.0f})", "", ""),
        (f"RSS ratio {n} envs / 1 env", f"{summary['rss_ratio']:.3f}", f"<= {MEMORY_TARGET}",
         _ok(summary["ok_memory"])),
    ]
    lines = ["| setting | value | target | ok |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def _ok(flag: bool) -> str:
    return "yes" if flag else "NO"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envs", type=int, default=128, help="concurrent envs of the model-free measurements")
    ap.add_argument("--demos", type=int, default=None, help="demonstrations replayed, one per env (default: --envs)")
    ap.add_argument("--model", default="auto", help="auto (the SmolLM2 SFT checkpoint if present, else random), "
                                                    "random (SmolLM2-135M architecture), or a checkpoint folder")
    ap.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda")
    ap.add_argument("--tasks", type=int, default=None, help="tasks of the model rollout (cpu 1, cuda 16)")
    ap.add_argument("--group", type=int, default=8, help="copies per task (GiGPO: 8)")
    ap.add_argument("--steps", type=int, default=None, help="rollout step cap, 0: until done (cpu 1, cuda 0)")
    ap.add_argument("--max-new-tokens", type=int, default=96,
                    help="reply length cap (the demos' replies are <= 90 SmolLM2 tokens; shorter caps cut the "
                         "search actions, which the env then refuses cheaply)")
    ap.add_argument("--dtype", default="float32", help="update precision: float32 or bfloat16 autocast")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--child-envs", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-demos", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--child-grouped", type=int, default=16, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_envs:
        print("RESULT " + json.dumps(measure_envs(args.child_envs, args.child_demos, args.child_grouped)), flush=True)
        return 0

    started = time.perf_counter()
    print(f"[1/3] env, demo mix: 1 env, then {args.envs} envs (fresh processes) ...", file=sys.stderr, flush=True)
    one = env_figures(1, args.demos or args.envs)
    many = env_figures(args.envs, args.demos)

    import torch

    from trainers.core.optim import resolve_device

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    tasks = args.tasks or (16 if cuda else 1)
    steps = args.steps if args.steps is not None else (0 if cuda else 1)
    torch.manual_seed(args.seed)
    print(f"[2/3] loading the model ({args.model}) ...", file=sys.stderr, flush=True)
    policy, model_desc = load_policy(args.model, device)
    print(f"[3/3] one GiGPO iteration: {tasks} x {args.group} envs, steps {steps or 'until done'} ...",
          file=sys.stderr, flush=True)
    run = model_iteration(policy, tasks, args.group, steps or None, args.max_new_tokens, seed=args.seed,
                          dtype=args.dtype)
    summary = summarize(run, one, many)
    print(table(run, one, many, summary, model_desc))
    runtime = time.perf_counter() - started
    verdict = [f"env share measured {_ok(summary['ok_measured'])}", f"env share computed {_ok(summary['ok_computed'])}",
               f"memory {_ok(summary['ok_memory'])}"]
    print(f"\ntargets: {'; '.join(verdict)}  (runtime {runtime:.0f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": model_desc, "rollout": run, "env_1": one,
                                               f"env_{args.envs}": many, "summary": summary,
                                               "runtime_s": runtime}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
