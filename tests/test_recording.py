import json
import re
import warnings
from pathlib import Path

import pytest

from agent_gym.core.trajectory import read_trajectories
from agent_gym.webshop.human_logs import HumanLogWarning, convert_file, convert_human_logs
from agent_gym.webshop.shop import parse_action
from agent_gym.webshop.site import create_app

HUMAN_LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "webshop-1k" / "human_logs"
PAGES = {"index", "search_results", "item_page", "item_sub_page", "done"}


def _read_lines(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_convert_the_original_human_logs(tmp_path):
    if not HUMAN_LOGS.is_dir() or not list(HUMAN_LOGS.glob("*.jsonl")):
        pytest.skip(f"the original WebShop human logs are not at {HUMAN_LOGS}")
    files = sorted(HUMAN_LOGS.glob("*.jsonl"))
    trajectories, stats = convert_human_logs(HUMAN_LOGS)
    assert len(trajectories) == len(files) == stats.files == stats.sessions
    assert stats.skipped_lines == 0 and stats.actions == sum(len(t.steps) for t in trajectories)
    for file, traj in zip(files, trajectories):
        views = _read_lines(file)
        assert traj.meta["session_id"] == file.stem
        assert traj.instruction == views[0]["goal"]["instruction_text"]
        assert traj.steps and traj.actions[0].startswith("search[")
        for action in traj.actions:
            name, arg = parse_action(action)
            assert name in ("search", "click") and arg and arg == arg.lower(), action
        if views[-1]["page"] == "done":
            assert traj.actions[-1] == "click[buy now]" and traj.done
            assert traj.reward == pytest.approx(views[-1]["reward"])
            assert traj.steps[-1].info["reward_info"] == views[-1]["reward_info"]
            assert "Thank you for shopping" in traj.steps[-1].observation
        assert not any(s.info.get("inferred") for s in traj.steps)
    # the command line writes the same records
    from agent_gym.eval.cli import main

    out = tmp_path / "h.jsonl"
    assert main(["convert-human-logs", str(HUMAN_LOGS), "--output", str(out)]) == 0
    assert [t.actions for t in read_trajectories(out)] == [t.actions for t in trajectories]


def test_odd_lines_are_reported_and_skipped(tmp_path):
    good = {"page": "index", "url": "http://x/abc", "goal": {"instruction_text": "i need a red shirt"}}
    results = {"page": "search_results", "url": "http://x/search_results/abc/%5B%27red%27%5D/1", "goal": good["goal"],
               "content": {"keywords": ["red", "shirt"], "search_result_asins": ["B000000001"], "page": 1}}
    done = {"page": "done", "url": "http://x/done/abc/B000000001/%7B%7D", "goal": good["goal"],
            "content": {"asin": "B000000001", "options": {"size": "M"}, "price": 3.0}, "reward": 0.5,
            "reward_info": {"r_type": 1.0}}
    log = tmp_path / "odd.jsonl"
    log.write_text("\n".join([json.dumps(good), "{not json", "[1, 2]", json.dumps({"page": "nowhere"}),
                              json.dumps({"page": "item_page", "content": {"keywords": ["x"]}}), "",
                              json.dumps(results), json.dumps(done)]) + "\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (traj,) = convert_file(log)
    messages = [str(w.message) for w in caught if issubclass(w.category, HumanLogWarning)]
    assert [m.split(": skipped")[0].rsplit(":", 1)[1] for m in messages] == ["2", "3", "4", "5"]
    assert all(m.startswith(f"{log}:") for m in messages)
    assert traj.actions == ["search[red shirt]", "click[b000000001]", "click[m]", "click[buy now]"]
    assert traj.reward == 0.5 and [s.info.get("inferred", False) for s in traj.steps] == [False, True, True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, stats = convert_human_logs([log, tmp_path / "missing.jsonl"])
    assert stats.skipped_lines == 5 and stats.purchases == 1


def _sid(response):
    return re.search(r"/s/([A-Za-z0-9_-]+)", response.headers["Location"]).group(1)


def test_site_records_human_logs_and_trajectories_and_round_trips(small_catalog, tmp_path):
    app = create_app(catalog=small_catalog, split="test", record_dir=tmp_path)
    client = app.test_client()
    store = app.extensions["agent_gym"]["store"]
    sid = _sid(client.get("/fixed_3"))
    shop = store.get(sid).shop
    played = []

    def act(kind, value):
        r = client.post(f"/s/{sid}/{kind}", data={"q" if kind == "search" else "target": value})
        if "error=" not in r.headers["Location"]:
            played.append(f"{kind}[{value}]".lower() if kind == "search" else f"click[{value.lower()}]")
        assert client.get(f"/s/{sid}").status_code == 200  # the browser follows the redirect

    client.get(f"/s/{sid}")
    act("search", "shirt")
    act("click", "back to search")
    act("search", shop.goal["instruction_text"])
    act("click", "Next >")
    act("click", shop.page_results()[0])
    act("click", "< prev")
    act("click", "not on this page")  # invalid: neither played nor recorded
    act("click", shop.page_results()[1].lower())
    act("click", "Description")
    act("click", "< Prev")
    for values in list(shop.product.options.values())[:2]:
        act("click", values[-1])
    act("click", "buy now")
    assert shop.page == "done"
    assert shop.options  # options were chosen, so the converter must infer option clicks

    views = _read_lines(tmp_path / "human_logs" / f"{sid}.jsonl")
    assert {tuple(sorted(v)) for v in views} <= {("goal", "page", "url"), ("content", "goal", "page", "url"),
                                                 ("content", "goal", "page", "reward", "reward_info", "url")}
    assert {v["page"] for v in views} <= PAGES and views[0]["page"] == "index" and views[-1]["page"] == "done"
    assert views[-1]["reward"] == shop.reward and views[-1]["content"]["asin"] == shop.asin
    item = next(v for v in views if v["page"] == "item_page")
    assert set(item["content"]) == {"keywords", "page", "asin", "options"} and isinstance(item["content"]["page"], str)

    (recorded,) = list(read_trajectories(tmp_path / "trajectories.jsonl"))
    assert recorded.task_id == 3 and recorded.split == "test" and recorded.env_id == "agent_gym/WebShop-v0"
    assert recorded.actions == played and recorded.reward == shop.reward and recorded.done
    assert recorded.observation.startswith("WebShop [SEP] Instruction:")
    assert "Thank you for shopping" in recorded.steps[-1].observation

    # round trip: our human log converted back gives the same actions, pages and anchors
    (converted,) = convert_file(tmp_path / "human_logs" / f"{sid}.jsonl")
    assert converted.actions == played
    assert converted.reward == pytest.approx(recorded.reward)
    assert [s.info["page"] for s in converted.steps] == [s.info["page"] for s in recorded.steps]
    assert [s.info["anchor"] for s in converted.steps] == [s.info["anchor"] for s in recorded.steps]
    assert not any(s.info.get("inferred") for s in converted.steps)


def test_no_recording_without_record_dir(small_catalog, tmp_path):
    app = create_app(catalog=small_catalog, split="test")
    assert app.extensions["agent_gym"]["recorder"] is None
