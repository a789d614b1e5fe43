"""GRPO/GiGPO advantages against hand-computed examples (trainers.core.advantages)."""

from __future__ import annotations

import math

import pytest

from trainers.core.advantages import (StepRecord, discounted_returns, episode_advantages, gigpo_advantages,
                                      grpo_advantages, normalise, step_advantages)

S = StepRecord
R2 = 1 / math.sqrt(2)  # (x - mean) / sample std for two values: +-1/sqrt(2)


def approx(values, expected, tol=1e-5):
    flat = [v for row in values for v in row] if values and isinstance(values[0], list) else values
    want = [v for row in expected for v in row] if expected and isinstance(expected[0], list) else expected
    return len(flat) == len(want) and all(abs(a - b) < tol for a, b in zip(flat, want))


def test_discounted_returns():
    assert discounted_returns([0, 0, 1], 0.5) == [0.25, 0.5, 1.0]
    assert discounted_returns([1, 1], 1.0) == [2.0, 1.0]
    assert discounted_returns([], 0.9) == []


def test_normalise_sample_and_population_std():
    assert approx(normalise([1.0, 0.0]), [R2, -R2])
    assert approx(normalise([1.0, 0.0], unbiased=False), [1.0, -1.0])
    assert normalise([3.0, 1.0], use_std=False) == [1.0, -1.0]
    assert normalise([5.0]) == [0.0]


# two trajectories of one task; both start in state s0, A then reaches s1 and wins, B reaches s2
A = [S("s0", 0.0, page="search"), S("s1", 1.0, page="item")]
B = [S("s0", 0.0, page="search"), S("s2", 0.0, page="item")]


def test_multi_member_and_singleton_anchor_groups():
    # returns with gamma 0.5: A = [0.5, 1], B = [0, 0]; s0 is shared -> {0.5, 0}; s1, s2 singletons -> 0
    assert approx(step_advantages([A, B], gamma=0.5), [[R2, 0.0], [-R2, 0.0]])
    assert approx(step_advantages([A, B], gamma=0.5, unbiased=False), [[1.0, 0.0], [-1.0, 0.0]])
    assert approx(step_advantages([A, B], gamma=0.5, use_std=False), [[0.25, 0.0], [-0.25, 0.0]])
    # grouping by page pattern: the second steps share "item": returns {1, 0}
    assert approx(step_advantages([A, B], gamma=0.5, group_by="page"), [[R2, R2], [-R2, -R2]])


def test_gigpo_is_episode_plus_omega_step_and_grpo_is_omega_zero():
    # episode returns {1, 0} -> A^E = +-1/sqrt(2)
    assert approx(episode_advantages([A, B]), [R2, -R2])
    assert approx(gigpo_advantages([A, B], omega=1.0, gamma=0.5), [[2 * R2, R2], [-2 * R2, -R2]])
    assert approx(gigpo_advantages([A, B], omega=0.5, gamma=0.5), [[1.5 * R2, R2], [-1.5 * R2, -R2]])
    assert approx(grpo_advantages([A, B]), [[R2, R2], [-R2, -R2]])
    assert approx(gigpo_advantages([A, B], omega=0.0), grpo_advantages([A, B]))


def test_all_equal_rewards_give_zero_everywhere():
    same = [[S("s0", 0.0), S("s1", 1.0)], [S("s0", 0.0), S("s1", 1.0)], [S("s0", 0.0), S("s1", 1.0)]]
    assert approx(gigpo_advantages(same), [[0.0, 0.0]] * 3)
    assert approx(gigpo_advantages([[S("x", 0.0)], [S("x", 0.0)]]), [[0.0], [0.0]])


def test_truncated_episode_is_not_bootstrapped():
    # C was cut by the step limit after two steps in s0 -> s3 (no reward); it just sums what it got
    C = [S("s0", 0.0), S("s3", 0.0)]
    assert approx(step_advantages([A, C], gamma=0.5), [[R2, 0.0], [-R2, 0.0]])
    assert approx(episode_advantages([A, C]), [R2, -R2])


