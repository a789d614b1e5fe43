"""Group-relative advantages: GRPO's per episode, GiGPO's per episode and per anchor state.

GiGPO (Feng et al. 2025, "Group-in-Group Policy Optimization for LLM Agent Training") plays a
group of ``G`` trajectories of one task and gives every step two advantages:

* the **episode** advantage ``A^E``: the trajectory's return, normalised within its group
  (``(R - mean) / std``, or ``R - mean`` with ``use_std=False``, the variant without the std
  that the paper also reports);
* the **step** advantage ``A^S``: the steps of the group's trajectories that start from the
  same environment state (equal ``info["anchor"]``, or the same page pattern with
  ``group_by="page"``) form an anchor group; each step's discounted return from that state,
  ``R_t = sum_k gamma^k r_{t+k}``, is normalised within its anchor group. A step whose state no
  other step of the group visited is a singleton: ``A^S = 0``.

and uses ``A = A^E + omega * A^S`` for every token of that step's reply. GRPO is ``omega = 0``
on the same code. Rewards may first be shaped with a penalty for invalid actions.

Where the paper and the reference code (verl-agent) differ we offer both:
``episode_stats="trajectory"`` computes the episode mean/std over the ``G`` trajectory returns
(the paper's Eq. 3, our default); ``"step"`` over the group's step samples, each carrying its
trajectory's return (longer trajectories weigh more). verl-agent's ``episode_norm_reward``
does the latter by default (``compute_mean_std_cross_steps=True``, "more stable" in its
comments), so the published numbers used ``"step"``. Its ``mode`` switch is our ``use_std``
(``mean_std_norm`` / ``mean_norm``), chosen per task in its example scripts.
``unbiased=True`` uses the sample standard deviation (``torch.std``'s default, as verl-agent
does), ``False`` the population one. A group whose returns are all equal gets 0 everywhere
(``eps`` keeps the division finite).

Episodes cut by the step limit (truncated) are not bootstrapped: their returns sum the rewards
they got.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class StepRecord:
    """What the advantage of one step needs: its state, its reward, whether it was invalid."""

    anchor: str
    reward: float
    invalid: bool = False
    page: str = ""


def discounted_returns(rewards: Sequence[float], gamma: float) -> list[float]:
    """``R_t = r_t + gamma * R_{t+1}``, ``R_T = 0`` past the last step."""
    out, running = [0.0] * len(rewards), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = float(rewards[t]) + gamma * running
        out[t] = running
    return out


def _mean_std(values: Sequence[float], unbiased: bool) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    dof = n - 1 if unbiased else n
    var = sum((v - mean) ** 2 for v in values) / dof if dof > 0 else 0.0
    return mean, math.sqrt(var)


def normalise(values: Sequence[float], use_std: bool = True, unbiased: bool = True, eps: float = 1e-6) -> list[float]:
    """``(v - mean) / (std + eps)``, or ``v - mean``; a single value gives 0."""
    if len(values) < 2:
        return [0.0] * len(values)
    mean, std = _mean_std(values, unbiased)
    scale = (std + eps) if use_std else 1.0
    return [(v - mean) / scale for v in values]


def shaped_rewards(steps: Sequence[StepRecord], invalid_penalty: float) -> list[float]:
    return [s.reward - (invalid_penalty if s.invalid else 0.0) for s in steps]


def episode_advantages(group: Sequence[Sequence[StepRecord]], use_std: bool = True, unbiased: bool = True,
                       episode_stats: str = "trajectory", invalid_penalty: float = 0.0,
                       eps: float = 1e-6) -> list[float]:
    """``A^E`` of each trajectory of one task's group (undiscounted returns)."""
    if episode_stats not in ("trajectory", "step"):
        raise ValueError(f"episode_stats must be 'trajectory' or 'step', not {episode_stats!r}")
    returns = [sum(shaped_rewards(t, invalid_penalty)) for t in group]
    if episode_stats == "trajectory":
        return normalise(returns, use_std, unbiased, eps)
    samples = [r for r, t in zip(returns, group) for _ in range(max(1, len(t)))]
    if len(samples) < 2:
        return [0.0] * len(returns)
    mean, std = _mean_std(samples, unbiased)
    scale = (std + eps) if use_std else 1.0
    return [(r - mean) / scale for r in returns]


