import json
import signal
import subprocess
import sys
import time

import pytest

from agent_gym.agents import load_agent
from agent_gym.core.trajectory import read_trajectories
from agent_gym.eval.cli import main
from agent_gym.eval.leaderboard import write_leaderboard
from agent_gym.eval.runner import AgentFailure, EvalConfig, RunMismatchError, evaluate


class CoinAgent:
    """Deterministic per task, different across tasks: exercises slot bookkeeping."""

    name = "coin"

    def reset(self, instruction, info):
        self.k = len(instruction) % 3

    def act(self, observation, info):
        acts = info["available_actions"]
        if info["page"] == "search":
            return "search[" + " ".join(info["instruction"].split()[:4 + self.k]) + "]"
        if info["page"] == "results":
            products = [a for a in acts if a.startswith("click[b0")]
            return products[self.k % len(products)] if products else "click[back to search]"
        return "click[buy now]"


class BrokenAgent(CoinAgent):
    name = "broken"
    calls = 0

    def act(self, observation, info):
        BrokenAgent.calls += 1
        if BrokenAgent.calls > 12:
            raise ConnectionError("the model server went away")
        return super().act(observation, info)


def _config(small_catalog, **kw):
    base = dict(agent="rule", split="test", n=24, env_kwargs={"catalog": small_catalog}, progress=False)
    base.update(kw)
    return EvalConfig(**base)


def test_results_do_not_depend_on_workers(small_catalog, tmp_path):
    one = evaluate(_config(small_catalog, workers=1, output=str(tmp_path / "a")), agent=CoinAgent)
    many = evaluate(_config(small_catalog, workers=5, output=str(tmp_path / "b")), agent=CoinAgent)
    keys = ("score", "success_rate", "components", "mean_steps", "invalid_action_rate", "episodes")
    assert {k: one[k] for k in keys} == {k: many[k] for k in keys}
    ta = [t.to_dict() for t in read_trajectories(tmp_path / "a" / "trajectories.jsonl")]
    tb = sorted((t.to_dict() for t in read_trajectories(tmp_path / "b" / "trajectories.jsonl")), key=lambda d: d["task_id"])
    assert [t["steps"] for t in ta] == [t["steps"] for t in tb]
    assert one["episodes"] == 24 and 0 <= one["score"] <= 100 and one["complete"]


def test_results_fields(small_catalog):
    r = evaluate(_config(small_catalog, n=10), agent=load_agent("rule"))
    for key in ("score", "success_rate", "components", "mean_steps", "invalid_action_rate", "env_time_s", "agent_time_s"):
        assert key in r
    assert set(r["components"]) == {"attribute", "option", "type", "price"}
    assert r["mean_steps"] == 3.0 and r["agent"] == "rule" and r["catalog"]["n_products"] == 3000


def test_resume_loses_and_repeats_nothing(small_catalog, tmp_path):
    out = tmp_path / "run"
    full = evaluate(_config(small_catalog, output=str(tmp_path / "ref")), agent=CoinAgent)
    evaluate(_config(small_catalog, n=9, output=str(out)), agent=CoinAgent)
    path = out / "trajectories.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:7]) + lines[7][: len(lines[7]) // 2])  # killed mid-write
    resumed = evaluate(_config(small_catalog, output=str(out)), agent=CoinAgent)
    ids = [t.task_id for t in read_trajectories(path)]
    assert sorted(ids) == list(range(24)) and len(ids) == len(set(ids))
    assert resumed["score"] == full["score"]
    with pytest.raises(RunMismatchError, match="split"):
        evaluate(_config(small_catalog, split="eval", output=str(out)), agent=CoinAgent)


def test_eval_command_resumes_after_being_killed(small_catalog, tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "agent_gym.eval.cli", "eval", "--agent", "tests.test_eval:SlowAgent",
           "--products", "3000", "-n", "30", "--workers", "3", "--output", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = out / "trajectories.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and (not path.exists() or len(path.read_text().splitlines()) < 5):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {t.task_id: t.to_dict() for t in read_trajectories(path)}
    assert 5 <= len(before) < 30
    assert main(["eval", "--agent", "tests.test_eval:SlowAgent", "--products", "3000", "-n", "30",
                 "--workers", "3", "--output", str(out)]) == 0
    after = [t.to_dict() for t in read_trajectories(path)]
    assert sorted(t["task_id"] for t in after) == list(range(30))
    assert all(before[t["task_id"]] == t for t in after if t["task_id"] in before)
    assert json.loads((out / "results.json").read_text())["episodes"] == 30


class SlowAgent(CoinAgent):
    name = "slow"

    def act(self, observation, info):
        time.sleep(0.02)  # slow enough for the kill to land mid-run (the test polls every 0.2 s)
        return super().act(observation, info)


def test_agent_failure_stops_cleanly_or_skips(small_catalog, tmp_path):
    BrokenAgent.calls = 0
    with pytest.raises(AgentFailure, match="went away"):
        evaluate(_config(small_catalog, workers=1, output=str(tmp_path / "stop")), agent=BrokenAgent)
    saved = list(read_trajectories(tmp_path / "stop" / "trajectories.jsonl"))
    assert 1 <= len(saved) < 24 and all(t.done for t in saved)
    partial = json.loads((tmp_path / "stop" / "results.json").read_text())
    assert partial["episodes"] == len(saved) and not partial["complete"] and "went away" in partial["stopped_by"]
    BrokenAgent.calls = 0
    r = evaluate(_config(small_catalog, workers=1, on_agent_error="skip", output=str(tmp_path / "skip")),
                 agent=BrokenAgent)
    # skipped episodes count as failed, are not "complete", and are retried by a resume
    assert r["episodes"] == 24 and len(r["agent_errors"]) == 24 - len(saved) and not r["complete"]
    assert r["skipped_episodes"] == 24 - len(saved)


def test_leaderboard_from_results(small_catalog, tmp_path):
    evaluate(_config(small_catalog, n=10, output=str(tmp_path / "rule")), agent=load_agent("rule"))
    evaluate(_config(small_catalog, n=10, output=str(tmp_path / "coin")), agent=CoinAgent)
    files = write_leaderboard([tmp_path / "rule", tmp_path / "coin" / "results.json"], tmp_path / "lb")
    md = files["markdown"].read_text()
    assert "| rule |" in md.replace("  ", " ") and "coin" in md and "45.6" in md and "published" in md
    assert "<table>" in files["html"].read_text()
    assert files["plot"].stat().st_size > 1000
    (tmp_path / "bad.json").write_text("{}")
    assert main(["leaderboard", str(tmp_path / "bad.json"), "--output", str(tmp_path / "lb2")]) == 1


def test_leaderboard_writes_the_readme_section(small_catalog, tmp_path):
    from agent_gym.eval.leaderboard import README_END, README_START

    evaluate(_config(small_catalog, n=5, output=str(tmp_path / "rule")), agent=load_agent("rule"))
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{README_START}\nold table\n{README_END}\n\nafter\n")
    assert main(["leaderboard", str(tmp_path / "rule"), "--output", str(tmp_path / "lb"), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old table" not in text and "| rule |" in text.replace("  ", " ") and text.endswith("after\n")
    readme.write_text("no markers")
    assert main(["leaderboard", str(tmp_path / "rule"), "--output", str(tmp_path / "lb"), "--readme", str(readme)]) == 1
