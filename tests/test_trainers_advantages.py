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
    T = "trajectory"
    # over the two trajectories: returns {1, 0} -> A^E = +-1/sqrt(2) on every step
    assert approx(episode_advantages([A, B], episode_stats=T), [[R2, R2], [-R2, -R2]])
    assert approx(gigpo_advantages([A, B], omega=1.0, gamma=0.5, episode_stats=T), [[2 * R2, R2], [-2 * R2, -R2]])
    assert approx(gigpo_advantages([A, B], omega=0.5, gamma=0.5, episode_stats=T),
                  [[1.5 * R2, R2], [-1.5 * R2, -R2]])
    assert approx(grpo_advantages([A, B], episode_stats=T), [[R2, R2], [-R2, -R2]])
    # over the four step samples (the default, verl-agent's): {1, 1, 0, 0}, mean 1/2, sample std
    # sqrt(1/3) -> +-(1/2) / sqrt(1/3) = +-sqrt(3)/2
    h = math.sqrt(3) / 2
    assert approx(episode_advantages([A, B]), [[h, h], [-h, -h]])
    assert approx(gigpo_advantages([A, B], omega=1.0, gamma=0.5), [[h + R2, h], [-h - R2, -h]])
    assert approx(gigpo_advantages([A, B], omega=0.0), grpo_advantages([A, B]))


def test_all_equal_rewards_give_zero_everywhere():
    same = [[S("s0", 0.0), S("s1", 1.0)], [S("s0", 0.0), S("s1", 1.0)], [S("s0", 0.0), S("s1", 1.0)]]
    assert approx(gigpo_advantages(same), [[0.0, 0.0]] * 3)
    assert approx(gigpo_advantages([[S("x", 0.0)], [S("x", 0.0)]]), [[0.0], [0.0]])


def test_truncated_episode_is_not_bootstrapped():
    # C was cut by the step limit after two steps in s0 -> s3 (no reward); it just sums what it got
    C = [S("s0", 0.0), S("s3", 0.0)]
    assert approx(step_advantages([A, C], gamma=0.5), [[R2, 0.0], [-R2, 0.0]])
    assert approx(episode_advantages([A, C], episode_stats="trajectory"), [[R2, R2], [-R2, -R2]])


def test_invalid_action_penalty_with_penalty_on_return_shapes_the_rewards():
    # our alternative (penalty="return"): D's invalid step in s0 lowers its return to 1 - 0.1
    D = [S("s0", 0.0, invalid=True), S("s0", 0.0), S("s1", 1.0)]
    T = "trajectory"
    assert approx(episode_advantages([A, D], episode_stats=T), [[0.0] * 2, [0.0] * 3])  # both returned 1
    assert approx(episode_advantages([A, D], episode_stats=T, invalid_penalty=0.1, penalty="return"),
                  [[R2] * 2, [-R2] * 3])
    # step groups with gamma 1: s0 holds A's 1 and D's 0.9 (the penalty is in the return of
    # its step and would be in every earlier one) and 1; s1 holds 1 and 1
    got = step_advantages([A, D], gamma=1.0, invalid_penalty=0.1, penalty="return", use_std=False)
    mean = (1.0 + 0.9 + 1.0) / 3
    assert approx(got, [[1.0 - mean, 0.0], [0.9 - mean, 1.0 - mean, 0.0]])


def test_episode_stats_over_step_samples_weighs_longer_trajectories():
    long_loss = [S("a", 0.0), S("b", 0.0), S("c", 0.0)]
    win = [S("a", 1.0)]
    # over samples: returns [1] + [0, 0, 0] -> mean 0.25, sample std 0.5
    assert approx(episode_advantages([win, long_loss], episode_stats="step"), [[1.5], [-0.5] * 3], tol=1e-4)
    assert approx(episode_advantages([win, long_loss], episode_stats="trajectory"), [[R2], [-R2] * 3])
    with pytest.raises(ValueError, match="episode_stats"):
        episode_advantages([win], episode_stats="tokens")
    with pytest.raises(ValueError, match="group_by"):
        step_advantages([win], group_by="text")
    with pytest.raises(ValueError, match="penalty"):
        episode_advantages([win], penalty="episode")


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
    # penalty="return": returns 1, 0, -0.5: baselines (0 - 0.5)/2, (1 - 0.5)/2, (1 + 0)/2
    out = rloo_advantages(group, invalid_penalty=0.5, penalty="return")
    assert out == [[pytest.approx(1.25)] * 2, [pytest.approx(-0.25)], [pytest.approx(-1.0)] * 2]
    # penalty="sample" (default): returns 1, 0, 0: baselines 0, 1/2, 1/2; the invalid step's
    # own sample then pays 0.5
    out = rloo_advantages(group, invalid_penalty=0.5)
    assert out == [[pytest.approx(1.0)] * 2, [pytest.approx(-0.5)], [pytest.approx(-1.0), pytest.approx(-0.5)]]
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


