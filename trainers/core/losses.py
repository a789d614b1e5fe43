"""Preference losses on multi-turn trajectory pairs, scored on the agent's turns only.

Every loss here takes *per-sequence* log-probabilities: for a trajectory ``y`` (a whole
multi-turn conversation), ``log pi(y) = sum_t mask_t * log pi(x_t | x_<t)`` where ``mask`` is 1
exactly on the agent's (assistant) tokens -- the second output of
:func:`trainers.core.logprobs.masked_logprobs`, or :func:`sequence_logps` on its first output.
Observation tokens (environment turns, the task prompt) are conditioned on but never scored:
they are not the policy's actions, so they must not enter the implicit reward. (trl's
``DPOTrainer`` scores every completion token, observations included; that is why these are
written here.)

Notation used below, for a batch of pairs ``(y_w, y_l)`` (chosen / rejected)::

    r_w = beta * (log pi(y_w) - log ref(y_w))          implicit reward of the chosen
    r_l = beta * (log pi(y_l) - log ref(y_l))          implicit reward of the rejected
    h   = (log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))   (log-ratio margin)

All losses are means over the batch. Each returns ``(loss, metrics)`` where ``metrics`` holds
python floats (batch means, no gradient): ``rewards_chosen`` (mean r_w), ``rewards_rejected``
(mean r_l), ``margin`` (mean r_w - r_l) and ``accuracy`` (fraction of pairs with r_w > r_l),
plus loss-specific entries.

NAT (Wang et al. 2024, "Learning from failure") and RFT are plain SFT on (marked) trajectories,
so they need no loss here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["sequence_logps", "dpo_loss", "eto_loss", "spin_loss", "ipo_loss", "kto_loss"]


def sequence_logps(per_token_logps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``sum_t per_token_logps[b, t] * mask[b, t]`` -> ``[B]``: the log-probability of the
    agent's tokens of each sequence. ``mask`` must be aligned with ``per_token_logps`` (for the
    output of ``masked_logprobs`` that is ``labels_mask[:, 1:] * attention_mask[:, 1:]``).
    Masked-out positions are dropped with ``where`` so a nan/-inf there cannot leak in."""
    keep = mask.bool()
    return torch.where(keep, per_token_logps, torch.zeros_like(per_token_logps)).sum(-1)


def _as_float(x: torch.Tensor) -> torch.Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _log_ratio_margin(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps):
    pc, pr, rc, rr = (_as_float(torch.as_tensor(t)) for t in
                      (policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps))
    # the reference is fixed: never back-propagate into it
    chosen_ratio = pc - rc.detach()
    rejected_ratio = pr - rr.detach()
    return chosen_ratio, rejected_ratio


