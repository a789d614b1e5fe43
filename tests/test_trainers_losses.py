"""Preference losses against hand-computed examples (trainers/core/losses.py)."""

import math

import pytest
import torch

from trainers.core.losses import dpo_loss, eto_loss, ipo_loss, sequence_logps, spin_loss

# One pair: policy chosen -10, rejected -12; reference -11 / -11.
# h = (-10 - -11) - (-12 - -11) = 1 - (-1) = 2
PAIR = dict(policy_chosen_logps=torch.tensor([-10.0]), policy_rejected_logps=torch.tensor([-12.0]),
            ref_chosen_logps=torch.tensor([-11.0]), ref_rejected_logps=torch.tensor([-11.0]))
# -log sigmoid(0.1 * 2) = log(1 + e^-0.2) = log(1.818730753) = 0.598138869
DPO_02 = 0.598138869


def t(*xs, grad=False):
    return torch.tensor(list(xs), dtype=torch.float64, requires_grad=grad)


def test_dpo_hand_computed():
    loss, m = dpo_loss(**PAIR, beta=0.1)
    assert loss.item() == pytest.approx(DPO_02, abs=1e-6)
    assert loss.item() == pytest.approx(-math.log(1 / (1 + math.exp(-0.2))), abs=1e-9)
    # rewards: 0.1 * (-10 + 11) = 0.1, 0.1 * (-12 + 11) = -0.1
    assert m["rewards_chosen"] == pytest.approx(0.1)
    assert m["rewards_rejected"] == pytest.approx(-0.1)
    assert m["margin"] == pytest.approx(0.2)
    assert m["accuracy"] == 1.0


def test_dpo_label_smoothing():
    # 0.9 * -log sigmoid(0.2) + 0.1 * -log sigmoid(-0.2)
    # = 0.9 * 0.598138869 + 0.1 * log(1 + e^0.2) = 0.538324982 + 0.1 * 0.798138869 = 0.618138869
    loss, _ = dpo_loss(**PAIR, beta=0.1, label_smoothing=0.1)
    assert loss.item() == pytest.approx(0.618138869, abs=1e-6)
    with pytest.raises(ValueError):
        dpo_loss(**PAIR, label_smoothing=0.5)


def test_dpo_batch_mean_and_accuracy():
    # pair 2 has h = 0: loss log 2 = 0.693147181, r_w == r_l so it is not "accurate"
    loss, m = dpo_loss(t(-10, -5), t(-12, -5), t(-11, -5), t(-11, -5), beta=0.1)
    assert loss.item() == pytest.approx((DPO_02 + math.log(2)) / 2, abs=1e-6)  # 0.645643025
    assert m["accuracy"] == 0.5
    assert m["rewards_chosen"] == pytest.approx(0.05)
    assert m["margin"] == pytest.approx(0.1)


def test_dpo_gradient_signs():
    pc, pr, rc, rr = t(-10, grad=True), t(-12, grad=True), t(-11, grad=True), t(-11, grad=True)
    loss, _ = dpo_loss(pc, pr, rc, rr, beta=0.1)
    loss.backward()
    # dL/dpc = -beta * sigmoid(-beta h) = -0.1 * sigmoid(-0.2) = -0.1 * 0.450166003 = -0.0450166
    assert pc.grad.item() == pytest.approx(-0.0450166003, abs=1e-8)
    assert pr.grad.item() == pytest.approx(+0.0450166003, abs=1e-8)
    assert rc.grad is None and rr.grad is None  # the reference is detached
    # and directly: a higher chosen log-prob lowers the loss, a higher rejected one raises it
    base = dpo_loss(**PAIR)[0].item()
    assert dpo_loss(t(-9), t(-12), t(-11), t(-11))[0].item() < base
    assert dpo_loss(t(-10), t(-11), t(-11), t(-11))[0].item() > base