# --- verl-agent's semantics (gigpo/core_gigpo.py, ray_trainer.apply_invalid_action_penalty) ---------

def test_an_early_invalid_step_costs_only_its_own_sample():
    """Three trajectories of one task, gamma 0.5, penalty 0.1. X tries an invalid action in s0
    (the state does not change), then plays exactly as Y: s0 -> s1 -> win (reward 1). Z loses.
    verl-agent sums the env's rewards for the episode score and discounts them for the step
    returns, then subtracts the penalty from the invalid sample's own score and return."""
    X = [S("s0", 0.0, invalid=True), S("s0", 0.0), S("s1", 1.0)]
    Y = [S("s0", 0.0), S("s1", 1.0)]
    Z = [S("s0", 0.0), S("s2", 0.0)]
    group = [X, Y, Z]
    # episode scores per sample: X [0.9, 1, 1], Y [1, 1], Z [0, 0]
    # over trajectories: returns {1, 1, 0}, mean 2/3
    ep_t = episode_advantages(group, use_std=False, episode_stats="trajectory", invalid_penalty=0.1)
    assert approx(ep_t, [[0.9 - 2 / 3, 1 / 3, 1 / 3], [1 / 3, 1 / 3], [-2 / 3, -2 / 3]])
    # over the 7 step samples: sum 4.9, mean 0.7
    ep_s = episode_advantages(group, use_std=False, invalid_penalty=0.1)
    assert approx(ep_s, [[0.2, 0.3, 0.3], [0.3, 0.3], [-0.7, -0.7]])
    # with the std: sample std of {0.9, 1, 1, 1, 1, 0, 0} = sqrt(1.38 / 6)
    sd = math.sqrt(1.38 / 6)
    assert approx(episode_advantages(group, invalid_penalty=0.1),
                  [[0.2 / sd, 0.3 / sd, 0.3 / sd], [0.3 / sd, 0.3 / sd], [-0.7 / sd, -0.7 / sd]])
    # step returns (gamma 0.5): X [0.25 - 0.1, 0.5, 1], Y [0.5, 1], Z [0, 0]
    # s0 = {0.15, 0.5, 0.5, 0}: mean 0.2875; s1 = {1, 1}: 0; s2 = {0}: singleton
    st = step_advantages(group, gamma=0.5, use_std=False, invalid_penalty=0.1)
    assert approx(st, [[0.15 - 0.2875, 0.5 - 0.2875, 0.0], [0.5 - 0.2875, 0.0], [-0.2875, 0.0]])
    full = gigpo_advantages(group, gamma=0.5, use_std=False, invalid_penalty=0.1)
    assert approx(full, [[0.2 - 0.1375, 0.3 + 0.2125, 0.3], [0.3 + 0.2125, 0.3], [-0.7 - 0.2875, -0.7]])
    # the point: X's later valid steps get exactly Y's advantages, with and without the std
    for kwargs in ({}, {"use_std": False}, {"episode_stats": "trajectory"}):
        adv = gigpo_advantages(group, gamma=0.5, invalid_penalty=0.1, **kwargs)
        assert adv[0][1:] == pytest.approx(adv[1], abs=1e-9)
    # the old behaviour (penalty on the return) breaks that: X's return is 0.9
    old = gigpo_advantages(group, gamma=0.5, invalid_penalty=0.1, penalty="return")
    assert abs(old[0][2] - old[1][1]) > 0.05


def test_a_pool_of_one_gets_no_baseline_as_in_verl_agent():
    """verl-agent's episode_norm_reward: one score in the pool -> mean 0, std 1 (the raw score)."""
    one = [[S("a", 0.0), S("b", 1.0)]]
    assert approx(episode_advantages(one, episode_stats="trajectory"), [[1 / (1 + 1e-6)] * 2])
    assert approx(episode_advantages(one, episode_stats="trajectory", use_std=False), [[1.0, 1.0]])
    # over step samples the pool is {1, 1}: mean 1 -> 0
    assert approx(episode_advantages(one), [[0.0, 0.0]])
    # a single one-step trajectory: a pool of one either way
    assert approx(episode_advantages([[S("a", 1.0)]], use_std=False), [[1.0]])
    # the penalty still reaches the invalid sample: scores 0.9 and 1, pool {1}
    bad = [[S("a", 0.0, invalid=True), S("b", 1.0)]]
    assert approx(grpo_advantages(bad, use_std=False, episode_stats="trajectory", invalid_penalty=0.1),
                  [[0.9, 1.0]])
    # an anchor group of one still gets A^S = 0 (its mean is its own return)
    assert approx(step_advantages(one, gamma=0.5), [[0.0, 0.0]])


