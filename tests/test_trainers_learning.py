"""Learning, not just running: every trainer on KeyDoor-v0 with a tiny model on CPU.

SFT on the expert's demonstrations must reach >= 90% success; RFT and NAT, started from a
briefly trained (weak) SFT model, must improve its success (DPO, ETO and SPIN:
``test_trainers_preference.py``). These are the checks that catch sign, masking and data-format
errors: a DPO with the sign flipped lowers the margin; a mask that scores the prompt, or
prompts built differently from the rollouts', leaves SFT far below 90%.

The tiny model: a random 2-layer Qwen2 (hidden 64) and a BPE tokenizer trained on the task's
prompts, both built here; nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from keydoor_training import COMMON, HISTORY, demos, keydoor_run, same_weights, success, weak  # noqa: E402,F401
from trainers import nat, rft  # noqa: E402

def test_sft_on_expert_demos_reaches_90_percent(keydoor_run):
    result = keydoor_run["sft"]
    rate = success(result["final_dir"])  # all 48 tasks, 12 of them never trained on
    print(f"SFT: success {rate:.1%} after {result['step']} steps, loss {result['epoch_loss']:.4f}")
    assert rate >= 0.9


def test_weak_start_leaves_room_to_improve(weak):
    _, start = weak
    print(f"weak SFT start: success {start:.1%} on the training tasks")
    assert 0.05 <= start <= 0.85


@pytest.mark.long(seconds=30)
def test_rft_improves_success(weak, demos, tmp_path):
    start_dir, start = weak
    result = rft.train(rft.RFTConfig(model=str(start_dir), demos=str(demos), output_dir=str(tmp_path / "rft"), k=4,
                                     temperature=0.7, epochs=2, lr=5e-3, batch_size=16,
                                     grad_accum=1, max_new_tokens=32, **COMMON))
    it = result["iterations"][0]
    after = success(result["final_dir"], "train")
    print(f"RFT: success {start:.1%} -> {after:.1%}; kept {it['kept']} trajectories on {it['tasks_solved']} tasks")
    assert it["kept"] > 0 and after > start


@pytest.mark.long(seconds=30)
def test_nat_improves_success(weak, demos, tmp_path):
    start_dir, start = weak
    config = nat.NATConfig(model=str(start_dir), demos=str(demos), output_dir=str(tmp_path / "nat"), k=1,
                           temperature=0.7, max_negative_ratio=0.25, epochs=3, lr=1e-2, batch_size=16, grad_accum=1, max_new_tokens=32, **COMMON)
    result = nat.train(config)
    assert result["negative"] > 0 and result["positive"] > 0
    saved = json.loads(Path(result["final_dir"], "nat.json").read_text())["mark"]
    assert saved == config.positive_mark
    after = success(result["final_dir"], "train", mark=saved)
    print(f"NAT: success {start:.1%} -> {after:.1%} ({result['positive']} successes, {result['negative']} failures)")
    assert after > start


@pytest.mark.long(seconds=11)
def test_rft_and_nat_from_the_command_line_resume(weak, demos, tmp_path):
    start_dir, _ = weak
    common = ["--model", str(start_dir), "--demos", str(demos), "--max-tasks", "4", "--k", "2", "--epochs", "1",
              "--lr", "1e-3", "--batch-size", "8", "--grad-accum", "1", "--max-new-tokens", "32", "--history",
              str(HISTORY), "--device", "cpu", "--no-progress"]
    # RFT: one iteration, then the run extended to two with --resume == two iterations at once
    assert rft.main([*common, "--iterations", "2", "--output", str(tmp_path / "rft-full")]) == 0
    assert rft.main([*common, "--iterations", "1", "--output", str(tmp_path / "rft-part")]) == 0
    assert rft.main([*common, "--iterations", "2", "--output", str(tmp_path / "rft-part"), "--resume"]) == 0
    assert same_weights(tmp_path / "rft-full" / "iter-1" / "sft" / "final", tmp_path / "rft-part" / "iter-1" / "sft" / "final")
    # NAT: a resumed run reuses the sampled data instead of sampling again
    assert nat.main([*common, "--output", str(tmp_path / "nat")]) == 0
    data = tmp_path / "nat" / "samples.jsonl"
    stamp = data.stat().st_mtime_ns
    assert nat.main([*common, "--output", str(tmp_path / "nat"), "--resume"]) == 0
    assert data.stat().st_mtime_ns == stamp
    marks = [json.loads(line)["prompt"][-1]["content"] for line in data.open()]
    assert any(m.endswith(nat.POSITIVE) for m in marks) and all(m.endswith((nat.POSITIVE, nat.NEGATIVE)) for m in marks)
