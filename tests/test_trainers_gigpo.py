"""trainers.gigpo: steps carry the anchor of the state they were taken in; a short run works
end to end from the command line, with checkpoints and metrics (learning checks: issue 6)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from keydoor_training import HISTORY, keydoor_run, weak  # noqa: E402,F401
from trainers import gigpo  # noqa: E402
from trainers.core.rollout import Episode, RolloutStep  # noqa: E402


def _step(anchor, reward=0.0, invalid=False, parse_error=False, page="p"):
    return RolloutStep(messages=[], response="", prompt_ids=[], response_ids=[1], response_logprobs=[0.0],
                       action="a", thought=None, parse_error=parse_error, observation="", reward=reward,
                       terminated=False, truncated=False, info={"anchor": anchor, "invalid_action": invalid,
                                                                  "page": page})


def test_step_records_use_the_state_before_each_action():
    ep = Episode(task_id=0, instruction="", observation="", initial_info={"anchor": "s0", "page": "hall"},
                 steps=[_step("s1", page="room"), _step("s1", invalid=True, page="room"), _step("s2", reward=1.0)])
    records = gigpo.step_records(ep)
    assert [r.anchor for r in records] == ["s0", "s1", "s1"]
    assert [r.page for r in records] == ["hall", "room", "room"]
    assert [r.invalid for r in records] == [False, True, False] and records[-1].reward == 1.0
    # a reply with no action counts as invalid
    assert gigpo.step_records(Episode(0, "", "", steps=[_step("x", parse_error=True)]))[0].invalid


def test_a_short_run_from_the_command_line(weak, tmp_path):
    out = tmp_path / "run"
    assert gigpo.main(["--model", str(weak[0]), "--env", "agent_gym/KeyDoor-v0", "--output", str(out),
                       "--iterations", "1", "--tasks-per-iteration", "1", "--group-size", "2", "--history",
                       str(HISTORY), "--max-new-tokens", "32", "--lr", "1e-3", "--micro-batch", "8", "--device", "cpu",
                       "--no-progress"]) == 0
    result = json.loads((out / "final_metrics.json").read_text())
    assert result["iterations"] == 1 and result["last"]["samples"] > 0
    assert (out / "checkpoints" / "step-00000001" / "optimizer.pt").is_file()
    assert (out / "final" / "model.safetensors").is_file()


def test_reply_token_stats_equal_per_sequence_logprobs(keydoor_run):
    """The update scores replies from a left-padded batch keeping only the tail's logits; each
    reply token's log-prob must equal the one of that sequence scored alone."""
    import contextlib

    import torch
    import transformers

    from trainers.core.logprobs import collate, masked_logprobs
    from trainers.core.online import right_align, reply_values, token_stats

    model = transformers.AutoModelForCausalLM.from_pretrained(keydoor_run["tiny"]).eval()
    samples = [{"input_ids": list(range(5, 5 + p + r)), "labels_mask": [0] * p + [1] * r}
               for p, r in ((12, 3), (4, 7), (20, 1))]
    with torch.no_grad():
        logp, _, mask = token_stats(model, samples, 0, contextlib.nullcontext())
        assert mask.shape == (3, 7) and mask.sum(-1).tolist() == [3, 7, 1]
        for s, row, m in zip(samples, logp, mask):
            b = collate([s], 0)
            alone, _ = masked_logprobs(model, b["input_ids"], b["attention_mask"], b["labels_mask"])
            expected = alone[0][b["labels_mask"][0, 1:].bool()]
            assert torch.allclose(reply_values(row, m), expected, atol=1e-5)
        rows = [reply_values(r, m) for r, m in zip(logp, mask)]
        assert torch.allclose(right_align(rows, 7), logp, atol=0)
