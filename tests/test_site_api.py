"""The site's remote-agent JSON API gives exactly what the Python env gives."""

import importlib.util
import json
import re
import threading
from pathlib import Path

import gymnasium as gym
import pytest
from werkzeug.serving import make_server

import agent_gym  # noqa: F401  (registers the envs)
from agent_gym.webshop.site import create_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app(small_catalog):
    return create_app(catalog=small_catalog, split="test")


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def _post(client, path, body=None, status=200):
    r = client.post(path, json=body if body is not None else {})
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.is_json
    return r.get_json()


def _json(value):
    """What a value becomes after a JSON round trip (what a remote agent sees)."""
    return json.loads(json.dumps(value))


def _create(client, **body):
    return _post(client, "/api/create", body)["id"]


def _first_product(info):
    return next((a for a in info["available_actions"] if re.match(r"click\[b0[0-9a-z]+\]$", a)), "click[b0none]")


def _scripts(instruction):
    """Action scripts: each item is an action or a callable of the last info."""
    search = f"search[{instruction}]"
    return [
        [search, _first_product, "click[buy now]"],
        ["click[buy now]", "hello", "search[]", search, "search[again]", _first_product,
         "click[description]", "click[< prev]", "click[features]", "click[< prev]", "click[< prev]",
         "click[next >]", "click[< prev]", _first_product, "click[buy now]"],
        [search, "click[next >]", _first_product, "click[reviews]", "click[back to search]",
         "search[" + "x" * 3000 + "]", "click[back to search]", "click[nothing]"],
    ]


@pytest.mark.parametrize("mode,max_steps", [("text", 15), ("text_rich", 15), ("html", 4), ("url", 6)])
def test_api_matches_the_env(client, small_catalog, mode, max_steps):
    env = gym.make("agent_gym/WebShop-v0", catalog=small_catalog, split="test",
                   observation_mode=mode, max_steps=max_steps).unwrapped
    for task_id in (0, 3, 7):
        for script in _scripts(small_catalog.goal("human", "test", task_id)["instruction_text"]):
            sid = _create(client, observation_mode=mode, max_steps=max_steps)
            obs, info = env.reset(options={"task_id": task_id})
            got = _post(client, f"/api/{sid}/reset", {"task_id": task_id})
            assert got == {"observation": obs, "info": _json(info)}
            over = False
            for item in script:
                if over:
                    break
                action = item(info) if callable(item) else item
                obs, reward, terminated, truncated, info = env.step(action)
                got = _post(client, f"/api/{sid}/step", {"action": action})
                assert got == _json({"observation": obs, "reward": reward, "terminated": terminated,
                                     "truncated": truncated, "info": info})
                assert client.get(f"/api/{sid}/observation").get_json() == {"observation": obs, "info": _json(info)}
                over = terminated or truncated
            if over:  # a step after the end: 409, like EpisodeOverError
                assert _post(client, f"/api/{sid}/step", {"action": "click[buy now]"}, status=409)["error"]
            assert _post(client, f"/api/{sid}/close") == {"closed": True}


def test_truncation_and_seeded_reset(client, small_catalog):
    env = gym.make("agent_gym/WebShop-v0", catalog=small_catalog, split="test", max_steps=3).unwrapped
    sid = _create(client, max_steps=3)
    obs, info = env.reset(seed=123)
    assert _post(client, f"/api/{sid}/reset", {"seed": 123}) == {"observation": obs, "info": _json(info)}
    for _ in range(3):
        expected = _json(dict(zip(("observation", "reward", "terminated", "truncated", "info"), env.step("nope"))))
        assert _post(client, f"/api/{sid}/step", {"action": "nope"}) == expected
    assert expected["truncated"] and not expected["terminated"] and expected["info"]["won"] is False
    assert _post(client, f"/api/{sid}/step", {"action": "nope"}, status=409)
    # a reset starts a new episode on the same session
    assert _post(client, f"/api/{sid}/reset", {"task_id": 1})["info"]["task_id"] == 1


