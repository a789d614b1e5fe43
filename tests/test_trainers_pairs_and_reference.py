"""Preference trainers: pairs the right way round (DPO/ETO: chosen = the higher reward; SPIN:
the expert's trajectory is the real one whatever the rewards) and DPO's reference pass (no
autograd graph, the policy's precision), on hand-made trajectories and a tiny model."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from trainers import dpo, eto, spin  # noqa: E402
from trainers.core.data import StepSample, TrajectorySample  # noqa: E402


def _traj(task, reply, reward, source):
    return TrajectorySample(task, [StepSample([{"role": "user", "content": f"task {task}"}], reply)], reward=reward,
                            source=source)


EXPERT = [_traj(0, "a", 1.0, "expert"), _traj(1, "b", 0.5, "expert"), _traj(2, "c", 1.0, "expert"),
          _traj(3, "d", 1.0, "expert")]
POLICY = [_traj(0, "x", 0.0, "policy"), _traj(1, "y", 1.0, "policy"), _traj(2, "z", 1.0, "policy"),
          _traj(3, "d", 0.2, "policy"), _traj(9, "q", 1.0, "policy")]


def test_dpo_and_eto_pairs_choose_the_higher_reward_and_drop_ties():
    for build in (dpo.make_pairs, eto.expert_vs_policy_pairs):
        pairs = build(EXPERT, POLICY)
        got = [(p.task_id, p.chosen.source, p.rejected.source) for p in pairs]
        # task 0: expert 1 > policy 0; task 1: policy 1 > expert 0.5; task 2: a tie (dropped);
        # task 3: expert 1 > policy 0.2; task 9: no expert trajectory
        assert got == [(0, "expert", "policy"), (1, "policy", "expert"), (3, "expert", "policy")]
        assert [(p.chosen.reward, p.rejected.reward) for p in pairs] == [(1.0, 0.0), (1.0, 0.5), (1.0, 0.2)]


def test_spin_pairs_the_expert_as_real_whatever_the_rewards():
    pairs = spin.real_vs_generated_pairs(EXPERT, POLICY)
    # every task with an expert trajectory, the expert always chosen (task 1: though the policy
    # scored higher; task 2: a tie), except task 3 where the replies are identical
    assert [(p.task_id, p.chosen.source, p.rejected.source) for p in pairs] == [
        (0, "expert", "policy"), (1, "expert", "policy"), (2, "expert", "policy")]
    assert [p.chosen.steps[0].response for p in pairs] == ["a", "b", "c"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    path = build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny") / "m",
                                          texts=["task 0 a x task 1 b y task 2 c z"] * 20, vocab_size=300)
    return path


def _encoded(n=3):
    g = torch.Generator().manual_seed(0)

    def traj(lengths):
        return [{"input_ids": torch.randint(5, 250, (k,), generator=g).tolist(), "labels_mask": [0] * (k - 4) + [1] * 4}
                for k in lengths]
    return [{"chosen": traj([12, 9]), "rejected": traj([10])} for _ in range(n)]


def test_the_reference_pass_builds_no_graph(tiny, monkeypatch):
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32)
    seen = []
    forward = model.forward

    def spy(*args, **kwargs):
        seen.append(torch.is_grad_enabled())
        return forward(*args, **kwargs)
    monkeypatch.setattr(model, "forward", spy)
    bf16 = torch.autocast("cpu", dtype=torch.bfloat16)
    for ctx in (None, bf16):
        dpo.reference_logps(model, _encoded(), 0, micro_batch=2, ctx=ctx)
    assert seen and not any(seen)
    # the policy's pass (the caller's grad mode) still builds one
    sums, _ = dpo.trajectory_logps(model, [_encoded()[0]["chosen"]], 0, 2)
    assert sums.requires_grad


def test_the_reference_is_scored_in_the_policys_precision(tiny):
    """A bfloat16 run: the reference log-probs must equal the policy's first-step log-probs
    bit for bit (every log-ratio 0), which float32 reference log-probs do not."""
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32)
    enc = _encoded()
    bf16 = torch.autocast("cpu", dtype=torch.bfloat16)
    ref = dpo.reference_logps(model, enc, 0, micro_batch=2, ctx=bf16)
    with torch.no_grad():
        trajs = [p["chosen"] for p in enc] + [p["rejected"] for p in enc]
        now, _ = dpo.trajectory_logps(model, trajs, 0, 2, torch.autocast("cpu", dtype=torch.bfloat16))
    n = len(enc)
    assert [[float(now[i]), float(now[n + i])] for i in range(n)] == ref
    fp32 = dpo.reference_logps(model, enc, 0, micro_batch=2)
    assert max(abs(a - b) for r, f in zip(ref, fp32) for a, b in zip(r, f)) > 1e-4


def test_a_bfloat16_dpo_run_starts_with_zero_margin(tiny, tmp_path):
    """The train loop passes its precision to the reference pass: the first step's margin,
    measured before any update, is exactly 0."""
    pairs = dpo.make_pairs(EXPERT[:2], POLICY[:2])
    result = dpo.train(dpo.DPOConfig(model=str(tiny), output_dir=str(tmp_path), dtype="bfloat16", device="cpu",
                                     epochs=1, batch_size=2, grad_accum=1, lr=1e-3, progress=False, save_every=0,
                                     history=0), pairs)
    assert result["step"] == 1 and result["margin"] == 0.0


def _demo(task, won, reward):
    return TrajectorySample(task, [StepSample([{"role": "user", "content": "t"}], "r")], reward=reward, won=won,
                            source="expert")


def test_rft_and_nat_do_not_train_on_failed_demos_as_successes():
    from trainers import nat, rft

    demos = [_demo(0, True, 1.0), _demo(1, False, 0.4), _demo(2, True, 1.0)]
    sampled = [_traj(3, "s", 1.0, "policy"), _traj(4, "f", 0.0, "policy")]
    # RFT: the won demos and the kept samples; --no-only-won: every demo, as SFT's
    assert [t.task_id for t in rft.training_set(demos, sampled[:1])] == [0, 2, 3]
    assert [t.task_id for t in rft.training_set(demos, sampled[:1], only_won=False)] == [0, 1, 2, 3]
    assert [t.task_id for t in rft.training_set(demos, sampled[:1], include_demos=False)] == [3]
    # NAT: successes = won demos + samples reaching the threshold; the failed demo is left out,
    # or (--no-only-won) joins the failures, never the successes
    config = nat.NATConfig(model="m", demos="d", max_negative_ratio=1.0)
    good, bad = nat.outcome_sets(demos, sampled, config)
    assert [t.task_id for t in good] == [0, 2, 3] and [t.task_id for t in bad] == [4]
    config.only_won = False
    good, bad = nat.outcome_sets(demos, sampled, config)
    assert [t.task_id for t in good] == [0, 2, 3] and sorted(t.task_id for t in bad) == [1, 4]


def _long(task, n, reward, source):
    steps = [StepSample([{"role": "user", "content": f"o{i}"}], f"r{i}") for i in range(n)]
    return TrajectorySample(task, steps, reward=reward, source=source)


def test_eto_cuts_the_rejected_trajectory_and_follows_its_round_schedule():
    """ETO's construct_preference.py: a losing policy trajectory keeps at most the golden
    trajectory's turns + 5; a winning one is not cut. run_eto.sh: round 1 beta 0.1 / lr 1e-6,
    later rounds beta 0.5 / lr 5e-7."""
    expert = [_long(0, 2, 1.0, "expert"), _long(1, 1, 0.5, "expert")]
    policy = [_long(0, 10, 0.0, "policy"), _long(1, 9, 1.0, "policy")]
    pairs = eto.expert_vs_policy_pairs(expert, policy, extra_turns=5)
    assert [(p.chosen.source, len(p.chosen.steps), len(p.rejected.steps)) for p in pairs] == [
        ("expert", 2, 7), ("policy", 9, 1)]
    assert [s.response for s in pairs[0].rejected.steps] == [f"r{i}" for i in range(7)]  # the first turns
    assert len(policy[0].steps) == 10  # the explored trajectory itself is left whole
    uncut = eto.expert_vs_policy_pairs(expert, policy, extra_turns=-1)
    assert [len(p.rejected.steps) for p in uncut] == [10, 1]
    c = eto.ETOConfig()
    assert c.rejected_extra_turns == 5 and c.rounds == 3 and c.epochs == 3
    assert [eto.round_settings(c, r) for r in range(3)] == [(0.1, 1e-6), (0.5, 5e-7), (0.5, 5e-7)]
    s = spin.SPINConfig(lr=1e-3)
    assert [spin_round for spin_round in (eto.round_settings(s, 0), eto.round_settings(s, 2))] == [(0.1, 1e-3)] * 2
