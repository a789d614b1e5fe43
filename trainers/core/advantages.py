"""Group-relative advantages: GRPO's per episode, GiGPO's per episode and per anchor state.

GiGPO (Feng et al. 2025, "Group-in-Group Policy Optimization for LLM Agent Training") plays a
group of ``G`` trajectories of one task and gives every step two advantages:

* the **episode** advantage ``A^E``: the trajectory's return, normalised within its group
  (``(R - mean) / std``, or ``R - mean`` with ``use_std=False``, the variant without the std
  that the paper also reports);
* the **step** advantage ``A^S``: the steps of the group's trajectories that start from the
  same environment state form an anchor group; each step's discounted return from that state,
  ``R_t = sum_k gamma^k r_{t+k}``, is normalised within its anchor group. A step whose state no
  other step of the group visited is a singleton: ``A^S = 0``.

and uses ``A = A^E + omega * A^S`` for every token of that step's reply. GRPO is ``omega = 0``
on the same code.

What the published numbers used is verl-agent's code (github.com/langfengQ/verl-agent, read
in ``gigpo/core_gigpo.py``, ``verl/trainer/ppo/ray_trainer.py``,
``agent_system/reward_manager/episode.py``); these are its semantics, and our defaults:

* **Invalid-action penalty** (``penalty="sample"``, the default). Returns and episode scores
  come from the environment's rewards; an invalid step's *own* sample then pays
  ``invalid_penalty`` on its episode score and on its step return
  (``apply_invalid_action_penalty`` subtracts it from that sample's token-level score and
  ``step_rewards`` after both were computed). A trajectory with an early invalid step thus
  gives its later valid steps the same advantages as an equal trajectory without it.
  ``penalty="return"`` is our earlier alternative: the penalty shapes the step reward before
  returns are summed and discounted, so it also lowers the episode advantage and every earlier
  step's return (a per-trajectory cost of invalid actions; PPO's GAE works this way).
* **Episode statistics** (``episode_stats``): ``"step"`` (verl-agent's
  ``compute_mean_std_cross_steps=True``, "more stable" in its comments, what the published
  runs used) pools the group's step samples, each carrying its trajectory's score (longer
  trajectories weigh more, and a penalised sample counts with its penalty); ``"trajectory"``
  pools the ``G`` trajectory returns (the paper's Eq. 3). Each sample's advantage is its own
  (penalised) score minus the mean, over the std. Its ``mode`` switch is our ``use_std``
  (``mean_std_norm`` / ``mean_norm``; its WebShop script uses ``mean_norm``). With
  ``"trajectory"`` the penalty is subtracted after normalising: a group whose returns are all
  equal has a zero std, and a penalised score divided by it would be ~1e5 (verl-agent's
  non-default ``compute_mean_std_cross_steps=False`` path pools the first sample of each
  trajectory and can do that).
* **A pool of one value** (a group of one trajectory; with ``"step"`` stats, of one step):
  verl-agent takes mean 0 and std 1, so the advantage is the raw score (no baseline), not 0.
  A step anchor group of one gets 0 (its mean is its own return).
* **Anchor groups** (``group_by``): ``"anchor"`` groups steps whose states are equal
  (``info["anchor"]``, a digest of the page as the agent sees it; verl-agent hashes the
  observation text); ``"similar"`` groups observations whose ``difflib.SequenceMatcher``
  ratio is at least ``similarity_threshold`` (verl-agent's ``enable_similarity``, default
  threshold 0.95): steps are visited in order and join the first cluster whose first member
  is that similar, else start one; ``"page"`` groups by page pattern (``info["page"]``:
  every item page of a group together), a much coarser grouping of ours that neither the
  paper nor verl-agent has.
* ``unbiased=True`` uses the sample standard deviation (``torch.std``'s default, as verl-agent
  does), ``False`` the population one. A pool whose values are all equal gets 0 everywhere
  (``eps`` keeps the division finite).

Episodes cut by the step limit (truncated) are not bootstrapped: their returns sum the rewards
they got.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

PENALTY_MODES = ("sample", "return")
EPISODE_STATS = ("step", "trajectory")
GROUP_BY = ("anchor", "similar", "page")


@dataclass(frozen=True)
class StepRecord:
    """What the advantage of one step needs: its state (anchor digest, page pattern and the
    observation text, for similarity grouping), its environment reward, whether it was
    invalid."""

    anchor: str
    reward: float
    invalid: bool = False
    page: str = ""
    observation: str = ""


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
    """Each step's reward minus the penalty if it was invalid (``penalty="return"``, PPO)."""
    return [s.reward - (invalid_penalty if s.invalid else 0.0) for s in steps]


