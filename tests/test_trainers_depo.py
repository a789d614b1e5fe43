"""DEPO-style training (trainers/depo.py): labels and the efficiency bonus by hand; under
``-m slow``, the learning check on KeyDoor (fewer steps per won episode and fewer tokens per
step than its SFT start, success not lower), exact resume and the command line."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from trainers import depo  # noqa: E402
from trainers.core.data import StepSample, TrajectorySample  # noqa: E402


def traj(task, won, reply_lengths, reward=None):
    steps = [StepSample([{"role": "user", "content": "x"}], "r", list(range(n))) for n in reply_lengths]
    return TrajectorySample(task, steps, float(won) if reward is None else reward, won)


def test_labels_and_bonus_by_hand():
    trajs = [traj(0, True, [10, 10, 10, 10]),       # 4 steps, 10 tokens/step
             traj(0, True, [20, 20, 20, 20, 20, 20]),  # 6 steps, 20 tokens/step
             traj(0, False, [5, 5]),                # lost: undesirable, no bonus
             traj(1, True, [8, 8, 8])]              # alone on its task: bonus 0
    out = depo.label_and_bonus(trajs, alpha_tokens=1.0, alpha_steps=2.0)
    # task 0: mean tokens/step 15, mean steps 5
    # first: (1 - 10/15) + 2 * (1 - 4/5) = 1/3 + 0.4; second: (1 - 20/15) + 2 * (1 - 6/5) = -1/3 - 0.4
    assert [d for d, _ in out] == [True, True, False, True]
    assert out[0][1] == pytest.approx(1 / 3 + 0.4)
    assert out[1][1] == pytest.approx(-1 / 3 - 0.4)
    assert out[2][1] == 0.0 and out[3][1] == 0.0


def test_bonus_terms_are_clipped_and_threshold_labels():
    trajs = [traj(0, True, [1]), traj(0, True, [100] * 9)]
    # mean tokens/step 50.5, mean steps 5: second is 1 - 100/50.5 = -0.98 and 1 - 9/5 = -0.8; first 1 - 1/50.5, 0.8
    out = depo.label_and_bonus(trajs, alpha_tokens=1.0, alpha_steps=1.0)
    assert out[0][1] == pytest.approx((1 - 1 / 50.5) + 0.8)
    assert out[1][1] == pytest.approx((1 - 100 / 50.5) - 0.8)
    far = depo.label_and_bonus([traj(0, True, [1]), traj(0, True, [1]), traj(0, True, [1000])], alpha_steps=0.0)
    assert far[2][1] == -1.0  # 1 - 1000/334 < -1: clipped
    scored = [traj(0, False, [3], reward=0.8), traj(0, False, [3], reward=0.5)]
    assert [d for d, _ in depo.label_and_bonus(scored, threshold=0.75)] == [True, False]


def test_reply_tokens_counts_ids_or_the_tokenizer():
    assert depo.reply_tokens(StepSample([], "abc", [1, 2, 3])) == 3
    with pytest.raises(ValueError, match="tokenizer"):
        depo.reply_tokens(StepSample([], "abc"))

    class Tok:
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": text.split()}
    assert depo.reply_tokens(StepSample([], "a b c d"), Tok()) == 5  # 4 + end of turn


def test_refuses_bad_settings(tmp_path):
    with pytest.raises(ValueError, match="batch_size"):
        depo.train(depo.DEPOConfig(model="m", output_dir=str(tmp_path), batch_size=1), [traj(0, True, [1])])
    with pytest.raises(ValueError, match="data"):
        depo.load_trajectories(depo.DEPOConfig(model="m"))
    with pytest.raises(FileNotFoundError):
        depo.load_trajectories(depo.DEPOConfig(model="m", data=str(tmp_path / "none.jsonl")))


# ----- the learning check, resume and the command line (slow) --------------------------------
from depo_training import ENV, HISTORY, uneven_keydoor  # noqa: E402,F401

LEARN = dict(history=HISTORY, sft_epochs=6, sft_lr=1e-2, epochs=2, lr=3e-4, beta=0.5, alpha_tokens=2.0,
             alpha_steps=3.0, undesirable_weight=0.5, batch_size=16, grad_accum=1, device="cpu", progress=False,
             log_every=100, save_every=0)


def efficiency(model_dir) -> dict:
    from trainers.core.generation import HFGenerator
    from trainers.core.policy import Policy
    from trainers.core.rollout import evaluate_policy

    gen = HFGenerator(Policy.load(model_dir, device="cpu"), max_new_tokens=40, do_sample=False)
    return depo.efficiency_metrics(evaluate_policy(gen, ENV, split="train", history=HISTORY)["episodes"])


@pytest.mark.slow
@pytest.mark.long(seconds=215)
def test_depo_is_more_efficient_than_its_sft_start(uneven_keydoor, tmp_path):
    result = depo.train(depo.DEPOConfig(model=uneven_keydoor["tiny"], data=uneven_keydoor["data"],
                                        output_dir=str(tmp_path), **LEARN))
    start, end = efficiency(result["start_model"]), efficiency(result["final_dir"])
    print(f"\nDEPO on KeyDoor (greedy, 36 train tasks): success {start['success']:.3f} -> {end['success']:.3f}, "
          f"steps per won episode {start['steps_success']:.2f} -> {end['steps_success']:.2f}, "
          f"tokens per step {start['tokens_per_step']:.1f} -> {end['tokens_per_step']:.1f}")
    assert end["success"] >= start["success"]
    assert end["steps_success"] < start["steps_success"]
    assert end["tokens_per_step"] < 0.9 * start["tokens_per_step"]


@pytest.mark.slow
def test_depo_resumes_to_the_same_weights(uneven_keydoor, tmp_path):
    from agent_gym.core.trajectory import read_trajectories, write_trajectories
    from keydoor_training import same_weights

    data = tmp_path / "some.jsonl"
    write_trajectories(data, list(read_trajectories(uneven_keydoor["data"]))[:16])  # 12 tasks' worth of steps
    kw = dict(LEARN, sft_epochs=1, epochs=1, grad_accum=2)  # the resumed run reuses the finished SFT stage
    straight = depo.train(depo.DEPOConfig(model=uneven_keydoor["tiny"], data=str(data),
                                          output_dir=str(tmp_path / "straight"), **kw))
    first = depo.train(depo.DEPOConfig(model=uneven_keydoor["tiny"], data=str(data),
                                       output_dir=str(tmp_path / "split"), stop_after_steps=2, **kw))
    assert first["step"] == 2 and first["final_dir"] is None
    args = ["--model", uneven_keydoor["tiny"], "--data", str(data), "--output", str(tmp_path / "split"),
            "--resume", "--history", str(HISTORY), "--epochs", "1", "--lr", str(kw["lr"]), "--beta", "0.5",
            "--alpha-tokens", "2", "--alpha-steps", "3", "--undesirable-weight", "0.5", "--batch-size", "16",
            "--grad-accum", "2", "--sft-epochs", "1", "--sft-lr", "1e-2", "--device", "cpu", "--no-progress", "--save-every", "0"]
    assert depo.main(args) == 0
    assert straight["step"] == straight["total_steps"] > 2
    assert same_weights(straight["final_dir"], tmp_path / "split" / "final")
    assert same_weights(straight["start_model"], tmp_path / "split" / "sft" / "final")
