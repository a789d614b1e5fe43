"""LoRA learns what full fine-tuning learns, with the learning checks' thresholds: SFT on
KeyDoor (>= 90% success), DPO on KeyDoor pairs (the margin rises above 0.05), GiGPO on
Crossroads (>= 80% greedy success), each with a LoRA adapter (r 16, all linear layers) on the
frozen base, and the reference of DPO and GiGPO is the base with the adapter switched off: the
model is read from disk once per run (``trainers.core.policy.LOADS``), never a second copy.

Slow: ``make test-slow``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from crossroads_training import RL, crossroads_start  # noqa: E402,F401
from crossroads_training import success as crossroads_success  # noqa: E402
from keydoor_training import COMMON, HISTORY, demos, keydoor_run, success, weak  # noqa: E402,F401
from trainers import dpo, gigpo, sft  # noqa: E402
from trainers.core import policy as policy_mod  # noqa: E402
from trainers.core.policy import is_adapter  # noqa: E402

pytestmark = pytest.mark.slow
LORA = dict(lora_r=16, lora_alpha=32)


def loads_during(fn):
    before = policy_mod.LOADS["count"]
    result = fn()
    return result, policy_mod.LOADS["count"] - before


@pytest.mark.long(seconds=45)
def test_lora_sft_reaches_90_percent(weak, demos, tmp_path):
    start, start_rate = weak
    result, loads = loads_during(lambda: sft.train(sft.SFTConfig(
        model=str(start), data=str(demos), output_dir=str(tmp_path), epochs=12, lr=1e-2, batch_size=16, grad_accum=1,
        save_every=0, log_every=100, merge_lora=True, **LORA, **COMMON)))
    assert is_adapter(result["final_dir"]) and loads == 1
    rate = success(Path(result["final_dir"]) / "merged")
    print(f"LoRA SFT from the weak start ({start_rate:.1%} on train): success {rate:.1%}")
    assert rate >= 0.9


def test_lora_dpo_raises_the_margin_with_the_adapter_off_as_reference(weak, demos, tmp_path):
    from agent_gym.core.trajectory import write_trajectories
    from trainers.core.policy import Policy
    from trainers.core.rollout import collect, episode_to_trajectory

    start, _ = weak
    episodes = collect(Policy.load(start, device="cpu"), "agent_gym/KeyDoor-v0", list(range(16)), k=1,
                       temperature=1.0, max_new_tokens=32, history=HISTORY, seed=0)
    rejected = tmp_path / "policy.jsonl"
    write_trajectories(rejected, [episode_to_trajectory(e, env_id="agent_gym/KeyDoor-v0", split="train")
                                  for e in episodes])
    result, loads = loads_during(lambda: dpo.train(dpo.DPOConfig(
        model=str(start), chosen=str(demos), rejected=str(rejected), history=HISTORY, lr=1e-2, batch_size=8,
        grad_accum=1, epochs=1, device="cpu", progress=False, save_every=0, output_dir=str(tmp_path / "dpo"),
        **LORA)))
    print(f"LoRA DPO: {result['pairs']} pairs, margin 0 -> {result['end_margin']:.3f}")
    assert loads == 1 and result["pairs"] > 0 and result["end_margin"] > 0.05


@pytest.mark.long(seconds=21)
def test_lora_gigpo_learns_with_the_adapter_off_as_reference(crossroads_start, tmp_path):
    config = gigpo.GiGPOConfig(model=crossroads_start["start"], output_dir=str(tmp_path), omega=1.0, lr=1e-2,
                               iterations=30, tasks_per_iteration=8, group_size=8, target_success=0.9,
                               **{**RL, "kl_coef": 0.01}, **LORA, merge_lora=True)
    result, loads = loads_during(lambda: gigpo.train(config))
    curve = [json.loads(line)["success"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    final = crossroads_success(Path(result["final_dir"]) / "merged")
    print(f"LoRA GiGPO: {result['iterations']} iterations, rollout success {curve[0]:.3f} -> {curve[-1]:.3f}, "
          f"greedy {final:.3f}")
    assert loads == 1  # the KL reference is the adapter switched off, not a second copy
    assert result["reached_target"] and final >= 0.8