def test_eto_hand_computed():
    # chosen trajectory: 20 agent tokens, log-prob -10 -> NLL per agent token = 10 / 20 = 0.5
    loss, m = eto_loss(**PAIR, chosen_token_counts=torch.tensor([20]), beta=0.1, alpha=1.0)
    assert loss.item() == pytest.approx(DPO_02 + 0.5, abs=1e-6)  # 1.098138869
    assert m["nll_chosen"] == pytest.approx(0.5)
    assert m["dpo_loss"] == pytest.approx(DPO_02, abs=1e-6)
    # alpha scales the NLL term: 0.598138869 + 0.2 * 0.5 = 0.698138869
    assert eto_loss(**PAIR, chosen_token_counts=torch.tensor([20]), alpha=0.2)[0].item() == pytest.approx(
        0.698138869, abs=1e-6)
    # without counts the NLL is per sequence: 0.598138869 + 10
    assert eto_loss(**PAIR, alpha=1.0)[0].item() == pytest.approx(DPO_02 + 10, abs=1e-6)
    # alpha = 0 is plain DPO
    assert eto_loss(**PAIR, alpha=0.0)[0].item() == pytest.approx(DPO_02, abs=1e-6)


def test_eto_batch_token_mean_and_gradient():
    # chosen -10 (20 tokens) and -5 (5 tokens): NLL = 15 / 25 = 0.6
    loss, m = eto_loss(t(-10, -5), t(-12, -5), t(-11, -5), t(-11, -5),
                       chosen_token_counts=torch.tensor([20, 5]), alpha=1.0)
    assert m["nll_chosen"] == pytest.approx(0.6)
    assert loss.item() == pytest.approx((DPO_02 + math.log(2)) / 2 + 0.6, abs=1e-6)
    pc = t(-10, grad=True)
    eto_loss(pc, t(-12), t(-11), t(-11), chosen_token_counts=torch.tensor([20]), alpha=1.0)[0].backward()
    # -0.0450166 (DPO) - 1 / 20 (NLL)
    assert pc.grad.item() == pytest.approx(-0.0450166003 - 0.05, abs=1e-8)


def test_spin_hand_computed_and_equals_dpo():
    real, gen, ref_real, ref_gen = PAIR.values()
    loss, m = spin_loss(real, gen, ref_real, ref_gen, beta=0.1)
    # log(1 + exp(-0.1 * 2)) = 0.598138869
    assert loss.item() == pytest.approx(DPO_02, abs=1e-6)
    assert m["accuracy"] == 1.0
    # lambda = 0.5: log(1 + e^-1) = 0.313261687
    assert spin_loss(real, gen, ref_real, ref_gen, beta=0.5)[0].item() == pytest.approx(0.313261687, abs=1e-6)
    # identical to DPO with the logistic loss on random batches
    g = torch.Generator().manual_seed(0)
    xs = [-(torch.rand(8, generator=g, dtype=torch.float64) * 50) for _ in range(4)]
    for beta in (0.1, 0.5, 2.0):
        assert torch.allclose(spin_loss(*xs, beta=beta)[0], dpo_loss(*xs, beta=beta)[0])
    # gradient sign: raising the real trajectory's log-prob lowers the loss
    pr = t(-10, grad=True)
    spin_loss(pr, t(-12), t(-11), t(-11))[0].backward()
    assert pr.grad.item() < 0


def test_spin_stable_for_large_margins():
    loss, _ = spin_loss(t(0.0), t(-1e4), t(-1e4), t(0.0), beta=1.0)  # t = 2e4
    assert torch.isfinite(loss) and loss.item() == pytest.approx(0.0, abs=1e-12)
    loss, _ = spin_loss(t(-1e4), t(0.0), t(0.0), t(-1e4), beta=1.0)  # t = -2e4 -> loss = 2e4
    assert loss.item() == pytest.approx(2e4)


