"""KTO loss (trainers/core/losses.py) against hand-computed values and against trl's KTOTrainer
on the same log-probs."""

from __future__ import annotations

import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from trainers.core.losses import kto_loss


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def t(*xs, grad=False):
    return torch.tensor(list(xs), dtype=torch.float64, requires_grad=grad)


LABELS = torch.tensor([True, False])


def test_kto_hand_computed_reference_point_zero():
    # desirable: r = -10 - -11 = 1; undesirable: r = -12 - -11 = -1; mismatched pairs average to 0
    loss, m = kto_loss(t(-10, -12), t(-11, -11), LABELS, t(-5, -7), t(-6, -6), beta=0.1)
    # both terms are 1 - sigmoid(0.1) = 0.475020813
    assert loss.item() == pytest.approx(1 - sig(0.1), abs=1e-9)
    assert loss.item() == pytest.approx(0.475020813, abs=1e-8)
    assert m["kl"] == 0.0
    assert m["rewards_chosen"] == pytest.approx(0.1) and m["rewards_rejected"] == pytest.approx(-0.1)
    assert m["margin"] == pytest.approx(0.2)


def test_kto_reference_point_and_weights():
    # z_ref = mean(-5 - -6, -6 - -6) = 0.5
    # desirable 1 - sig(0.1 * (1 - 0.5)) = 0.487502604; undesirable 2 * (1 - sig(0.1 * (0.5 + 1))) = 0.925140310
    loss, m = kto_loss(t(-10, -12), t(-11, -11), LABELS, t(-5, -6), t(-6, -6), beta=0.1,
                       desirable_weight=1.0, undesirable_weight=2.0)
    assert m["kl"] == pytest.approx(0.5)
    assert loss.item() == pytest.approx((0.487502604 + 0.925140310) / 2, abs=1e-8)


def test_kto_negative_kl_estimate_is_clamped():
    _, m = kto_loss(t(-10, -12), t(-11, -11), LABELS, t(-7, -7), t(-6, -6))
    assert m["kl"] == 0.0


def test_kto_desirable_scale():
    # (1.5 * (1 - sig(0.1)) + 1 * (1 - sig(0.1))) / 2 = 1.25 * 0.475020813; the undesirable one ignores its scale
    loss, _ = kto_loss(t(-10, -12), t(-11, -11), LABELS, beta=0.1, desirable_scale=t(1.5, 7.0))
    assert loss.item() == pytest.approx(1.25 * 0.475020813, abs=1e-8)
    with pytest.raises(ValueError, match="scale"):
        kto_loss(t(-10), t(-11), torch.tensor([True]), desirable_scale=t(-0.5))


def test_kto_gradient_by_hand_and_reference_point_detached():
    pol, kl_now = t(-10, -12, grad=True), t(-5, -7, grad=True)
    loss, _ = kto_loss(pol, t(-11, -11), LABELS, kl_now, t(-6, -6), beta=0.1)
    loss.backward()
    # d/dr [1 - sig(b r)] = -b sig (1 - sig); undesirable: d/dr [1 - sig(-b r)] = +b sig (1 - sig); mean over 2
    g = 0.1 * sig(0.1) * (1 - sig(0.1)) / 2
    assert pol.grad.tolist() == pytest.approx([-g, g], abs=1e-12)
    assert kl_now.grad is None or torch.all(kl_now.grad == 0)


def test_kto_refuses_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        kto_loss(t(-1, -2), t(-1), LABELS)
    with pytest.raises(ValueError, match="ref_kl_logps"):
        kto_loss(t(-1, -2), t(-1, -2), LABELS, policy_kl_logps=t(0, 0))


