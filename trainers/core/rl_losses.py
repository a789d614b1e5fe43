"""Per-token losses of online RL (PPO, GRPO, GiGPO): clipped policy loss, KL to a reference,
entropy. Inputs are ``[B, T]`` tensors aligned with a ``[B, T]`` 0/1 ``mask`` of the reply tokens
(the first output of ``trainers.core.logprobs.masked_logprobs`` and ``labels_mask[:, 1:]``).

``policy_loss`` is PPO's clipped surrogate (Schulman et al. 2017) with per-token ratios
``rho = exp(clamp(logp - old_logp, -20, 20))`` (verl clamps the log-ratio before ``exp`` so a
token whose probability collapsed cannot give an infinite ratio; ``verl/trainer/ppo/
core_algos.py``, ``compute_policy_loss_vanilla``): ``max(-A rho, -A clip(rho, 1 - eps_low, 1 + eps_high))``, and
the dual clip of Ye et al. 2020 for negative advantages (the loss is capped at ``-A * c``,
``c = dual_clip``, so a huge ratio on a bad action cannot blow up the step). ``kl_k3`` is the
low-variance estimator ``exp(ref - logp) - (ref - logp) - 1`` (Schulman's "k3", as GRPO uses),
with verl's bounds (``kl_penalty_forward``, ``low_var_kl``): the log-ratio clamped to
[-20, 20], the estimate to [-10, 10].
``aggregate`` averages over tokens of the batch ("token-mean", DAPO/verl's default) or over
sequences of their token means ("seq-mean-token-mean", GRPO's original); the trainers
aggregate the KL and entropy terms with the same mode as the policy loss, as verl's actor does
(``agg_loss`` on each, ``verl/workers/actor/dp_actor.py``).
"""

from __future__ import annotations

import torch

AGGREGATIONS = ("token-mean", "seq-mean-token-mean")
LOG_RATIO_CLAMP = 20.0  # verl's bound on log(pi / pi_old) and on the k3 log-ratio
KL_CLAMP = 10.0  # verl's bound on the k3 estimate


def aggregate(values: torch.Tensor, mask: torch.Tensor, how: str = "token-mean") -> torch.Tensor:
    mask = mask.to(values.dtype)
    if how == "token-mean":
        return (values * mask).sum() / mask.sum().clamp(min=1)
    if how == "seq-mean-token-mean":
        per_seq = (values * mask).sum(-1) / mask.sum(-1).clamp(min=1)
        return per_seq[mask.sum(-1) > 0].mean() if (mask.sum(-1) > 0).any() else per_seq.sum() * 0
    raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {how!r}")


def policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor, mask: torch.Tensor,
                clip_low: float = 0.2, clip_high: float = 0.2, dual_clip: float | None = 3.0,
                how: str = "token-mean") -> tuple[torch.Tensor, dict[str, float]]:
    """The clipped surrogate; ``advantages`` is ``[B, T]`` or ``[B]`` (one per sequence)."""
    if dual_clip is not None and dual_clip <= 1.0:
        raise ValueError("dual_clip must be > 1 (or None)")
    if advantages.dim() == 1:
        advantages = advantages[:, None].expand_as(logp)
    log_ratio = logp - old_logp.detach()
    ratio = torch.exp(log_ratio.clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP))
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_low, 1.0 + clip_high)
    loss = torch.maximum(unclipped, clipped)
    if dual_clip is not None:
        loss = torch.where(advantages < 0, torch.minimum(loss, -advantages * dual_clip), loss)
    m = mask.bool()
    with torch.no_grad():
        clipfrac = aggregate((clipped > unclipped).float(), mask, "token-mean").item()
        approx_kl = aggregate(-log_ratio.detach(), mask, "token-mean").item()
    return aggregate(torch.where(m, loss, torch.zeros_like(loss)), mask, how), {
        "clipfrac": clipfrac, "approx_kl": approx_kl}


def kl_k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token ``exp(ref - logp) - (ref - logp) - 1`` (>= 0; unbiased for KL(pi || ref))."""
    diff = (ref_logp.detach() - logp).clamp(-LOG_RATIO_CLAMP, LOG_RATIO_CLAMP)
    return (torch.exp(diff) - diff - 1.0).clamp(-KL_CLAMP, KL_CLAMP)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Per-position entropy of the softmax of ``logits`` [..., V]."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(-1)