def test_ipo_hand_computed():
    # (h - 1 / (2 tau))^2 = (2 - 5)^2 = 9
    loss, _ = ipo_loss(**PAIR, tau=0.1)
    assert loss.item() == pytest.approx(9.0)
    # at h = 1 / (2 tau) the loss is 0: -6 vs -12 with reference -11 / -11 -> h = 5 - (-1) = 6, tau = 1/12
    assert ipo_loss(t(-6), t(-12), t(-11), t(-11), tau=1 / 12)[0].item() == pytest.approx(0.0, abs=1e-12)


def _toy_per_token():
    """Per-token log-probs [2, 6] of a chosen and a rejected trajectory with masks: 1 on agent
    tokens, 0 on observation tokens (and padding: the rejected one is right-padded)."""
    per_token = torch.tensor([[-0.5, -1.0, -2.0, -0.5, -3.0, -1.5],
                              [-1.0, -2.5, -0.5, -1.0, -4.0, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[0, 1, 1, 0, 1, 1],
                         [0, 1, 0, 1, 1, 0]])
    return per_token, mask


def _dpo_from_tokens(per_token, mask, ref_per_token):
    logps = sequence_logps(per_token, mask)
    ref = sequence_logps(ref_per_token, mask)
    return dpo_loss(logps[:1], logps[1:], ref[:1], ref[1:], beta=0.1)[0]


def test_sequence_logps_sums_agent_tokens_only():
    per_token, mask = _toy_per_token()
    # chosen: -1 - 2 - 3 - 1.5 = -7.5 ; rejected: -2.5 - 1 - 4 = -7.5
    assert sequence_logps(per_token, mask).tolist() == [-7.5, -7.5]
    assert torch.equal(sequence_logps(per_token, mask), (per_token * mask).sum(-1))
    # a nan / -inf in a masked-out position does not leak
    bad = per_token.clone()
    bad[1, 5] = float("nan")
    bad[0, 0] = float("-inf")
    assert sequence_logps(bad, mask).tolist() == [-7.5, -7.5]


def test_observation_tokens_do_not_change_the_loss():
    per_token, mask = _toy_per_token()
    ref = torch.full_like(per_token, -1.0)  # ref sums: chosen -4, rejected -3 -> h = -3.5 - (-4.5) = 1
    base = _dpo_from_tokens(per_token, mask, ref)
    assert base.item() == pytest.approx(math.log(1 + math.exp(-0.1)), abs=1e-9)  # 0.644396660

    for row, col in [(0, 0), (0, 3), (1, 0), (1, 2), (1, 5)]:  # observation / padding tokens
        assert mask[row, col] == 0
        changed = per_token.clone()
        changed[row, col] -= 5.0
        assert _dpo_from_tokens(changed, mask, ref).item() == pytest.approx(base.item(), abs=1e-12)

    for row, col in [(0, 1), (0, 4), (1, 3), (1, 4)]:  # agent tokens
        assert mask[row, col] == 1
        changed = per_token.clone()
        changed[row, col] += 5.0
        new = _dpo_from_tokens(changed, mask, ref).item()
        # raising a chosen agent token lowers the loss, raising a rejected one raises it
        assert new != pytest.approx(base.item(), abs=1e-6)
        assert (new < base.item()) == (row == 0)

    # gradient flows to agent tokens only
    leaf = per_token.clone().requires_grad_(True)
    _dpo_from_tokens(leaf, mask, ref).backward()
    assert torch.all(leaf.grad[mask == 0] == 0)
    assert torch.all(leaf.grad[0][mask[0] == 1] < 0) and torch.all(leaf.grad[1][mask[1] == 1] > 0)


def test_scoring_every_token_would_give_a_different_loss():
    """What trl's DPOTrainer does on multi-turn data (score observations too) is not this loss."""
    per_token, mask = _toy_per_token()
    ref = torch.full_like(per_token, -1.0)
    agent_only = _dpo_from_tokens(per_token, mask, ref)
    everything = _dpo_from_tokens(per_token, torch.ones_like(mask), ref)
    assert agent_only.item() != pytest.approx(everything.item(), abs=1e-6)