def test_errors_are_json_with_proper_codes(client, app):
    assert _post(client, "/api/nope-nope-nope-nope-nope/step", {"action": "x"}, status=404)["error"]
    assert client.get("/api/../../etc/observation").status_code == 404
    sid = _create(client)
    assert _post(client, f"/api/{sid}/step", {"action": "search[x]"}, status=409)  # before reset
    assert client.get(f"/api/{sid}/observation").status_code == 409
    _post(client, f"/api/{sid}/reset", {"task_id": 0})
    for bad in [{}, {"action": 3}, {"action": None}, {"action": ["click[buy now]"]}]:
        assert "message" in _post(client, f"/api/{sid}/step", bad, status=400)
    for raw in [b"{not json", b"[1, 2]", b"\xff\xfe", b'"text"']:
        r = client.post(f"/api/{sid}/step", data=raw, content_type="application/json")
        assert r.status_code == 400 and r.is_json and "Traceback" not in r.get_data(as_text=True)
    for bad in [{"task_id": 10**9}, {"task_id": -1}, {"task_id": "0"}, {"task_id": True}, {"seed": -1},
                {"seed": 1.5}]:
        assert _post(client, f"/api/{sid}/reset", bad, status=400)["message"]
    for bad in [{"observation_mode": "pdf"}, {"max_steps": 0}, {"max_steps": "15"}, {"goals": "synthetic"},
                {"split": "train"}, {"colour": "red"}]:
        assert _post(client, "/api/create", bad, status=400)["message"]
    assert _create(client, goals="human", split="test")
    r = client.post(f"/api/{sid}/step", json={"action": "search[" + "x" * 200_000 + "]"})
    assert r.status_code == 413 and r.is_json
    r = client.get("/api/create")
    assert r.status_code == 405 and r.is_json
    assert _post(client, f"/api/{sid}/step", {"action": "search[shirt]"})["info"]["page"] == "results"  # still up
    _post(client, f"/api/{sid}/close")
    assert _post(client, f"/api/{sid}/close", status=404)
    assert client.get(f"/api/{sid}/observation").status_code == 404


def test_sessions_are_bounded_and_separate(small_catalog):
    client = create_app(catalog=small_catalog, split="test", max_sessions=3).test_client()
    ids = [_create(client) for _ in range(5)]
    assert len(set(ids)) == 5 and all(len(i) >= 16 for i in ids)
    assert [client.post(f"/api/{i}/reset", json={"task_id": 0}).status_code for i in ids] == [404, 404, 200, 200, 200]
    _post(client, f"/api/{ids[2]}/step", {"action": "search[shirt]"})
    assert client.get(f"/api/{ids[3]}/observation").get_json()["info"]["page"] == "search"
    idle = create_app(catalog=small_catalog, split="test", idle_seconds=0.0).test_client()
    sid = _create(idle)
    assert idle.post(f"/api/{sid}/reset", json={}).status_code == 404  # evicted when idle


def test_remote_agent_example_against_a_real_server(app, capsys):
    spec = importlib.util.spec_from_file_location("remote_agent", ROOT / "examples" / "remote_agent.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = {}
        runner = threading.Thread(target=lambda: result.setdefault(
            "reward", example.main(["--url", f"http://127.0.0.1:{server.server_port}", "--timeout", "20"])), daemon=True)
        runner.start()
        runner.join(timeout=60)
        assert not runner.is_alive(), "the example did not finish in time"
    finally:
        server.shutdown()
        thread.join(timeout=10)
    env = gym.make("agent_gym/WebShop-v0", catalog=app.extensions["agent_gym"]["catalog"], split="test").unwrapped
    _, info = env.reset(options={"task_id": 0})
    reward = 0.0
    for action in [f"search[{info['instruction']}]", None, "click[buy now]"]:
        _, reward, _, _, info = env.step(action or _first_product(info))
    assert result["reward"] == reward
    assert f"reward: {reward}" in capsys.readouterr().out
