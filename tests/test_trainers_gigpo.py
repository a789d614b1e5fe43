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


def test_step_records_carry_the_observation_before_each_step_and_the_win_reward():
    ep = Episode(task_id=0, instruction="", observation="first page", initial_info={"anchor": "s0"},
                 steps=[_step("s1", reward=0.0), _step("s2", reward=0.6)], won=False)
    ep.steps[0].observation, ep.steps[1].observation = "second page", "done"
    assert [r.observation for r in gigpo.step_records(ep)] == ["first page", "second page"]
    assert [r.reward for r in gigpo.step_records(ep)] == [0.0, 0.6]
    # verl-agent's WebShop reward: 10 for a win, 0 otherwise (a partial score counts nothing)
    assert [r.reward for r in gigpo.step_records(ep, win_reward=10.0)] == [0.0, 0.0]
    ep.won = True
    assert [r.reward for r in gigpo.step_records(ep, win_reward=10.0)] == [0.0, 10.0]


def _scored(**overrides):
    """Two episodes of one task from s0 through s1; the second wins (env reward 1), the first
    buys for 0.5. Mean-only advantages, gamma 0.95, episode statistics over the 4 samples."""
    e1 = Episode(0, "", "", initial_info={"anchor": "s0"}, steps=[_step("s1"), _step("s2", reward=0.5)])
    e2 = Episode(0, "", "", initial_info={"anchor": "s0"}, steps=[_step("s1"), _step("s3", reward=1.0)], won=True)
    config = gigpo.GiGPOConfig(model="unused", group_size=2, use_std=False, **overrides)
    samples, stats = gigpo.GiGPOTrainer(config).score([e1, e2], 0)
    return [s["advantage"] for s in samples], stats


def test_score_by_hand_with_env_rewards_and_with_the_win_reward():
    # env rewards: scores {0.5, 0.5, 1, 1}, mean 0.75 -> A^E -0.25 / +0.25; step returns
    # e1 [0.475, 0.5], e2 [0.95, 1]: s0 {0.475, 0.95} -> -+0.2375, s1 {0.5, 1} -> -+0.25
    adv, stats = _scored()
    assert adv == pytest.approx([-0.4875, -0.5, 0.4875, 0.5])
    assert stats["anchor_groups"] == 2 and stats["anchor_group_size"] == 2
    # win reward 10: e1 [0, 0], e2 [0, 10]: A^E -+5; returns e1 [0, 0], e2 [9.5, 10]
    adv, _ = _scored(win_reward=10.0)
    assert adv == pytest.approx([-9.75, -10.0, 9.75, 10.0])
    with pytest.raises(ValueError, match="group_by"):
        _scored(group_by="text")
    with pytest.raises(ValueError, match="penalty_on"):
        _scored(penalty_on="episode")


def test_the_verl_agent_webshop_preset(monkeypatch, capsys):
    """The settings of verl-agent's examples/gigpo_trainer/run_webshop.sh and the defaults it
    keeps (verl/trainer/config/ppo_trainer.yaml, the WebShop env package), written out by hand."""
    seen = {}
    monkeypatch.setattr(gigpo, "train", lambda config: seen.setdefault("config", config) and {})
    assert gigpo.main(["--preset", "verl-agent-webshop", "--model", "m", "--lr", "2e-6"]) == 0
    c = seen["config"]
    assert json.loads(c.env_kwargs) == {"goals": "synthetic", "max_steps": 15}  # human_goals False, env.max_steps
    assert (c.tasks_per_iteration, c.group_size, c.iterations) == (16, 8, 150)  # train_data_size, rollout.n, epochs
    assert c.use_std is False and c.episode_stats == "step"                     # mode=mean_norm, cross steps
    assert (c.omega, c.gamma, c.group_by) == (1.0, 0.95, "anchor")              # step_advantage_w, gamma, no similarity
    assert (c.invalid_penalty, c.penalty_on, c.win_reward) == (0.1, "sample", 10.0)
    assert (c.history, c.max_new_tokens, c.fmt) == (2, 512, "tags")             # history_length, max_response_length
    assert (c.kl_coef, c.clip_low, c.clip_high, c.dual_clip) == (0.01, 0.2, 0.2, 3.0)
    assert (c.loss_agg, c.entropy_coef, c.ppo_epochs, c.mini_batch) == ("token-mean", 0.001, 1, 64 * 8)
    assert c.recompute_old_logprobs and c.temperature == 1.0
    assert c.lr == 2e-6 and c.model == "m"  # the command line overrides the preset
    with pytest.raises(SystemExit, match="known presets"):
        gigpo.main(["--preset", "verl-agent-alfworld", "--model", "m"])
    with pytest.raises(SystemExit, match="not both"):
        gigpo.main(["--preset=verl-agent-webshop", "--config", "x.json"])