def _metrics(beta: float, chosen_ratio: torch.Tensor, rejected_ratio: torch.Tensor) -> dict[str, float]:
    with torch.no_grad():
        rw = beta * chosen_ratio.detach()
        rl = beta * rejected_ratio.detach()
        return {
            "rewards_chosen": rw.mean().item(),
            "rewards_rejected": rl.mean().item(),
            "margin": (rw - rl).mean().item(),
            "accuracy": (rw > rl).float().mean().item(),
        }


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             ref_chosen_logps: torch.Tensor, ref_rejected_logps: torch.Tensor,
             beta: float = 0.1, label_smoothing: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Direct Preference Optimization (Rafailov et al. 2023, "Direct Preference Optimization:
    Your Language Model is Secretly a Reward Model", Eq. 7)::

        L_DPO = -E[ log sigmoid( beta * h ) ]
              = -E[ log sigmoid( beta * ((log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))) ) ]

    With ``label_smoothing = eps > 0`` the preference labels are taken as flipped with
    probability ``eps`` (the "conservative DPO" of Mitchell 2023, as in trl's ``sigmoid`` loss)::

        L = -E[ (1 - eps) * log sigmoid(beta * h) + eps * log sigmoid(-beta * h) ]

    Inputs are ``[B]`` per-sequence sums of agent-token log-probs (see the module docstring).
    ``beta = 0.1`` is the paper's default (it reports 0.1 for most experiments, 0.5 for some).
    The reference log-probs are detached.
    """
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), not {label_smoothing}")
    chosen_ratio, rejected_ratio = _log_ratio_margin(policy_chosen_logps, policy_rejected_logps,
                                                     ref_chosen_logps, ref_rejected_logps)
    logits = beta * (chosen_ratio - rejected_ratio)
    losses = -(1.0 - label_smoothing) * F.logsigmoid(logits) - label_smoothing * F.logsigmoid(-logits)
    loss = losses.mean()
    metrics = _metrics(beta, chosen_ratio, rejected_ratio)
    metrics["dpo_loss"] = loss.detach().item()
    return loss, metrics


def eto_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             ref_chosen_logps: torch.Tensor, ref_rejected_logps: torch.Tensor,
             chosen_token_counts: torch.Tensor | None = None,
             beta: float = 0.1, alpha: float = 0.0,
             label_smoothing: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """ETO's training-phase loss (Song et al. 2024, "Trial and Error: Exploration-Based
    Trajectory Optimization for LLM Agents"): DPO on (success, failure) trajectory pairs --
    chosen = the expert / higher-reward trajectory, rejected = the agent's failed exploration of
    the same task -- with the previous round's policy as reference, plus an optional SFT (NLL)
    term on the chosen trajectory that keeps its likelihood from falling while the margin grows::

        L_ETO = L_DPO(beta) + alpha * NLL(y_w)

    NLL normalisation: with ``chosen_token_counts`` ([B], the number of agent tokens of each
    chosen trajectory), ``NLL = -sum_b log pi(y_w^b) / sum_b n_b``, the mean NLL *per agent
    token* over the batch (the same normalisation as the SFT trainer's cross-entropy, so
    ``alpha`` does not depend on trajectory length). Without counts it is the mean per-sequence
    NLL ``-mean_b log pi(y_w^b)``, which scales with trajectory length; pass counts.

    Defaults: ``beta = 0.1`` (DPO's default) and ``alpha = 0``: the ETO paper states its
    objective as the DPO loss, so the default is pure DPO; ``alpha > 0`` adds the NLL term, an
    extension of this package (a common regulariser of DPO on agent data), not the paper's.
    """
    loss_dpo, metrics = dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps,
                                 ref_rejected_logps, beta=beta, label_smoothing=label_smoothing)
    pc = _as_float(torch.as_tensor(policy_chosen_logps))
    if chosen_token_counts is None:
        nll = -pc.mean()
    else:
        counts = torch.as_tensor(chosen_token_counts, dtype=pc.dtype, device=pc.device)
        nll = -pc.sum() / counts.sum().clamp(min=1)
    loss = loss_dpo + alpha * nll
    metrics["nll_chosen"] = nll.detach().item()
    metrics["loss"] = loss.detach().item()
    return loss, metrics


def spin_loss(policy_real_logps: torch.Tensor, policy_generated_logps: torch.Tensor,
              ref_real_logps: torch.Tensor, ref_generated_logps: torch.Tensor,
              beta: float = 0.1) -> tuple[torch.Tensor, dict[str, float]]:
    """Self-Play fIne-tuNing (Chen et al. 2024, "Self-Play Fine-Tuning Converts Weak Language
    Models to Strong Language Models", Eq. 4.7)::

        L_SPIN = E[ l( lambda * log(p_theta(y|x) / p_theta_t(y|x))
                       - lambda * log(p_theta(y'|x) / p_theta_t(y'|x)) ) ],   l(t) = log(1 + exp(-t))

    where ``y`` is the real (expert) trajectory, ``y'`` the one generated by the previous
    iterate ``p_theta_t`` on the same task, and ``p_theta_t`` -- the previous iterate -- is the
    reference. ``lambda`` is the ``beta`` argument (the paper's experiments use 0.1). Since
    ``log(1 + exp(-t)) = -log sigmoid(t)``, this is exactly :func:`dpo_loss` with the logistic
    loss and no label smoothing, with chosen = real and rejected = generated; SPIN differs from
    DPO in where the pairs and the reference come from, not in the formula. It is kept as its
    own function so the SPIN trainer reads as the paper does.
    """
    chosen_ratio, rejected_ratio = _log_ratio_margin(policy_real_logps, policy_generated_logps,
                                                     ref_real_logps, ref_generated_logps)
    t = beta * (chosen_ratio - rejected_ratio)
    loss = F.softplus(-t).mean()  # log(1 + exp(-t)), numerically stable
    metrics = _metrics(beta, chosen_ratio, rejected_ratio)
    metrics["spin_loss"] = loss.detach().item()
    return loss, metrics


def ipo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             ref_chosen_logps: torch.Tensor, ref_rejected_logps: torch.Tensor,
             tau: float = 0.1) -> tuple[torch.Tensor, dict[str, float]]:
    """Identity Preference Optimisation (Azar et al. 2023, "A General Theoretical Paradigm to
    Understand Learning from Human Preferences", Eq. 17)::

        L_IPO = E[ (h - 1 / (2 * tau))^2 ]

    with ``h`` the log-ratio margin above. The regression target keeps the margin finite where
    DPO would push it to infinity on deterministic preferences. Applied to the log-probs as
    given (sums over agent tokens); trl applies it to length-averaged log-probs, which a caller
    can reproduce by passing ``sum / n_agent_tokens``. The reported rewards use ``beta = tau``.
    """
    chosen_ratio, rejected_ratio = _log_ratio_margin(policy_chosen_logps, policy_rejected_logps,
                                                     ref_chosen_logps, ref_rejected_logps)
    h = chosen_ratio - rejected_ratio
    loss = ((h - 1.0 / (2.0 * tau)) ** 2).mean()
    metrics = _metrics(tau, chosen_ratio, rejected_ratio)
    metrics["ipo_loss"] = loss.detach().item()
    return loss, metrics


def kto_loss(policy_logps: torch.Tensor, ref_logps: torch.Tensor, desirable: torch.Tensor,
             policy_kl_logps: torch.Tensor | None = None, ref_kl_logps: torch.Tensor | None = None,
             beta: float = 0.1, desirable_weight: float = 1.0, undesirable_weight: float = 1.0,
             desirable_scale: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Kahneman-Tversky Optimisation (Ethayarajh et al. 2024, "KTO: Model Alignment as Prospect
    Theoretic Optimization", Eq. 7-8), for unpaired samples labelled desirable or undesirable::

        r(x, y) = log pi(y|x) - log ref(y|x)                     implicit reward (log-ratio)
        z_ref   = max(0, mean_j [log pi(y'_j|x_j) - log ref(y'_j|x_j)])   (detached)
        v(x, y) = lambda_D * sigmoid(beta * (r - z_ref))   if y is desirable
                  lambda_U * sigmoid(beta * (z_ref - r))   if y is undesirable
        L_KTO   = mean over the batch of (lambda_y - v(x, y))

    ``z_ref`` is the paper's reference point: a batch estimate of ``KL(pi || ref)`` from
    *mismatched* pairs ``(x_j, y'_j)`` (a prompt with another sample's reply), clamped at 0 and
    not back-propagated (as the paper and trl do). Without ``policy_kl_logps`` it is 0 (trl's
    ``apo_zero_unpaired``-like reference point; only for tests or ablations).

    ``desirable_scale`` ([B], used on desirable samples only, >= 0) multiplies ``lambda_D`` per
    sample: the value of that desirable outcome is scaled. DEPO's efficiency bonus enters here
    (``trainers.depo``). All ones is plain KTO.

    Inputs are ``[B]`` per-sequence sums of reply log-probs; ``desirable`` is a ``[B]`` bool
    tensor. The mean runs over all ``B`` samples with their weights (trl: ``losses.nanmean()``
    over the concatenated weighted desirable and undesirable losses), so the loss is the
    same as trl's ``KTOTrainer`` on the same log-probs. The paper's default ``beta`` is 0.1
    and ``lambda_D * n_D / (lambda_U * n_U)`` should lie in ``[1, 4/3]``.

    ``metrics``: ``kl`` (z_ref), ``rewards_chosen`` / ``rewards_rejected`` (mean ``beta * r`` of
    the desirable / undesirable samples; nan when there are none), ``margin`` (their
    difference, 0 when a side is missing), ``kto_loss``.
    """
    pol = _as_float(torch.as_tensor(policy_logps))
    ref = _as_float(torch.as_tensor(ref_logps)).to(pol.device).detach()
    labels = torch.as_tensor(desirable, device=pol.device).bool()
    if pol.shape != ref.shape or labels.shape != pol.shape:
        raise ValueError(f"policy {tuple(pol.shape)}, reference {tuple(ref.shape)} and labels "
                         f"{tuple(labels.shape)} must have the same [B] shape")
    if policy_kl_logps is not None:
        if ref_kl_logps is None:
            raise ValueError("policy_kl_logps needs ref_kl_logps")
        kl_now = _as_float(torch.as_tensor(policy_kl_logps)).to(pol.device)
        kl_ref = _as_float(torch.as_tensor(ref_kl_logps)).to(pol.device)
        z = (kl_now - kl_ref).mean().detach().clamp(min=0)
    else:
        z = torch.zeros((), device=pol.device)
    ratio = pol - ref
    scale = torch.ones_like(ratio) if desirable_scale is None else \
        _as_float(torch.as_tensor(desirable_scale)).to(pol.device).detach()
    if bool((scale < 0).any()):
        raise ValueError("desirable_scale must be >= 0")
    losses = torch.where(labels,
                         desirable_weight * scale * (1.0 - torch.sigmoid(beta * (ratio - z))),
                         undesirable_weight * (1.0 - torch.sigmoid(beta * (z - ratio))))
    loss = losses.mean()
    with torch.no_grad():
        rewards = beta * ratio.detach()
        chosen = rewards[labels].mean().item() if labels.any() else float("nan")
        rejected = rewards[~labels].mean().item() if (~labels).any() else float("nan")
        both = labels.any() and (~labels).any()
    metrics = {"kl": z.item(), "rewards_chosen": chosen, "rewards_rejected": rejected,
               "margin": chosen - rejected if both else 0.0, "kto_loss": loss.detach().item()}
    return loss, metrics