def _check(penalty: str, episode_stats: str | None = None, group_by: str | None = None) -> None:
    if penalty not in PENALTY_MODES:
        raise ValueError(f"penalty must be one of {PENALTY_MODES}, not {penalty!r}")
    if episode_stats is not None and episode_stats not in EPISODE_STATS:
        raise ValueError(f"episode_stats must be one of {EPISODE_STATS}, not {episode_stats!r}")
    if group_by is not None and group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, not {group_by!r}")


def _own_penalty(step: StepRecord, invalid_penalty: float, penalty: str) -> float:
    return invalid_penalty if (penalty == "sample" and step.invalid) else 0.0


def trajectory_returns(group: Sequence[Sequence[StepRecord]], invalid_penalty: float = 0.0,
                       penalty: str = "sample") -> list[float]:
    """Each trajectory's undiscounted return: its environment rewards (``"sample"``), or the
    rewards shaped by the penalty (``"return"``)."""
    _check(penalty)
    return [sum(shaped_rewards(t, invalid_penalty if penalty == "return" else 0.0)) for t in group]


def episode_advantages(group: Sequence[Sequence[StepRecord]], use_std: bool = True, unbiased: bool = True,
                       episode_stats: str = "step", invalid_penalty: float = 0.0, penalty: str = "sample",
                       eps: float = 1e-6) -> list[list[float]]:
    """``A^E`` of every step of every trajectory of one task's group (undiscounted returns;
    a step's score is its trajectory's return minus, with ``penalty="sample"``, its own
    penalty)."""
    _check(penalty, episode_stats)
    returns = trajectory_returns(group, invalid_penalty, penalty)
    own = [[_own_penalty(s, invalid_penalty, penalty) for s in t] for t in group]
    if episode_stats == "step":  # verl-agent: the penalised scores are the pool and are normalised
        scores = [[r - p for p in row] for r, row in zip(returns, own)]
        pool = [v for row in scores for v in row]
        after = [[0.0] * len(row) for row in own]
    else:  # the returns are the pool; the penalty is subtracted after normalising (never divided
        scores = [[r] * len(row) for r, row in zip(returns, own)]  # by a zero std)
        pool, after = returns, own
    if not pool:
        return [[] for _ in group]
    if len(pool) == 1:
        mean, std = 0.0, 1.0  # verl-agent: no baseline for a pool of one (the raw score)
    else:
        mean, std = _mean_std(pool, unbiased)
    scale = (std + eps) if use_std else 1.0
    return [[(v - mean) / scale - p for v, p in zip(row, prow)] for row, prow in zip(scores, after)]


def similar(a: str, b: str, threshold: float) -> bool:
    """``difflib.SequenceMatcher(None, a, b).ratio() >= threshold`` (verl-agent's
    ``are_similar``); the cheap upper bounds are tried first, which changes no answer."""
    m = SequenceMatcher(None, a, b)
    return m.real_quick_ratio() >= threshold and m.quick_ratio() >= threshold and m.ratio() >= threshold


def anchor_groups(group: Sequence[Sequence[StepRecord]], group_by: str = "anchor",
                  similarity_threshold: float = 0.95) -> list[list[tuple[int, int]]]:
    """The step groups of one task's group: lists of ``(trajectory, step)`` places, in the
    order their first members were met (trajectory by trajectory, step by step)."""
    _check("sample", group_by=group_by)
    places = [(i, t) for i, traj in enumerate(group) for t in range(len(traj))]
    if group_by != "similar":
        clusters: dict[str, list[tuple[int, int]]] = {}
        for i, t in places:
            step = group[i][t]
            clusters.setdefault(step.anchor if group_by == "anchor" else step.page, []).append((i, t))
        return list(clusters.values())
    if not 0.0 < similarity_threshold <= 1.0:
        raise ValueError(f"similarity_threshold must lie in (0, 1], got {similarity_threshold}")
    reps: list[str] = []
    out: list[list[tuple[int, int]]] = []
    for i, t in places:
        text = group[i][t].observation
        for k, rep in enumerate(reps):
            if similar(text, rep, similarity_threshold):
                out[k].append((i, t))
                break
        else:
            reps.append(text)
            out.append([(i, t)])
    return out


