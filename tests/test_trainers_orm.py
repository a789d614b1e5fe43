"""The outcome reward model (trainers/orm.py), the judged-reward wrapper (agent_gym/core/judged.py)
and the sampling collector (trainers/collect.py). Quick checks by default; under ``-m slow``
the ORM learns to tell won from lost KeyDoor trajectories of held-out tasks."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest

import agent_gym  # noqa: F401
from agent_gym.core.judged import JudgedReward, judge_messages

from depo_training import uneven_keydoor  # noqa: F401  (the fixture: the KeyDoor trajectories the DEPO checks use)


def test_judge_messages_show_the_task_and_the_last_steps():
    steps = [(f"go[{k}]", f"room {k} " + "x" * 50) for k in range(5)]
    m = judge_messages("Open the red door.", "You are in the hall.", steps, max_observation_chars=20, last_steps=2)
    text = m[1]["content"]
    assert m[0]["role"] == "system" and text.startswith("Task: Open the red door.\nStart: You are in the hall.")
    assert "(3 earlier steps left out)" in text and "Step 4: go[3]" in text and "Step 5: go[4]" in text
    assert "go[2]" not in text and "room 4 xxxxxxxxxxxxx ..." in text and text.endswith("Answer YES or NO.")


def test_judged_reward_replaces_the_env_outcome():
    from agent_gym.toy.keys import KeyDoorExpert

    seen = []

    def judge(messages):  # a judge that refuses every episode
        seen.append(messages)
        return 0.2

    env = JudgedReward(gym.make("agent_gym/KeyDoor-v0", split="train"), judge)
    obs, info = env.reset(options={"task_id": 0})
    expert = KeyDoorExpert()
    expert.reset(info["instruction"], info)
    rewards, done = [], False
    while not done:
        obs, r, term, trunc, info = env.step(expert.act(obs, info))
        rewards.append(r)
        done = term or trunc
    assert rewards == [0.0] * len(rewards) and len(seen) == 1
    assert info["env_won"] and info["env_reward"] == 1.0 and not info["won"] and info["judge_score"] == 0.2
    assert f"Task: {env.unwrapped.task.instruction}" in seen[0][1]["content"]

    soft = JudgedReward(gym.make("agent_gym/KeyDoor-v0"), lambda m: 0.7, binary=False)
    soft.reset(options={"task_id": 0})
    while True:
        _, r, term, trunc, info = soft.step("go[ahead]")  # then invalid at the doors: truncated at 8
        if term or trunc:
            break
    assert r == 0.7 and info["won"]


def test_judged_reward_refuses_bad_judges():
    with pytest.raises(TypeError):
        JudgedReward(gym.make("agent_gym/KeyDoor-v0"), "not callable")
    env = JudgedReward(gym.make("agent_gym/KeyDoor-v0", max_steps=1), lambda m: 3.0)
    env.reset(options={"task_id": 0})
    with pytest.raises(ValueError, match="score"):
        env.step("go[ahead]")


def test_import_agent_gym_stays_free_of_torch():
    code = "import sys, agent_gym, agent_gym.core.judged; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_orm_split_by_task_and_labels():
    pytest.importorskip("torch")
    from types import SimpleNamespace

    from trainers import orm

    trajs = [SimpleNamespace(task_id=t, won=bool(k), reward=0.6 * k) for t in range(10) for k in range(2)]
    train, held = orm.split_by_task(trajs, 0.2, seed=0)
    assert len(held) == 4 and not {t.task_id for t in train} & {t.task_id for t in held}
    assert orm.split_by_task(trajs, 0.2, seed=0)[1] == held  # seeded
    assert [orm.succeeded(t) for t in trajs[:2]] == [False, True]
    assert [orm.succeeded(t, threshold=0.5) for t in trajs[:2]] == [False, True]
    with pytest.raises(ValueError, match="heldout"):
        orm.train(orm.ORMConfig(model="m", heldout=1.0), [])


def test_collect_refuses_two_sources():
    pytest.importorskip("torch")
    from trainers import collect

    with pytest.raises(ValueError, match="exactly one"):
        collect.collect_trajectories(collect.CollectConfig(output="x", policy="a", api_model="b"))
    with pytest.raises(ValueError, match="exactly one"):
        collect.collect_trajectories(collect.CollectConfig(output="x"))


# ----- slow: the ORM learns, and judges episodes through the wrapper --------------------------
@pytest.mark.slow
def test_orm_separates_won_from_lost_on_held_out_tasks(uneven_keydoor, tmp_path):
    from trainers import orm

    data = uneven_keydoor
    result = orm.train(orm.ORMConfig(model=data["tiny"], data=data["data"], output_dir=str(tmp_path / "orm"),
                                     epochs=1, lr=1e-2, batch_size=16, last_steps=3, max_observation_chars=200,
                                     device="cpu", progress=False, save_every=0))
    held = result["heldout"]
    print(f"\nORM held-out accuracy {held['accuracy']:.3f} on {held['n']} trajectories of unseen tasks "
          f"(majority class {held['majority']:.3f}); mean P(YES): won {held['mean_score_won']:.3f}, "
          f"lost {held['mean_score_lost']:.3f}")
    assert held["n"] >= 20 and held["accuracy"] >= 0.9 and held["accuracy"] > held["majority"] + 0.1
    judge = orm.ORMJudge(result["final_dir"], device="cpu")
    json.loads((tmp_path / "orm" / "final_metrics.json").read_text())
    from agent_gym.toy.keys import KeyDoorExpert
    env = JudgedReward(gym.make("agent_gym/KeyDoor-v0", split="eval"), judge)
    obs, info = env.reset(options={"task_id": 0})
    expert = KeyDoorExpert()
    expert.reset(info["instruction"], info)
    while True:
        obs, r, term, trunc, info = env.step(expert.act(obs, info))
        if term or trunc:
            break
    assert info["env_won"] and r == 1.0 and info["judge_score"] > 0.5


def test_collect_from_an_api_model(tmp_path):
    pytest.importorskip("torch")
    from test_llm_agents import FakeLLM

    from agent_gym.core.trajectory import read_trajectories
    from trainers import collect

    server = FakeLLM(default="Thought: the doors are ahead.\nAction: go[ahead]")
    try:
        out = tmp_path / "samples.jsonl"
        result = collect.run(collect.CollectConfig(output=str(out), env="agent_gym/KeyDoor-v0", tasks=2, k=2,
                                                   temperature=0.7, api_model="fake", base_url=server.url))
    finally:
        server.close()
    trajs = list(read_trajectories(out))
    assert result["trajectories"] == 4 and result["tasks"] == 2 and result["won"] == 0
    assert [t.task_id for t in trajs] == [0, 0, 1, 1] and {t.seed for t in trajs} == {0, 1}
    assert trajs[0].steps[0].action == "go[ahead]" and trajs[0].steps[0].thought == "the doors are ahead."
    assert {r["temperature"] for r in server.requests} == {0.7} and len(server.requests) == 4 * 8


@pytest.mark.slow
def test_collect_from_a_policy_keeps_its_tokens(uneven_keydoor, tmp_path):
    from agent_gym.core.trajectory import read_trajectories
    from trainers import collect, depo

    out = tmp_path / "samples.jsonl"
    args = ["--policy", uneven_keydoor["tiny"], "--env", "agent_gym/KeyDoor-v0", "--tasks", "3", "--k", "2",
            "--max-new-tokens", "8", "--history", "0", "--device", "cpu", "--output", str(out)]
    assert collect.main(args) == 0
    trajs = list(read_trajectories(out))
    assert [t.task_id for t in trajs] == [0, 0, 1, 1, 2, 2]
    samples = depo.load_trajectories(depo.DEPOConfig(data=str(out), history=0))
    recorded = [s for t in trajs for s in t.meta["steps"]]
    assert [s.response_ids for t in samples for s in t.steps] == [r["response_ids"] for r in recorded]
    assert all(0 < len(r["response_ids"]) <= 8 for r in recorded)


@pytest.mark.slow
def test_orm_resumes_to_the_same_weights(uneven_keydoor, tmp_path):
    from agent_gym.core.trajectory import read_trajectories, write_trajectories
    from keydoor_training import same_weights
    from trainers import orm

    data = tmp_path / "some.jsonl"
    write_trajectories(data, list(read_trajectories(uneven_keydoor["data"]))[:40])
    kw = dict(model=uneven_keydoor["tiny"], data=str(data), epochs=2, lr=1e-2, batch_size=8, last_steps=3,
              max_observation_chars=200, device="cpu", progress=False, save_every=0)
    straight = orm.train(orm.ORMConfig(output_dir=str(tmp_path / "straight"), **kw))
    first = orm.train(orm.ORMConfig(output_dir=str(tmp_path / "split"), stop_after_steps=3, **kw))
    assert first["final_dir"] is None and first["sft"]["step"] == 3
    args = ["--model", kw["model"], "--data", str(data), "--output", str(tmp_path / "split"), "--resume",
            "--epochs", "2", "--lr", "1e-2", "--batch-size", "8", "--last-steps", "3",
            "--max-observation-chars", "200", "--device", "cpu", "--no-progress", "--save-every", "0"]
    assert orm.main(args) == 0
    assert same_weights(straight["final_dir"], tmp_path / "split" / "sft" / "final")
    metrics = json.loads((tmp_path / "split" / "final_metrics.json").read_text())
    assert metrics["heldout"] == straight["heldout"]
