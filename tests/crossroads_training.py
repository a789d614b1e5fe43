"""What the online-RL learning tests share: a near-chance start on Crossroads-v0.

A tiny Qwen2 (hidden 64, 2 layers) with a tokenizer trained on the task's prompts, fine-tuned
for 2 epochs on the *random* agent's trajectories (action-only replies): it replies with valid
actions but ignores the cue, so it wins near chance (1/16 at depth 4). Built once per test
session, also across pytest-xdist workers (``keydoor_training.once``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keydoor_training import once

ENV = "agent_gym/Crossroads-v0"
HISTORY = 0
RL = dict(env=ENV, history=HISTORY, max_new_tokens=12, kl_coef=0.0, micro_batch=64, mini_batch=128, device="cpu",
          progress=False, save_every=0, keep_last=1, recompute_old_logprobs=False)


def success(model_dir, sample: bool = False) -> float:
    from trainers.core.generation import HFGenerator
    from trainers.core.policy import Policy
    from trainers.core.rollout import evaluate_policy

    gen = HFGenerator(Policy.load(model_dir, device="cpu"), max_new_tokens=12, do_sample=sample, seed=0)
    return evaluate_policy(gen, ENV, split="test", history=HISTORY)["success"]


def _build(folder: Path) -> dict:
    from agent_gym.core.trajectory import read_trajectories, write_trajectories
    from agent_gym.eval.runner import EvalConfig, evaluate
    from trainers import sft
    from trainers.core.data import flatten, trajectory_to_samples
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    records = []
    for seed in range(2):
        evaluate(EvalConfig(env_id=ENV, agent="random", split="train", seed=seed, output=str(folder / f"random-{seed}"),
                            progress=False))
        records += list(read_trajectories(folder / f"random-{seed}" / "trajectories.jsonl"))
    write_trajectories(folder / "random.jsonl", records)
    evaluate(EvalConfig(env_id=ENV, agent="expert", split="train", output=str(folder / "expert"), progress=False))
    expert = list(read_trajectories(folder / "expert" / "trajectories.jsonl"))
    texts = ["system", "user", "assistant"]
    for t in flatten(trajectory_to_samples(r, history=HISTORY) for r in records + expert):
        texts += [m["content"] for m in t.messages] + [t.response]
    tiny = build_tiny_model_and_tokenizer(folder / "tiny", texts=texts, vocab_size=1000, hidden=64, layers=2)
    result = sft.train(sft.SFTConfig(model=str(tiny), data=str(folder / "random.jsonl"), output_dir=str(folder / "sft"),
                                     epochs=2, lr=1e-2, batch_size=16, grad_accum=1, log_every=100, device="cpu",
                                     progress=False, history=HISTORY, only_won=False, thoughts=False))
    start = result["final_dir"]
    return {"start": start, "demos": str(folder / "expert" / "trajectories.jsonl"),
            "random_success": sum(r.won for r in records) / len(records),
            "start_greedy": success(start), "start_sampled": success(start, sample=True)}


@pytest.fixture(scope="session")
def crossroads_start(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return once(tmp_path_factory, "crossroads-start", _build)
