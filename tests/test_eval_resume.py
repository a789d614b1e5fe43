"""Eval resume against damaged or foreign output folders (issue 17, item 5): the rewrite at resume
is atomic, a folder of another run is refused, malformed records are refused naming file and line."""

from __future__ import annotations

import json

import pytest

from agent_gym.core import trajectory
from agent_gym.core.trajectory import TrajectoryFormatError, read_trajectories
from agent_gym.eval.runner import EvalConfig, RunMismatchError, evaluate


def _config(out, agent="expert", n=6):
    return EvalConfig(env_id="agent_gym/KeyDoor-v0", agent=agent, n=n, workers=2, output=str(out), progress=False)


def test_a_kill_during_the_resume_rewrite_loses_nothing(tmp_path, monkeypatch):
    out = tmp_path / "run"
    evaluate(_config(out, n=6))
    path = out / "trajectories.jsonl"
    before = path.read_bytes()
    with open(path, "ab") as f:
        f.write(b'{"format": "agent_gym.traj')  # a writer killed mid-line: the resume rewrites the file
    written = []
    real = trajectory.Trajectory.to_json

    def dies_midway(self):
        if len(written) == 3:
            raise KeyboardInterrupt  # the kill lands in the middle of the rewrite
        written.append(self.task_id)
        return real(self)

    monkeypatch.setattr(trajectory.Trajectory, "to_json", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        evaluate(_config(out, n=8))
    monkeypatch.undo()
    assert path.read_bytes().startswith(before)  # all six finished episodes are still there
    assert len(list(read_trajectories(path))) == 6
    assert not [p for p in out.iterdir() if ".tmp" in p.name]
    r = evaluate(_config(out, n=8))
    assert r["complete"] and r["episodes"] == 8


def test_a_folder_without_run_json_holding_another_agents_episodes_is_refused(tmp_path):
    out = tmp_path / "run"
    evaluate(_config(out, agent="random", n=3))
    (out / "run.json").unlink()
    with pytest.raises(RunMismatchError, match=r"trajectories\.jsonl:1: an episode of agent 'random'.*no run\.json"):
        evaluate(_config(out, agent="expert", n=3))
    # the same agent may adopt its own folder (run.json is written again)
    assert evaluate(_config(out, agent="random", n=3))["complete"]
    assert (out / "run.json").exists()


@pytest.mark.parametrize("bad, message", [
    (b"[1, 2]\n", "a record is a JSON object"),
    (b'{"format": "agent_gym.trajectory", "version": 1}\n', "bad trajectory fields"),
    (b"not json\n", "not JSON"),
    (b"\xff\xfe{}\n", "not UTF-8"),
    (b"[" * 5000 + b"\n", "nested too deeply|not JSON"),
    (None, "wrong type of task_id"),
    (None, "steps must be a list"),
])
def test_malformed_records_are_refused_with_file_and_line(tmp_path, bad, message):
    out = tmp_path / "run"
    evaluate(_config(out, n=2))
    path = out / "trajectories.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    if bad is None:
        rec = json.loads(lines[1])
        if "task_id" in message:
            rec["task_id"] = "one"
        else:
            rec["steps"] = "many"
        bad = json.dumps(rec).encode() + b"\n"
    path.write_bytes(lines[0] + bad + lines[1])
    with pytest.raises(TrajectoryFormatError, match=rf"trajectories\.jsonl:2: ({message})"):
        evaluate(_config(out, n=3))
    assert path.read_bytes() == lines[0] + bad + lines[1]  # nothing lost or rewritten
