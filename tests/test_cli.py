from agent_gym.eval.cli import main


def test_demo_prints_a_score_table(capsys, small_catalog):
    assert main(["demo", "--products", "3000", "-n", "25"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| rule |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4] == "25"
    assert 0.0 <= float(cells[5]) <= 100.0 and cells[6].endswith("%")
    assert "45.6" in out  # the published figure is shown beside ours


def test_build_reports_goal_splits(capsys, small_catalog):
    assert main(["build", "--products", "3000"]) == 0
    out = capsys.readouterr().out
    sizes = {s: small_catalog.num_goals("human", s) for s in ("test", "eval", "train")}
    assert f"human goals: test {sizes['test']}, eval {sizes['eval']}, train {sizes['train']}" in out
    assert sizes["test"] == 500 and str(small_catalog.folder) in out