def test_similarity_grouping_by_sequence_matcher_ratio():
    """ratio = 2 M / (len a + len b): "abcdefghij" vs "abcdefghiX": 2*9/20 = 0.9;
    vs "abcdefghXX": 2*8/20 = 0.8; "abcdefghiX" vs "abcdefghXX": 2*9/20 = 0.9."""
    from trainers.core.advantages import anchor_groups, similar

    a, b, d = "abcdefghij", "abcdefghiX", "abcdefghXX"
    assert similar(a, b, 0.9) and not similar(a, b, 0.95) and not similar(a, d, 0.85) and similar(b, d, 0.9)
    group = [[S("x1", 1.0, observation=a)], [S("x2", 0.0, observation=b)], [S("x3", 0.0, observation=d)]]
    # every anchor differs: exact grouping leaves three singletons
    assert approx(step_advantages(group, use_std=False), [[0.0], [0.0], [0.0]])
    # at 0.9, b joins a's cluster; d is compared with the cluster's first member a (0.8), not
    # with b, so it starts its own (verl-agent's build_step_group)
    assert anchor_groups(group, "similar", 0.9) == [[(0, 0), (1, 0)], [(2, 0)]]
    assert approx(step_advantages(group, use_std=False, group_by="similar", similarity_threshold=0.9),
                  [[0.5], [-0.5], [0.0]])
    assert anchor_groups(group, "similar", 0.95) == [[(0, 0)], [(1, 0)], [(2, 0)]]
    assert anchor_groups(group, "similar", 0.8) == [[(0, 0), (1, 0), (2, 0)]]
    with pytest.raises(ValueError, match="similarity_threshold"):
        anchor_groups(group, "similar", 0.0)


def test_policy_log_ratio_and_k3_are_clamped_as_in_verl():
    import torch

    from trainers.core.rl_losses import kl_k3, policy_loss

    one = torch.ones(1, 1)
    # log-ratio 30 on a bad action (A = -1), no dual clip: the loss is -A * exp(20), not exp(30)
    loss, _ = policy_loss(torch.full((1, 1), 30.0), torch.zeros(1, 1), -one[:, 0], one, dual_clip=None)
    assert loss.item() == pytest.approx(math.exp(20.0), rel=1e-5)
    # k3 = exp(d) - d - 1 with d = ref - logp, bounded to [-10, 10]
    ref = torch.tensor([[2.0, 3.0, 40.0]])
    got = kl_k3(torch.zeros(1, 3), ref)
    assert got[0].tolist() == pytest.approx([math.exp(2) - 3, 10.0, 10.0], rel=1e-5)


def test_kl_and_entropy_use_the_policy_losss_aggregation():
    """Two replies, right-aligned in a [2, 3] batch: one of 1 token, one of 3. The KL to the
    reference is e - 2 on the short reply's token and 0 elsewhere; the entropy is 2 on that
    token and 0 elsewhere. token-mean: (e - 2) / 4 and 2 / 4; seq-mean-token-mean: (e - 2) / 2
    and 2 / 2 (verl's agg_loss with the actor's loss_agg_mode on each term)."""
    import torch

    from trainers.core.online import OnlineConfig, ppo_objective

    mask = torch.tensor([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    logp = torch.zeros(2, 3)
    ref = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    ent = torch.tensor([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    adv = torch.zeros(2)  # the policy term is 0
    k = math.e - 2
    for how, kl, entropy in (("token-mean", k / 4, 0.5), ("seq-mean-token-mean", k / 2, 1.0)):
        c = OnlineConfig(model="m", kl_coef=1.0, entropy_coef=0.1, loss_agg=how)
        loss, stats = ppo_objective(c, logp, logp, adv, mask, ent, ref)
        assert stats["kl"] == pytest.approx(kl) and stats["entropy"] == pytest.approx(entropy)
        assert loss.item() == pytest.approx(kl - 0.1 * entropy)


def test_an_all_failed_group_with_an_invalid_step_stays_bounded():
    """Eight failures (returns 0), one invalid step. Over step samples (verl-agent) the pool is
    {-0.1, 0 x 15}: mean -1/160, sample std sqrt((0.1^2 - 16 (1/160)^2) / 15); over trajectories
    the std is 0, so the penalty is taken after normalising: -0.1, not -0.1 / 1e-6."""
    group = [[S("s0", 0.0, invalid=True), S("s1", 0.0)]] + [[S("s0", 0.0), S("s2", 0.0)] for _ in range(7)]
    mean = -0.1 / 16
    sd = math.sqrt((0.01 - 16 * mean ** 2) / 15)
    got = episode_advantages(group, invalid_penalty=0.1)
    assert sd == pytest.approx(0.025)  # so the invalid sample gets -0.09375 / 0.025 = -3.75
    assert got[0][0] == pytest.approx((-0.1 - mean) / (sd + 1e-6)) and got[1][0] == pytest.approx(-mean / (sd + 1e-6))
    got = episode_advantages(group, invalid_penalty=0.1, episode_stats="trajectory")
    assert got[0] == pytest.approx([-0.1, 0.0]) and all(v == 0.0 for row in got[1:] for v in row)
