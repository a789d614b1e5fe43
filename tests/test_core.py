import json

import pytest

from agent_gym.core import (
    PagePatternSimilarity,
    Trajectory,
    TrajectoryFormatError,
    TextSpace,
    anchor_of,
    read_trajectories,
    write_trajectories,
)


def test_text_space_accepts_real_actions_and_rejects_control_chars():
    space = TextSpace(max_length=40)
    assert space.contains("search[red cotton shirt, size: xl]")
    assert space.contains("click[< prev]")
    assert space.contains("café – ünïcode ✓")
    assert not space.contains("x" * 41)
    assert not space.contains("bad\x00byte")
    assert not space.contains(b"bytes")
    for _ in range(50):
        assert space.contains(space.sample())


def test_anchor_is_stable_and_key_order_free():
    a = anchor_of({"page": "item", "asin": "B0", "options": [["color", "red"]]})
    b = anchor_of({"options": [["color", "red"]], "asin": "B0", "page": "item"})
    assert a == b and len(a) == 16 and int(a, 16) >= 0
    assert a != anchor_of({"page": "item", "asin": "B1", "options": [["color", "red"]]})
    # a fixed value: the digest must not depend on the process (no salted hash())
    assert anchor_of({"page": "search"}) == "92d12e8749927176"


def test_page_similarity_table():
    sim = PagePatternSimilarity({("item", "item_sub"): 0.3})
    assert sim("item", "item") == 1.0
    assert sim("item", "item_sub") == sim("item_sub", "item") == 0.3
    assert sim("search", "results") == 0.0
    assert sim.groups(["item", "search", "item_sub", "item"], threshold=0.3) == [[0, 2, 3], [1]]
    assert sim.groups(["item", "search", "item_sub", "item"]) == [[0, 3], [1], [2]]
    with pytest.raises(ValueError):
        PagePatternSimilarity({("a", "b"): 2.0})


def _traj(task_id=1):
    t = Trajectory(env_id="agent_gym/WebShop-v0", task_id=task_id, instruction="buy x", observation="o0", split="test")
    t.add_step("search[x]", "o1", 0.0, False, False, {"page": "results", "anchor": "ab", "invalid_action": False, "junk": 1})
    t.add_step("click[buy now]", "o2", 0.75, True, False, {"page": "done", "won": False, "reward_info": {"r_type": 1.0}})
    return t


def test_trajectory_roundtrip(tmp_path):
    path = tmp_path / "t.jsonl"
    write_trajectories(path, [_traj(1), _traj(2)])
    back = list(read_trajectories(path))
    assert [t.task_id for t in back] == [1, 2]
    assert back[0].actions == ["search[x]", "click[buy now]"]
    assert back[0].reward == 0.75 and back[0].done and not back[0].won
    assert back[0].reward_info == {"r_type": 1.0}
    assert "junk" not in back[0].steps[0].info
    first = json.loads(path.read_text().splitlines()[0])
    assert first["format"] == "agent_gym.trajectory" and first["version"] == 1


def test_trajectory_reader_errors_name_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    write_trajectories(path, [_traj()])
    with open(path, "a") as f:
        f.write("{not json}\n")
        f.write(_traj().to_json() + "\n")
    with pytest.raises(TrajectoryFormatError, match=r"t.jsonl:2"):
        list(read_trajectories(path))
    bad_version = tmp_path / "v.jsonl"
    bad_version.write_text(json.dumps({**_traj().to_dict(), "version": 99}) + "\n")
    with pytest.raises(TrajectoryFormatError, match="version"):
        list(read_trajectories(bad_version))


def test_trajectory_reader_skips_a_half_written_last_line(tmp_path):
    path = tmp_path / "t.jsonl"
    write_trajectories(path, [_traj()])
    with open(path, "a") as f:
        f.write(_traj(7).to_json()[:40])  # a writer killed mid-line
    assert [t.task_id for t in read_trajectories(path)] == [1]


def test_text_space_takes_real_product_text_and_env_cleans_control_chars():
    from agent_gym.core.spaces import clean_text

    space = TextSpace(max_length=100)
    assert space.contains("no\xa0break space, zero\u200bwidth, \u200eLTR mark, emoji \U0001F600, 中文\nline\ttab")
    assert not space.contains("bell\x07")
    assert clean_text("a\x00b\x1fc\x85d", 100) == "a b c d"
    assert clean_text("x" * 10, 4) == "xxxx"
