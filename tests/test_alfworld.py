"""agent_gym/ALFWorld-v0: the contract, the generated games, the expert, the PDDL cross-check
and the reader of the official game-file layout."""

import json
import random
import zlib

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import agent_gym  # noqa: F401
from agent_gym.alfworld.engine import AlfredGame, list_phrase, normalise_command
from agent_gym.alfworld.expert import expert_step
from agent_gym.alfworld.tasks import SPLIT_COUNTS, split_specs
from agent_gym.alfworld.world import TASK_TYPES, build_game
from agent_gym.core.env import EpisodeOverError

ENV_ID = "agent_gym/ALFWorld-v0"
HOSTILE = ["", " ", "x" * 5000, "go to", "go to countertop 99", "take  from ", "put [apple] in/on {x}",
           "🍎 ünïcødé 日本語", "look\x00\x07\x1b[31m", "\n\t\r", "go to countertop 1; rm -rf /", "(((", "]]]",
           "heat with", "examine", "use", "%s %d {0}", "GO   TO    COUNTERTOP   1"]


def make(**kwargs):
    return gym.make(ENV_ID, **kwargs)


def run_expert(env, task_id):
    obs, info = env.reset(options={"task_id": task_id})
    total, steps = 0.0, [(obs, info)]
    while True:
        obs, reward, terminated, truncated, info = env.step(info["expert_action"])
        total += reward
        steps.append((obs, info))
        if terminated or truncated:
            return total, info, steps


def test_check_env():
    check_env(make().unwrapped, skip_render_check=True)
    check_env(make(split="train", task_types=["heat"]).unwrapped, skip_render_check=True)


def test_splits_sizes_and_disjoint():
    sizes = {s: make(split=s).unwrapped.num_tasks for s in ("train", "eval", "test")}
    assert sizes == {"train": 3553, "eval": 140, "test": 134}
    assert all(sum(SPLIT_COUNTS[s]) == sizes[s] for s in sizes)
    # test games are in unseen layouts; eval games are new games in train's layouts
    layouts = {s: {(x.room, x.layout_id) for x in split_specs(s)} for s in sizes}
    assert not layouts["test"] & (layouts["train"] | layouts["eval"])
    assert layouts["eval"] <= layouts["train"]
    seeds = [{x.seed for x in split_specs(s)} for s in sizes]
    assert not (seeds[0] & seeds[1]) and not (seeds[1] & seeds[2])
    counts = {t: sum(1 for x in split_specs("test") if x.task_type == t) for t in TASK_TYPES}
    assert tuple(counts[t] for t in TASK_TYPES) == SPLIT_COUNTS["test"]


def test_task_type_filter():
    env = make(split="test", task_types=["pick_clean_then_place", "cool"]).unwrapped
    assert env.num_tasks == 31 + 21
    for i in range(env.num_tasks):
        obs, info = env.reset(options={"task_id": i})
        assert info["task_type"] in ("pick_clean_then_place_in_recep", "pick_cool_then_place_in_recep")
        assert ("clean" in info["instruction"]) or ("cool" in info["instruction"])
    with pytest.raises(ValueError):
        make(task_types=["fly"])


def test_observation_text_is_alfworlds():
    env = make().unwrapped
    obs, info = env.reset(options={"task_id": 0})
    assert obs.startswith("-= Welcome to TextWorld, ALFRED! =-\n\nYou are in the middle of a room. Looking quickly "
                          "around you, you see a ")
    assert obs.endswith(f"Your task is to: {info['instruction']}.")
    assert all(c.startswith("go to ") for c in info["available_actions"] if c not in ("help", "inventory", "look"))
    target = info["available_actions"][0][len("go to "):]
    obs, *_ = env.step(f"go to {target}")
    assert obs.startswith(f"You arrive at {target}. ")
    assert list_phrase([]) == "nothing" and list_phrase(["apple 1"]) == "a apple 1"
    assert list_phrase(["apple 1", "mug 2"]) == "a apple 1, and a mug 2"
    assert normalise_command(" Move  Apple 1 to Fridge 1 ") == "put apple 1 in/on fridge 1"


