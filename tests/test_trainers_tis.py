"""Truncated importance sampling of the sampler/trainer log-prob mismatch: the weights by
hand, their place in the PPO loss, and the mismatch itself on CPU (rollouts sampled under
bfloat16, the update scored in float32)."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from crossroads_training import ENV, HISTORY, RL, crossroads_start  # noqa: E402,F401
from trainers import gigpo  # noqa: E402
from trainers.core.online import token_stats, truncated_is_weights  # noqa: E402
from trainers.core.rl_losses import policy_loss  # noqa: E402


def test_weights_by_hand():
    trainer = torch.tensor([-1.0, -2.0, -0.5, -0.1])
    sampler = torch.tensor([-1.5, -1.0, -0.5, -3.0])
    w = truncated_is_weights(trainer, sampler, cap=2.0)
    expected = [math.exp(0.5), math.exp(-1.0), 1.0, 2.0]  # exp(2.9) = 18.2 is truncated at the cap
    assert w.tolist() == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="sampler log-probs"):
        truncated_is_weights(trainer, sampler[:3], cap=2.0)


def test_weights_multiply_each_token_loss():
    # PPO's per-token loss max(-A r, -A clip(r)) (dual-clipped for A < 0) scales with A: a
    # positive weight w on the token equals the advantage A * w
    logp = torch.tensor([[-1.0, -0.2, -0.7], [-0.3, -2.0, -0.1]], dtype=torch.float64)
    old = torch.tensor([[-1.2, -0.1, -0.7], [-0.9, -1.0, -0.2]], dtype=torch.float64)
    adv = torch.tensor([1.5, -0.8], dtype=torch.float64)
    w = torch.tensor([[0.5, 2.0, 1.0], [1.3, 0.2, 1.0]], dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]], dtype=torch.float64)
    weighted, _ = policy_loss(logp, old, adv[:, None] * w, mask, 0.2, 0.2, 3.0)
    total = 0.0
    for i in range(2):
        for t in range(3):
            if not mask[i, t]:
                continue
            r = math.exp(logp[i, t] - old[i, t])
            a = float(adv[i])
            token = max(-a * r, -a * min(max(r, 0.8), 1.2))
            if a < 0:
                token = min(token, -a * 3.0)
            total += float(w[i, t]) * token
    assert weighted.item() == pytest.approx(total / 5, rel=1e-9)


def test_bfloat16_sampler_differs_from_the_float32_trainer(crossroads_start):
    from trainers.core.generation import HFGenerator
    from trainers.core.online import step_sample
    from trainers.core.policy import Policy

    policy = Policy.load(crossroads_start["start"], device="cpu")
    prompts = [[{"role": "user", "content": f"Observation: crossroads {k}. Which way?"}] for k in range(6)]
    samples = {}
    for dtype in ("float32", "bfloat16"):
        outs = HFGenerator(policy, max_new_tokens=12, seed=0, autocast_dtype=dtype).generate(prompts)
        samples[dtype] = [step_sample(type("S", (), {"prompt_ids": o.prompt_ids, "response_ids": o.response_ids,
                                                      "response_logprobs": o.response_logprobs})(), 0.0)
                          for o in outs]
    gaps = {}
    for dtype, batch in samples.items():
        logp, _, mask = token_stats(policy.model, batch, policy.tokenizer.pad_token_id, torch.enable_grad())
        trainer = [row[m.bool()].detach() for row, m in zip(logp, mask)]
        sampler = [torch.tensor(s["old_logp"]) for s in batch]
        gaps[dtype] = max((t - s).abs().max().item() for t, s in zip(trainer, sampler))
        if dtype == "bfloat16":
            w = torch.cat([truncated_is_weights(t, s, cap=2.0) for t, s in zip(trainer, sampler)])
            assert (w <= 2.0).all() and (w - 1).abs().max() > 1e-3  # a real correction, capped
    assert gaps["float32"] < 1e-4 < gaps["bfloat16"], gaps


def test_tis_is_on_by_default_for_bfloat16_rollouts(crossroads_start, tmp_path):
    def trainer(**kw):
        return gigpo.GiGPOTrainer(gigpo.GiGPOConfig(model="m", **kw))

    assert not trainer().use_tis() and trainer(rollout_dtype="bfloat16").use_tis()
    assert trainer(tis="on").use_tis() and not trainer(rollout_dtype="bfloat16", tis="off").use_tis()
    kw = dict(RL, recompute_old_logprobs=True, iterations=1, tasks_per_iteration=2, group_size=2, lr=1e-3)
    result = gigpo.train(gigpo.GiGPOConfig(model=crossroads_start["start"], output_dir=str(tmp_path / "bf16"),
                                           rollout_dtype="bfloat16", **kw))
    last = result["last"]
    assert 0 < last["tis_weight"] <= 2.0 and last["tis_weight"] != 1.0
    plain = gigpo.train(gigpo.GiGPOConfig(model=crossroads_start["start"], output_dir=str(tmp_path / "f32"), **kw))
    assert "tis_weight" not in plain["last"]
    with pytest.raises(ValueError, match="tis"):
        gigpo.train(gigpo.GiGPOConfig(model=crossroads_start["start"], output_dir=str(tmp_path / "x"), tis="maybe",
                                      **kw))