# ----- trl's KTOTrainer as the oracle -------------------------------------------------------
class _TableModel(torch.nn.Module):
    """A stand-in causal LM whose log-prob of token ``v`` is ``table[v]`` wherever it is
    scored (labels != -100), zero elsewhere: what trl's fused LM head returns."""

    training = True

    def __init__(self, table):
        super().__init__()
        self.table = table

    def forward(self, input_ids, labels=None, **_):
        scored = labels[:, 1:] != -100
        logps = torch.where(scored, self.table[input_ids[:, 1:]], torch.zeros(()))
        return SimpleNamespace(log_probs=logps, entropy=torch.zeros_like(logps), mean_logits=torch.zeros_like(logps))


def _trl_kto(beta, lambda_d, lambda_u, table, rows, labels, kl_rows, ref, ref_kl):
    """trl's ``KTOTrainer._compute_loss`` on a batch of ``rows`` (prompt ids, completion ids),
    with precomputed reference log-probs, run on a stand-in trainer (``self``)."""
    trl_kto = pytest.importorskip("trl.trainer.kto_trainer")

    def pad(pairs):
        width = max(len(p) + len(c) for p, c in pairs)
        ids = torch.zeros(len(pairs), width, dtype=torch.long)
        att = torch.zeros_like(ids)
        comp = torch.zeros_like(ids)
        for i, (p, c) in enumerate(pairs):
            seq = p + c
            ids[i, :len(seq)] = torch.tensor(seq)
            att[i, :len(seq)] = 1
            comp[i, len(p):len(seq)] = 1
        return ids, att, comp

    ids, att, comp = pad(rows)
    kl_ids, kl_att, kl_comp = pad(kl_rows)
    batch = {"input_ids": ids, "attention_mask": att, "completion_mask": comp, "label": torch.tensor(labels),
             "KL_input_ids": kl_ids, "KL_attention_mask": kl_att, "KL_completion_mask": kl_comp,
             "ref_logps": torch.tensor(ref), "ref_KL_logps": torch.tensor(ref_kl)}
    model = _TableModel(table)

    class Stub:
        _compute_kl_logps = trl_kto.KTOTrainer._compute_kl_logps
        _compute_loss = trl_kto.KTOTrainer._compute_loss

    stub = Stub()
    stub.model = model
    stub.accelerator = SimpleNamespace(device=torch.device("cpu"), gather_for_metrics=lambda x: x)
    stub.loss_type, stub.beta, stub.calculate_KL, stub.precompute_ref_logps = "kto", beta, True, True
    stub.desirable_weight, stub.undesirable_weight = lambda_d, lambda_u
    stub.aux_loss_enabled, stub._tp_size, stub._total_train_tokens = False, 1, 0
    stub._metrics = defaultdict(lambda: defaultdict(list))
    return stub._compute_loss(model, batch, False)


@pytest.mark.slow  # importing trl takes ~5 s
def test_kto_matches_trl():
    torch.manual_seed(0)
    table = -torch.rand(20, dtype=torch.float32) * 3
    rows = [([1, 2], [3, 4, 5]), ([6], [7, 8]), ([9, 10, 11], [12]), ([13], [14, 15, 16, 17])]
    labels = [True, False, True, False]
    kl_rows = [(p, rows[(i - 1) % 4][1]) for i, (p, _) in enumerate(rows)]  # trl cycles completions by one
    ref = [-4.0, -3.5, -1.0, -6.0]
    ref_kl = [-5.0, -4.5, -2.5, -3.0]
    for beta, ld, lu in [(0.1, 1.0, 1.0), (0.5, 1.0, 1.33), (2.0, 0.8, 1.0)]:
        expected = _trl_kto(beta, ld, lu, table, rows, labels, kl_rows, ref, ref_kl)
        ours, _ = kto_loss(torch.stack([table[c].sum() for _, c in rows]), torch.tensor(ref), torch.tensor(labels),
                           torch.stack([table[c].sum() for _, c in kl_rows]), torch.tensor(ref_kl),
                           beta=beta, desirable_weight=ld, undesirable_weight=lu)
        assert ours.item() == pytest.approx(expected.item(), abs=1e-6)
