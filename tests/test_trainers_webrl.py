"""WebRL (trainers/webrl.py): bad settings refused (quick); under ``-m slow``: success rises on
Crossroads-v0 from the near-chance start of the online checks, the run resumes to the same
weights (critic, replay buffer and curriculum queue included), and on WebShop the curriculum
writes new goals the env plays in the next phase."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from crossroads_training import ENV, HISTORY, RL, crossroads_start, success  # noqa: E402,F401
from trainers import webrl  # noqa: E402

BASE = {k: v for k, v in RL.items() if k != "kl_coef"}
LEARN = dict(BASE, tasks_per_iteration=16, group_size=4, lr=2e-3, critic_lr=1e-3, replay_per_phase=64)


def test_webrl_refuses_bad_settings():
    with pytest.raises(ValueError, match="value_low"):
        webrl.WebRLTrainer(webrl.WebRLConfig(model="m", value_low=0.8, value_high=0.2))
    with pytest.raises(ValueError, match="replay_prob"):
        webrl.WebRLTrainer(webrl.WebRLConfig(model="m", replay_prob_low=0.99, replay_prob_high=0.5))
    with pytest.raises(ValueError, match="beta"):
        webrl.WebRLTrainer(webrl.WebRLConfig(model="m", beta=0.0))
    with pytest.raises(ValueError, match="WebShop"):
        webrl.WebRLTrainer(webrl.WebRLConfig(model="m", env=ENV, new_tasks=True))


def test_advantages_by_hand():
    trainer = webrl.WebRLTrainer(webrl.WebRLConfig(model="m", gamma=0.9, step_penalty=0.05))
    values = {(1,): 0.5, (2,): 0.7, (3,): 0.2}
    trainer.values = lambda prompts: [values[tuple(p)] for p in prompts]
    won = [{"prompt": [1], "next_prompt": [2], "reward": 0.0, "mc_return": 0.9},
           {"prompt": [2], "next_prompt": None, "reward": 1.0, "mc_return": 1.0}]
    lost = [{"prompt": [3], "next_prompt": None, "reward": 0.0, "mc_return": 0.0}]
    trainer.advantages(won + lost)
    # 0 + 0.7 - 0.5 + 0.9 - 0.05 = 1.05 -> clipped to 1; 1 + 0 - 0.7 + 1 - 0.05 = 1.25 -> 1; 0 + 0 - 0.2 + 0 - 0.05
    assert [s["advantage"] for s in won + lost] == pytest.approx([1.0, 1.0, -0.25])
    trainer.config.step_penalty = 0.5
    trainer.advantages(won)
    assert won[0]["advantage"] == pytest.approx(0.6)  # 0.7 - 0.5 + 0.9 - 0.5


def test_outcomes_from_the_env_or_the_orm():
    from types import SimpleNamespace

    trainer = webrl.WebRLTrainer(webrl.WebRLConfig(model="m"))
    step = SimpleNamespace(action="go[left]", observation="A dead end.")
    episodes = [SimpleNamespace(won=True, instruction="Follow the water.", observation="Junction 1.", steps=[step]),
                SimpleNamespace(won=False, instruction="Follow the bells.", observation="Junction 1.", steps=[step])]
    trainer.judge = None
    assert trainer.outcomes(episodes) == [1.0, 0.0]
    asked = []

    class Judge:  # the ORM disagrees with the env: its verdict is the reward
        def scores(self, batch):
            asked.extend(batch)
            return [0.3, 0.9]
    trainer.judge = Judge()
    assert trainer.outcomes(episodes) == [0.0, 1.0]
    assert "Task: Follow the bells." in asked[1][1]["content"] and "Step 1: go[left]" in asked[1][1]["content"]


@pytest.mark.slow
@pytest.mark.long(seconds=85)
def test_webrl_raises_success_from_a_weak_start(crossroads_start, tmp_path):
    result = webrl.train(webrl.WebRLConfig(model=crossroads_start["start"], output_dir=str(tmp_path), iterations=14,
                                           target_success=0.8, **LEARN))
    curve = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    final = success(result["final_dir"])
    print(f"\nWebRL on Crossroads: {result['iterations']} phases, rollout success "
          f"{curve[0]['success']:.3f} -> {curve[-1]['success']:.3f}, greedy "
          f"{crossroads_start['start_greedy']:.3f} -> {final:.3f}; replayed {[c['replayed'] for c in curve]}")
    assert crossroads_start["start_greedy"] <= 0.15
    assert final >= 0.6 and any(c["replayed"] > 0 for c in curve) and any(c["queue"] > 0 for c in curve)


@pytest.mark.slow
def test_webrl_resumes_to_the_same_weights(crossroads_start, tmp_path):
    import torch

    from keydoor_training import same_weights
    from trainers.core.value import ValueModel

    kw = dict(LEARN, iterations=3, tasks_per_iteration=4, group_size=2, value_low=0.0, value_high=1.0)
    webrl.train(webrl.WebRLConfig(model=crossroads_start["start"], output_dir=str(tmp_path / "straight"), **kw))
    first = webrl.train(webrl.WebRLConfig(model=crossroads_start["start"], output_dir=str(tmp_path / "split"),
                                          stop_after_iterations=2, **kw))
    assert first["stopped"] and first["iterations"] == 2
    args = ["--model", crossroads_start["start"], "--env", ENV, "--output", str(tmp_path / "split"), "--resume",
            "--iterations", "3", "--tasks-per-iteration", "4", "--group-size", "2", "--history", str(HISTORY),
            "--max-new-tokens", "12", "--lr", "2e-3", "--critic-lr", "1e-3", "--value-low", "0", "--value-high", "1",
            "--micro-batch", "64", "--mini-batch", "128", "--save-every", "0", "--keep-last", "1",
            "--no-recompute-old-logprobs", "--device", "cpu", "--no-progress"]
    assert webrl.main(args) == 0
    assert same_weights(tmp_path / "straight" / "final", tmp_path / "split" / "final")
    a = ValueModel.from_pretrained(tmp_path / "straight" / "final" / "critic")
    b = ValueModel.from_pretrained(tmp_path / "split" / "final" / "critic")
    assert torch.equal(a.head.weight, b.head.weight) and a.head.weight.abs().sum() > 0
    state = [json.loads((tmp_path / d / "final" / webrl.STATE_FILE).read_text()) for d in ("straight", "split")]
    assert state[0] == state[1]
    log = [json.loads(line)["step"] for line in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert log == [1, 2, 3]


@pytest.mark.slow
def test_webrl_curriculum_writes_webshop_goals_the_next_phase_plays(tmp_path):
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    tiny = build_tiny_model_and_tokenizer(tmp_path / "tiny", hidden=32, layers=1)
    out = tmp_path / "run"
    result = webrl.train(webrl.WebRLConfig(
        model=str(tiny), env="agent_gym/WebShop-v0", env_kwargs=json.dumps({"max_steps": 2}), output_dir=str(out),
        iterations=2, tasks_per_iteration=2, group_size=1, new_tasks=True, value_low=0.0, value_high=1.0,
        curriculum_share=0.5, max_new_tokens=8, lr=1e-4, critic_lr=1e-4, micro_batch=4, mini_batch=8, history=0,
        device="cpu", progress=False, save_every=0, keep_last=1))
    goals = [json.loads(line) for line in (out / webrl.GOALS_FILE).read_text().splitlines()]
    log = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    # a tiny random model fails everything: phase 1's two failures give new goals, phase 2 plays one of them
    assert log[0]["success"] == 0 and log[0]["new_goals"] >= 1 and len(goals) == log[-1]["new_goals"] >= 2
    assert all(g["curriculum"]["kind"] == "sibling" for g in goals)
    assert log[0]["curriculum_tasks"] == 0 and log[1]["new_goal_tasks"] == 1  # an extra task of the env, played
    state = json.loads((out / "final" / webrl.STATE_FILE).read_text())
    assert state["extra_goals"] == goals and result["iterations"] == 2