def step_advantages(group: Sequence[Sequence[StepRecord]], gamma: float = 0.95, use_std: bool = True,
                    unbiased: bool = True, group_by: str = "anchor", invalid_penalty: float = 0.0,
                    penalty: str = "sample", similarity_threshold: float = 0.95,
                    eps: float = 1e-6, groups: list[list[tuple[int, int]]] | None = None) -> list[list[float]]:
    """``A^S`` of every step of every trajectory of one task's group (``groups``: the step
    groups if already computed by ``anchor_groups``)."""
    _check(penalty, group_by=group_by)
    shaping = invalid_penalty if penalty == "return" else 0.0
    returns = [[r - _own_penalty(s, invalid_penalty, penalty)
                for r, s in zip(discounted_returns(shaped_rewards(t, shaping), gamma), t)] for t in group]
    out = [[0.0] * len(traj) for traj in group]
    for places in groups if groups is not None else anchor_groups(group, group_by, similarity_threshold):
        if len(places) < 2:
            continue  # a singleton anchor group: its mean is its own return
        values = normalise([returns[i][t] for i, t in places], use_std, unbiased, eps)
        for (i, t), v in zip(places, values):
            out[i][t] = v
    return out


def gigpo_advantages(group: Sequence[Sequence[StepRecord]], omega: float = 1.0, gamma: float = 0.95,
                     use_std: bool = True, unbiased: bool = True, episode_stats: str = "step",
                     group_by: str = "anchor", invalid_penalty: float = 0.0, penalty: str = "sample",
                     similarity_threshold: float = 0.95, eps: float = 1e-6,
                     baseline: str = "group", groups: list[list[tuple[int, int]]] | None = None) -> list[list[float]]:
    """``A = A^E + omega * A^S`` for every step of one task's group of trajectories; with
    ``baseline="rloo"`` the episode advantage is RLOO's (``rloo_advantages``) instead of the
    group-normalised one."""
    if baseline == "rloo":
        episode = rloo_advantages(group, invalid_penalty, penalty)
    elif baseline == "group":
        episode = episode_advantages(group, use_std, unbiased, episode_stats, invalid_penalty, penalty, eps)
    else:
        raise ValueError(f"baseline must be 'group' or 'rloo', not {baseline!r}")
    if omega == 0:
        return episode
    step = step_advantages(group, gamma, use_std, unbiased, group_by, invalid_penalty, penalty,
                           similarity_threshold, eps, groups)
    return [[a + omega * s for a, s in zip(ea, sa)] for ea, sa in zip(episode, step)]


def grpo_advantages(group: Sequence[Sequence[StepRecord]], use_std: bool = True, unbiased: bool = True,
                    episode_stats: str = "step", invalid_penalty: float = 0.0, penalty: str = "sample",
                    eps: float = 1e-6) -> list[list[float]]:
    """GRPO: the episode advantage on every step (GiGPO with ``omega = 0``)."""
    return gigpo_advantages(group, omega=0.0, use_std=use_std, unbiased=unbiased, episode_stats=episode_stats,
                            invalid_penalty=invalid_penalty, penalty=penalty, eps=eps)


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


def rloo_advantages(group: Sequence[Sequence[StepRecord]], invalid_penalty: float = 0.0,
                    penalty: str = "sample") -> list[list[float]]:
    """RLOO (Ahmadian et al. 2024): each trajectory's return minus the mean return of the
    *other* trajectories of its group, on every step (a group of one gets 0); with
    ``penalty="sample"`` an invalid step's sample also pays its own penalty."""
    returns = trajectory_returns(group, invalid_penalty, penalty)
    n, total = len(returns), sum(returns)
    if n < 2:
        return [[0.0] * len(t) for t in group]
    return [[r - (total - r) / (n - 1) - _own_penalty(s, invalid_penalty, penalty) for s in t]
            for r, t in zip(returns, group)]