def step_advantages(group: Sequence[Sequence[StepRecord]], gamma: float = 0.95, use_std: bool = True,
                    unbiased: bool = True, group_by: str = "anchor", invalid_penalty: float = 0.0,
                    eps: float = 1e-6) -> list[list[float]]:
    """``A^S`` of every step of every trajectory of one task's group."""
    if group_by not in ("anchor", "page"):
        raise ValueError(f"group_by must be 'anchor' or 'page', not {group_by!r}")
    returns = [discounted_returns(shaped_rewards(t, invalid_penalty), gamma) for t in group]
    members: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, traj in enumerate(group):
        for t, step in enumerate(traj):
            members[step.anchor if group_by == "anchor" else step.page].append((i, t))
    out = [[0.0] * len(traj) for traj in group]
    for places in members.values():
        if len(places) < 2:
            continue  # a singleton anchor group: no other step to compare with
        values = normalise([returns[i][t] for i, t in places], use_std, unbiased, eps)
        for (i, t), v in zip(places, values):
            out[i][t] = v
    return out


def gigpo_advantages(group: Sequence[Sequence[StepRecord]], omega: float = 1.0, gamma: float = 0.95,
                     use_std: bool = True, unbiased: bool = True, episode_stats: str = "trajectory",
                     group_by: str = "anchor", invalid_penalty: float = 0.0, eps: float = 1e-6,
                     baseline: str = "group") -> list[list[float]]:
    """``A = A^E + omega * A^S`` for every step of one task's group of trajectories; with
    ``baseline="rloo"`` the episode advantage is RLOO's (``rloo_advantages``) instead of the
    group-normalised one."""
    if baseline == "rloo":
        episode = [a[0] if a else 0.0 for a in rloo_advantages(group, invalid_penalty)]
    elif baseline == "group":
        episode = episode_advantages(group, use_std, unbiased, episode_stats, invalid_penalty, eps)
    else:
        raise ValueError(f"baseline must be 'group' or 'rloo', not {baseline!r}")
    if omega == 0:
        return [[a] * len(traj) for a, traj in zip(episode, group)]
    step = step_advantages(group, gamma, use_std, unbiased, group_by, invalid_penalty, eps)
    return [[a + omega * s for s in steps] for a, steps in zip(episode, step)]


def grpo_advantages(group: Sequence[Sequence[StepRecord]], use_std: bool = True, unbiased: bool = True,
                    episode_stats: str = "trajectory", invalid_penalty: float = 0.0,
                    eps: float = 1e-6) -> list[list[float]]:
    """GRPO: the episode advantage on every step (GiGPO with ``omega = 0``)."""
    return gigpo_advantages(group, omega=0.0, use_std=use_std, unbiased=unbiased, episode_stats=episode_stats,
                            invalid_penalty=invalid_penalty, eps=eps)


def turn_gae(rewards: Sequence[float], values: Sequence[float], gamma: float = 1.0,
             lam: float = 1.0, last_value: float = 0.0) -> tuple[list[float], list[float]]:
    """PPO's generalised advantage estimate over an episode's agent turns (one "time step" per
    reply): ``delta_t = r_t + gamma * V_{t+1} - V_t`` (``V_T = last_value``: 0 after the last
    step, as episodes cut by the step limit are not bootstrapped here either),
    ``A_t = delta_t + gamma * lam * A_{t+1}``; returns ``(advantages, value targets A_t + V_t)``."""
    if len(rewards) != len(values):
        raise ValueError(f"{len(rewards)} rewards but {len(values)} values")
    adv, running = [0.0] * len(rewards), 0.0
    for t in range(len(rewards) - 1, -1, -1):
        next_value = values[t + 1] if t + 1 < len(values) else last_value
        delta = float(rewards[t]) + gamma * next_value - float(values[t])
        running = delta + gamma * lam * running
        adv[t] = running
    return adv, [a + float(v) for a, v in zip(adv, values)]


def rloo_advantages(group: Sequence[Sequence[StepRecord]], invalid_penalty: float = 0.0) -> list[list[float]]:
    """RLOO (Ahmadian et al. 2024): each trajectory's return minus the mean return of the
    *other* trajectories of its group, on every step (a group of one gets 0)."""
    returns = [sum(shaped_rewards(t, invalid_penalty)) for t in group]
    n, total = len(returns), sum(returns)
    if n < 2:
        return [[0.0] * len(t) for t in group]
    return [[r - (total - r) / (n - 1)] * len(t) for r, t in zip(returns, group)]