def test_determinism_across_envs():
    a, b = make(expose_goal=True).unwrapped, make(expose_goal=True).unwrapped
    for task_id in (0, 7, 50):
        ra, _, sa = run_expert(a, task_id)
        rb, _, sb = run_expert(b, task_id)
        assert ra == rb == 1.0
        assert [(o, i["anchor"], i["available_actions"]) for o, i in sa] == \
               [(o, i["anchor"], i["available_actions"]) for o, i in sb]
    # the same seed without a task id draws the same task
    assert a.reset(seed=3)[1]["task_id"] == b.reset(seed=3)[1]["task_id"]


@pytest.mark.parametrize("split", ["test", "eval"])
def test_expert_solves_every_task(split):
    env = make(split=split, expose_goal=True).unwrapped
    for task_id in range(env.num_tasks):
        total, info, steps = run_expert(env, task_id)
        assert total == 1.0 and info["won"], (split, task_id, steps[-1][0])
        assert info["reward_info"]["won"] and len(steps) - 1 <= 50
        assert all(s[1].get("expert_thought") for s in steps[:-1])


def test_expert_on_a_train_sample():
    env = make(split="train", expose_goal=True).unwrapped
    for task_id in random.Random(0).sample(range(env.num_tasks), 150):
        total, info, _ = run_expert(env, task_id)
        assert total == 1.0, task_id


def test_random_agent_runs_and_rarely_wins():
    env = make(split="test", max_steps=30).unwrapped
    rng = random.Random(0)
    wins = 0
    for task_id in range(30):
        obs, info = env.reset(options={"task_id": task_id})
        for _ in range(30):
            obs, reward, terminated, truncated, info = env.step(rng.choice(info["available_actions"]))
            assert not info["invalid_action"]
            if terminated or truncated:
                break
        assert terminated or truncated
        wins += int(terminated)
    assert wins <= 6


def test_hostile_actions_never_crash():
    env = make(expose_goal=True).unwrapped
    obs, info = env.reset(options={"task_id": 3})
    anchor = info["anchor"]
    for action in HOSTILE[:-1]:
        obs, reward, terminated, truncated, info = env.step(action)
        assert obs == "Nothing happens." and reward == 0.0 and info["invalid_action"] and info["error"]
        assert info["anchor"] == anchor and not terminated
    env.reset(options={"task_id": 3})
    target = info["available_actions"][0][len("go to "):]
    obs, _, _, _, info = env.step(f"  GO   TO    {target.upper()}  ")
    assert not info["invalid_action"] and obs.startswith("You arrive at")
    with pytest.raises(TypeError):
        env.step(None)
    with pytest.raises(TypeError):
        env.step(b"look")


def test_truncation_and_step_after_end():
    env = make(max_steps=3).unwrapped
    env.reset(options={"task_id": 0})
    for _ in range(2):
        assert env.step("look")[3] is False
    obs, reward, terminated, truncated, info = env.step("look")
    assert truncated and not terminated and info["won"] is False and info["reward_info"] == {
        "won": False, "task_type": info["task_type"]}
    with pytest.raises(EpisodeOverError):
        env.step("look")


def test_anchors_equal_for_equal_states():
    env = make().unwrapped
    obs, info = env.reset(options={"task_id": 5})
    start = info["anchor"]
    target = info["available_actions"][0][len("go to "):]
    _, _, _, _, at_target = env.step(f"go to {target}")
    _, _, _, _, back = env.step("look")          # look changes nothing
    assert back["anchor"] == at_target["anchor"] != start
    assert at_target["page"].startswith("at_") and info["page"] == "start"
    other = make().unwrapped
    assert other.reset(options={"task_id": 5})[1]["anchor"] == start
    assert other.reset(options={"task_id": 6})[1]["anchor"] != start


def test_move_style_and_aliases():
    env = make(put_style="move", expose_goal=True).unwrapped
    _, info, steps = run_expert(env, 2)
    assert info["won"]
    actions = [s[1].get("expert_action", "") for s in steps]
    assert any(a.startswith("move ") for a in actions) and not any(a.startswith("put ") for a in actions)


