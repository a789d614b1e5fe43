"""AgentGym's WebShop API on the site: the payloads of AgentGym's ``WebshopEnvClient``
(agentenv/agentenv/envs/webshop.py) replayed against the routes, checked against the shapes
of its server (agentenv-webshop/agentenv_webshop/{server,model}.py) and against the
in-process env."""

import gymnasium as gym
import pytest

import agent_gym  # noqa: F401  (registers the envs)
from agent_gym.webshop.site import create_app
from agent_gym.webshop.site.agentgym import locate
from agent_gym.webshop.expert import OracleAgent

BASE = "/agentgym"


@pytest.fixture(scope="module")
def client(sample_catalog):
    app = create_app(catalog=sample_catalog, split="test", goals="synthetic", agentgym=True)
    return app.test_client()


# What WebshopEnvClient sends: POST /create with no body; POST /{path} with json=data where
# data["env_idx"] is added last; GET /{path}?env_idx={id}.
def _create(client) -> int:
    r = client.post(f"{BASE}/create")
    assert r.status_code == 200
    return r.get_json()


def _post(client, path, data, env_idx, status=200):
    data = dict(data)
    data["env_idx"] = env_idx
    r = client.post(f"{BASE}/{path}", json=data)
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


def _get(client, path, env_idx, status=200):
    r = client.get(f"{BASE}/{path}?env_idx={env_idx}")
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_json()


def test_client_payloads_give_agentgym_shapes(client, sample_catalog):
    env_idx = _create(client)
    assert type(env_idx) is int
    assert env_idx in client.get(f"{BASE}/list_envs").get_json()

    goal_index = 3  # AgentGym's task ids index the seed-233 synthetic goal list
    reset = _post(client, "reset", {"session_id": goal_index}, env_idx)
    goal = next(g for g in sample_catalog.goals("synthetic") if g["goal_index"] == goal_index)
    first = f"WebShop [SEP] Instruction: [SEP] {goal['instruction_text']} [SEP] Search"  # the original's text page
    assert reset == [first, None]
    assert _get(client, "observation", env_idx) == first
    assert _get(client, "instruction_text", env_idx) == "Instruction: " + goal["instruction_text"]
    assert _get(client, "available_actions", env_idx) == {"has_search_bar": True, "clickables": ["search"]}
    state = _get(client, "state", env_idx)
    assert set(state) == {"url", "html", "instruction_text"}
    assert state["instruction_text"] == "Instruction: " + goal["instruction_text"]
    assert goal["instruction_text"] in state["html"]

    out = _post(client, "step", {"action": "search[shirt]"}, env_idx)
    assert set(out) == {"state", "reward", "done", "info"}
    assert out["reward"] == 0.0 and out["done"] is False and out["info"] is None
    assert out["state"].startswith(f"Instruction: [SEP] {goal['instruction_text']} [SEP] Back to Search [SEP] "
                                   "Page 1 (Total results: 50) [SEP] Next > [SEP] ")
    actions = _get(client, "available_actions", env_idx)
    assert actions["has_search_bar"] is False
    assert actions["clickables"][:2] == ["back to search", "next >"] and len(actions["clickables"]) == 12

    # an invalid action changes nothing (the original's "perform nothing")
    again = _post(client, "step", {"action": "click[not on the page]"}, env_idx)
    assert again == {"state": out["state"], "reward": 0.0, "done": False, "info": None}

    assert _post(client, "close", {}, env_idx) == {"closed": True}
    assert env_idx not in client.get(f"{BASE}/list_envs").get_json()
    _get(client, "observation", env_idx, status=404)


@pytest.mark.parametrize("goal_index", [7, 650, 2400])  # one goal of each split: test, eval, train
def test_expert_episode_matches_in_process_env(client, sample_catalog, goal_index):
    split, task_id = locate(goal_index)
    env = gym.make("agent_gym/WebShop-v0", catalog=sample_catalog, goals="synthetic", split=split,
                   max_steps=50, expose_goal=True).unwrapped
    obs, info = env.reset(options={"task_id": task_id})
    assert info["goal"]["goal_index"] == goal_index
    agent = OracleAgent()
    agent.reset(info["instruction"], info)

    env_idx = _create(client)
    assert _post(client, "reset", {"session_id": goal_index}, env_idx) == [obs, None]
    total, done = 0.0, False
    while not done:
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        out = _post(client, "step", {"action": action}, env_idx)
        assert out == {"state": obs, "reward": reward, "done": terminated or truncated, "info": None}
        total, done = total + reward, terminated or truncated
    assert terminated and total > 0
    # after the purchase nothing changes
    assert _post(client, "step", {"action": "click[buy now]"}, env_idx) == {
        "state": obs, "reward": 0.0, "done": True, "info": None}
    _post(client, "close", {}, env_idx)


def test_bad_requests_are_clear_json_errors(client, sample_catalog):
    env_idx = _create(client)
    n = sample_catalog.num_goals("synthetic")
    err = _post(client, "reset", {"session_id": n}, env_idx, status=400)
    assert str(n) in err["message"]
    assert "integer" in _post(client, "reset", {"session_id": "3"}, env_idx, status=400)["message"]
    assert "string" in _post(client, "step", {"action": 3}, env_idx, status=400)["message"]
    assert "no env" in _post(client, "step", {"action": "search[x]"}, 10**9, status=404)["message"]
    assert "env_idx" in _get(client, "observation", "abc", status=400)["message"]
    r = client.post(f"{BASE}/step", data=b"{not json", content_type="application/json")
    assert r.status_code == 400 and r.is_json
    # the env still works after the bad requests
    assert _post(client, "step", {"action": "search[red]"}, env_idx)["done"] is False


def test_routes_are_off_unless_asked(sample_catalog):
    app = create_app(catalog=sample_catalog, split="test", goals="synthetic")
    assert app.test_client().post(f"{BASE}/create").status_code == 404


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_agentgym_command_line(sample_dir, sample_catalog):
    """``agent-gym serve webshop --agentgym`` on loopback answers AgentGym's client over HTTP."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    cmd = [sys.executable, "-m", "agent_gym.eval.cli", "serve", "webshop", "--agentgym", "--catalog", str(sample_dir),
           "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}{BASE}"

    def call(path, data=None):
        body = None if data is None else json.dumps(data).encode()
        req = urllib.request.Request(base + path, data=body, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    try:
        for _ in range(120):  # bounded wait for the server (the JVM and index open first)
            try:
                assert call("/") == "ok"
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        else:
            pytest.fail("the server did not answer in 60 s")
        env_idx = call("/create", {})
        goal = next(g for g in sample_catalog.goals("synthetic") if g["goal_index"] == 11)
        assert call("/reset", {"session_id": 11, "env_idx": env_idx})[0].endswith(goal["instruction_text"] + " [SEP] Search")
        out = call("/step", {"action": "search[usb]", "env_idx": env_idx})
        assert out["done"] is False and out["info"] is None and "Page 1" in out["state"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