def test_invalid_action_penalty_shapes_the_rewards():
    # D took an invalid action in s0 (state unchanged), then won: returns 1 - 0.1 vs A's 1
    D = [S("s0", 0.0, invalid=True), S("s0", 0.0), S("s1", 1.0)]
    assert approx(episode_advantages([A, D]), [0.0, 0.0])  # no penalty: both returned 1
    assert approx(episode_advantages([A, D], invalid_penalty=0.1), [R2, -R2])
    # step groups with gamma 1 and the penalty: s0 holds A's 1 and D's 0.9 and 1; s1 holds 1 and 1
    got = step_advantages([A, D], gamma=1.0, invalid_penalty=0.1, use_std=False)
    mean = (1.0 + 0.9 + 1.0) / 3
    assert approx(got, [[1.0 - mean, 0.0], [0.9 - mean, 1.0 - mean, 0.0]])


def test_episode_stats_over_step_samples_weighs_longer_trajectories():
    long_loss = [S("a", 0.0), S("b", 0.0), S("c", 0.0)]
    win = [S("a", 1.0)]
    # over samples: returns [1] + [0, 0, 0] -> mean 0.25, sample std 0.5
    assert approx(episode_advantages([win, long_loss], episode_stats="step"), [1.5, -0.5], tol=1e-4)
    assert approx(episode_advantages([win, long_loss], episode_stats="trajectory"), [R2, -R2])
    with pytest.raises(ValueError, match="episode_stats"):
        episode_advantages([win], episode_stats="tokens")
    with pytest.raises(ValueError, match="group_by"):
        step_advantages([win], group_by="text")


def test_turn_gae_by_hand():
    from trainers.core.advantages import turn_gae

    # rewards 0, 0, 1; values 0.5, 0.25, 0.75; gamma 0.9, lambda 0.8
    adv, ret = turn_gae([0.0, 0.0, 1.0], [0.5, 0.25, 0.75], gamma=0.9, lam=0.8)
    d2 = 1.0 - 0.75                  # terminal: no next value
    d1 = 0.0 + 0.9 * 0.75 - 0.25
    d0 = 0.0 + 0.9 * 0.25 - 0.5
    a2 = d2
    a1 = d1 + 0.72 * a2
    a0 = d0 + 0.72 * a1
    assert adv == pytest.approx([a0, a1, a2])
    assert ret == pytest.approx([a0 + 0.5, a1 + 0.25, a2 + 0.75])
    # lambda = 1, gamma = 1: advantage = return-to-go - V
    adv, ret = turn_gae([0.0, 1.0], [0.2, 0.6])
    assert adv == pytest.approx([0.8, 0.4]) and ret == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError):
        turn_gae([0.0], [0.0, 1.0])


def test_rloo_leaves_one_out():
    from trainers.core.advantages import StepRecord, rloo_advantages

    group = [[StepRecord("a", 0.0), StepRecord("b", 1.0)], [StepRecord("a", 0.0)],
             [StepRecord("a", 0.0, invalid=True), StepRecord("c", 0.0)]]
    # returns 1, 0, -0.5 (penalty 0.5): baselines (0 - 0.5)/2, (1 - 0.5)/2, (1 + 0)/2
    out = rloo_advantages(group, invalid_penalty=0.5)
    assert out == [[pytest.approx(1.25)] * 2, [pytest.approx(-0.25)], [pytest.approx(-1.0)] * 2]
    assert rloo_advantages([[StepRecord("a", 1.0)]]) == [[0.0]]


def test_gigpo_with_the_rloo_baseline():
    from trainers.core.advantages import StepRecord, rloo_advantages, step_advantages

    group = [[StepRecord("a", 0.0), StepRecord("b", 1.0)], [StepRecord("a", 0.0)], [StepRecord("a", 0.0)]]
    assert gigpo_advantages(group, omega=0.0, baseline="rloo") == rloo_advantages(group)
    steps = step_advantages(group, gamma=0.95)
    expected = [[e[0] + 0.5 * s for s in st] for e, st in zip(rloo_advantages(group), steps)]
    assert approx(gigpo_advantages(group, omega=0.5, baseline="rloo"), expected)
    with pytest.raises(ValueError, match="baseline"):
        gigpo_advantages(group, baseline="vtrace")