# ----- the Python engine against textworld's PDDL engine -----------------------------------
def _play_both(game, seed, steps=30):
    from agent_gym.alfworld.pddl import PddlAlfredGame, game_to_tw_pddl

    py, pd = AlfredGame(game), PddlAlfredGame(game_to_tw_pddl(game))
    assert py.intro == pd.intro
    rng = random.Random(seed)
    for _ in range(steps):
        assert py.admissible() == pd.admissible()
        action = expert_step(py)[0] if rng.random() < 0.6 else rng.choice([c for c in py.admissible() if c != "help"])
        assert py.step(action) == pd.step(action), action
        assert py.won == pd.won
        if py.won:
            return True
    return False


def test_look_in_the_middle_of_the_room_sees_nothing():
    """ALFWorld answers a look before any `go to` with "you see nothing" (its grammar and its
    oracle controller), though the intro lists the receptacles."""
    spec = next(s for s in split_specs("eval") if s.task_type == "look_at_obj_in_light")
    game = AlfredGame(build_game(spec))
    assert "you see a " in game.intro
    assert game.step("look")[0] == "You are in the middle of a room. Looking quickly around you, you see nothing."


def test_python_engine_matches_textworld_pddl():
    pytest.importorskip("fast_downward")
    specs = split_specs("test")
    by_type = {}
    for s in specs:
        by_type.setdefault(s.task_type, s)
    # one game here (a PDDL game costs ~1 s to load and ~75 ms a step); all six types in the slow test
    _play_both(build_game(by_type["pick_clean_then_place_in_recep"]), seed=1, steps=12)


@pytest.mark.slow
def test_python_engine_matches_textworld_pddl_all_types():
    pytest.importorskip("fast_downward")
    specs = split_specs("eval")
    for t in TASK_TYPES:
        for s in [x for x in specs if x.task_type == t][:3]:
            _play_both(build_game(s), seed=zlib.crc32(s.seed.encode()) % 1000, steps=40)


# ----- the official game-file layout ----------------------------------------------------------
def _fake_official_dir(root, spec):
    """A data dir in the official layout, with a generated game written as game.tw-pddl."""
    from agent_gym.alfworld.pddl import game_to_tw_pddl

    game = build_game(spec)
    doc = game_to_tw_pddl(game)
    doc.pop("agent_gym_names")      # official files have mangled ids and no names
    trial = root / "json_2.1.1" / "valid_unseen" / f"{spec.task_type}-X-None-Y-1" / "trial_T0"
    trial.mkdir(parents=True)
    (trial / "game.tw-pddl").write_text(json.dumps(doc))
    (trial / "traj_data.json").write_text(json.dumps({"task_type": spec.task_type}))
    skipped = root / "json_2.1.1" / "valid_unseen" / "pick_and_place_with_movable_recep-X" / "trial_T0"
    skipped.mkdir(parents=True)
    (skipped / "game.tw-pddl").write_text(json.dumps(doc))
    (skipped / "traj_data.json").write_text(json.dumps({"task_type": spec.task_type}))
    return game


def test_official_files_reader(tmp_path):
    pytest.importorskip("fast_downward")
    pytest.importorskip("alfworld")
    spec = next(s for s in split_specs("test") if s.task_type == "pick_and_place_simple")
    game = _fake_official_dir(tmp_path, spec)
    env = make(data_dir=str(tmp_path), split="test", expose_goal=True).unwrapped
    assert env.num_tasks == 1                     # the movable-receptacle trial is skipped
    assert make(data_dir=str(tmp_path), split="test", task_types=["heat"]).unwrapped.num_tasks == 0
    obs, info = env.reset(options={"task_id": 0})
    assert info["instruction"] == game.task.description
    assert obs.startswith("-= Welcome to TextWorld, ALFRED! =-")
    assert info["gamefile"].endswith("game.tw-pddl")
    total = 0.0
    for _ in range(30):                           # the expert is the PDDL planner's plan
        obs, reward, terminated, truncated, info = env.step(info["expert_action"])
        total += reward
        if terminated:
            break
    assert total == 1.0 and info["won"]
    with pytest.raises(FileNotFoundError):
        make(data_dir=str(tmp_path / "nowhere"))
