import json

import pytest

from agent_gym.eval.cli import main


def test_demo_prints_the_leaderboard(capsys, small_catalog, tmp_path):
    assert main(["demo", "--products", "3000", "-n", "25", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) > 6 and cells[2] in ("random", "rule", "oracle"):
            rows[cells[2]] = cells
    assert set(rows) == {"random", "rule", "oracle"}
    assert all(r[4] == "25" for r in rows.values())
    assert float(rows["oracle"][5]) > float(rows["rule"][5]) > float(rows["random"][5])
    assert "45.6" in out and "(published)" in out  # the published figures beside ours
    assert (tmp_path / small_catalog.folder.name / "rule" / "results.json").exists()


def test_build_reports_goal_splits(capsys, small_catalog):
    assert main(["build", "--products", "3000"]) == 0
    out = capsys.readouterr().out
    sizes = {s: small_catalog.num_goals("human", s) for s in ("test", "eval", "train")}
    assert f"human goals: test {sizes['test']}, eval {sizes['eval']}, train {sizes['train']}" in out
    assert sizes["test"] == 500 and str(small_catalog.folder) in out


def test_eval_env_arg_reaches_gym_make(tmp_path, capsys):
    from agent_gym.eval.cli import main

    assert main(["eval", "--env", "agent_gym/KeyDoor-v0", "--agent", "expert", "--env-arg", "max_steps=3",
                 "--output", str(tmp_path / "run")]) == 0
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["success_rate"] == 0.0 and results["mean_steps"] == 3.0  # 5 steps needed, 3 allowed
    with pytest.raises(SystemExit, match="key=value"):
        main(["eval", "--env", "agent_gym/KeyDoor-v0", "--env-arg", "max_steps"])


def test_serve_refuses_unknown_envs_and_mixed_servers(capsys):
    assert main(["serve", "NoSuch-v0", "--openenv"]) == 2
    assert "unknown env 'NoSuch-v0'" in capsys.readouterr().err
    assert main(["serve", "KeyDoor-v0"]) == 2
    assert "serve KeyDoor-v0 with --openenv" in capsys.readouterr().err
    assert main(["serve", "webshop", "--openenv", "--agentgym"]) == 2
    assert "choose one" in capsys.readouterr().err
