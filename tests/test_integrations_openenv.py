"""OpenEnv (openenv-core 0.3): our envs as OpenEnv Environments, served on loopback and
played with OpenEnv's own WebSocket client.

All slow: importing openenv.core imports gradio (about 5 s of CPU), so nothing here is
imported at collection time (``make test`` collects this module too) and every check runs
in ``make test-slow``.
"""

import json
import socket
import threading
import time

import gymnasium as gym
import pytest

import agent_gym  # noqa: F401
from baselines.expert import ExpertAgent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def oe():
    import agent_gym.integrations.openenv as module

    return module


def _json(value):
    return json.loads(json.dumps(value))


def _expert_episode(env_id, task_id, **kwargs):
    """(observations, rewards, infos, actions) of the expert in process."""
    env = gym.make(env_id, expose_goal=True, **kwargs)
    obs, info = env.reset(options={"task_id": task_id})
    agent = ExpertAgent()
    agent.reset(info["instruction"], info)
    observations, rewards, infos, actions, done = [obs], [], [info], [], False
    while not done:
        action = agent.act(obs, info)
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs), rewards.append(reward), infos.append(info), actions.append(action)
        done = terminated or truncated
    env.close()
    return observations, rewards, infos, actions


def test_environment_in_process_is_the_gym_env(oe):
    GymTextEnvironment, TextAction = oe.GymTextEnvironment, oe.TextAction
    observations, rewards, infos, actions = _expert_episode("agent_gym/KeyDoor-v0", 5)
    env = GymTextEnvironment("agent_gym/KeyDoor-v0", expose_goal=True)
    first = env.reset(task_id=5, episode_id="e1")
    assert (first.text, first.info, first.done) == (observations[0], infos[0], False)
    assert env.state.episode_id == "e1" and env.state.task_id == 5
    for i, action in enumerate(actions):
        out = env.step(TextAction(action=action))
        assert (out.text, out.reward, out.info) == (observations[i + 1], rewards[i], infos[i + 1])
    assert out.done and out.terminated and not out.truncated and rewards[-1] > 0
    assert env.state.step_count == len(actions) and env.state.done
    with pytest.raises(Exception, match="episode is over"):
        env.step(TextAction(action="go[hall]"))
    with pytest.raises(ValueError, match="unknown reset arguments"):
        env.reset(tsk_id=1)


def test_make_app_checks_its_arguments(oe):
    make_app, TextAction = oe.make_app, oe.TextAction
    with pytest.raises(ValueError, match="unknown env id"):
        make_app("agent_gym/NoSuch-v0")
    with pytest.raises(ValueError, match="max_concurrent_envs"):
        make_app("agent_gym/KeyDoor-v0", max_concurrent_envs=0)
    with pytest.raises(Exception):  # pydantic: actions are strings
        TextAction(action=3)


def test_info_survives_openenv_serialisation(oe):
    """OpenEnv's serializer drops ``metadata``: ``info`` is a declared field, so it travels."""
    from openenv.core.env_server.serialization import serialize_observation

    env = oe.GymTextEnvironment("agent_gym/KeyDoor-v0")
    payload = serialize_observation(env.reset(task_id=0))
    assert payload["observation"]["info"]["task_id"] == 0
    assert "available_actions" in payload["observation"]["info"]
    assert oe.TextEnvClient._parse_result(None, _json(payload)).observation.info == _json(env.reset(task_id=0).info)


# ----- a real server on loopback -----------------------------------------------------


class _Server:
    """uvicorn on 127.0.0.1 in a thread, stopped on exit (bounded start wait)."""

    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return f"http://127.0.0.1:{self.port}"
            time.sleep(0.05)
        raise RuntimeError("the OpenEnv server did not start in 10 s")

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.mark.parametrize("env_id, task_ids", [("agent_gym/KeyDoor-v0", (3, 17)), ("agent_gym/WebShop-v0", (0, 4))])
def test_openenv_client_plays_expert_episodes_like_in_process(env_id, task_ids, request, oe):
    make_app, TextAction, TextEnvClient = oe.make_app, oe.TextAction, oe.TextEnvClient
    kwargs = {"catalog": request.getfixturevalue("small_catalog")} if "WebShop" in env_id else {}
    expected = {t: _expert_episode(env_id, t, **kwargs) for t in task_ids}
    with _Server(make_app(env_id, max_concurrent_envs=2, expose_goal=True, **kwargs)) as url:
        a, b = TextEnvClient(base_url=url).sync(), TextEnvClient(base_url=url).sync()
        with a, b:
            # two sessions at once, their steps interleaved: each sees only its own episode
            ta, tb = task_ids
            ra, rb = a.reset(task_id=ta), b.reset(task_id=tb)
            assert ra.observation.text == expected[ta][0][0] and rb.observation.text == expected[tb][0][0]
            got = {ta: ([ra.observation.text], [], [ra.observation.info]), tb: ([rb.observation.text], [], [rb.observation.info])}
            steps = max(len(expected[t][3]) for t in task_ids)
            for i in range(steps):
                for client, t in ((a, ta), (b, tb)):
                    if i < len(expected[t][3]):
                        r = client.step(TextAction(action=expected[t][3][i]))
                        got[t][0].append(r.observation.text), got[t][1].append(r.reward), got[t][2].append(r.observation.info)
            for t in task_ids:
                observations, rewards, infos, _ = expected[t]
                assert got[t][0] == observations and got[t][1] == rewards and got[t][2] == _json(infos)
                assert rewards[-1] > 0
            state = a.state()
            assert (state.env_id, state.task_id, state.step_count, state.done) == (env_id, ta, len(expected[ta][3]), True)

            # a third session is over capacity: OpenEnv's clear error, and the two others still work
            c = TextEnvClient(base_url=url).sync()
            with pytest.raises(RuntimeError, match=r"capacity: 2/2 sessions.*CAPACITY_REACHED"):
                with c:
                    c.reset(task_id=0)
            assert a.reset(task_id=ta).observation.text == expected[ta][0][0]
        # the sessions closed: a new client gets one
        with TextEnvClient(base_url=url).sync() as d:
            assert d.reset(task_id=tb).observation.text == expected[tb][0][0]
            with pytest.raises(RuntimeError, match="unknown reset arguments"):
                d.reset(task=1)


def test_openenv_generic_client_needs_no_agent_gym_code(oe):
    """OpenEnv's GenericEnvClient (plain dicts, nothing of ours on the client side) plays an episode."""
    from openenv.core.generic_client import GenericAction, GenericEnvClient

    observations, rewards, infos, actions = _expert_episode("agent_gym/KeyDoor-v0", 21)
    with _Server(oe.make_app("agent_gym/KeyDoor-v0", expose_goal=True)) as url:
        with GenericEnvClient(base_url=url).sync() as env:
            first = env.reset(task_id=21)
            assert first.observation["text"] == observations[0] and first.observation["info"] == _json(infos[0])
            got = [env.step(GenericAction(action=a)) for a in actions]
            state = env.state()
    assert [r.observation["text"] for r in got] == observations[1:] and [r.reward for r in got] == rewards
    assert got[-1].done and got[-1].observation["terminated"] and state["step_count"] == len(actions)


def test_http_step_is_stateless(oe):
    """OpenEnv's plain HTTP /step builds a fresh env per request: episodes need the WebSocket."""
    import requests

    with _Server(oe.make_app("agent_gym/KeyDoor-v0")) as url:
        r = requests.post(f"{url}/reset", json={"task_id": 2}, timeout=10)
        assert r.status_code == 200 and r.json()["observation"]["info"]["task_id"] == 2
        # the step lands in a new env that was never reset: gymnasium's ResetNeeded, a 500
        r = requests.post(f"{url}/step", json={"action": {"action": "go[left]"}}, timeout=10)
        assert r.status_code == 500


def test_serve_openenv_command_line():
    """``agent-gym serve KeyDoor-v0 --openenv`` on loopback plays an expert episode with OpenEnv's client."""
    import subprocess
    import sys

    from agent_gym.integrations.openenv import TextAction, TextEnvClient

    observations, rewards, _, actions = _expert_episode("agent_gym/KeyDoor-v0", 9)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "agent_gym.eval.cli", "serve", "KeyDoor-v0", "--openenv", "--host", "127.0.0.1",
           "--port", str(port), "--max-concurrent-envs", "1", "--env-arg", "max_steps=10"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import requests

        for _ in range(240):  # bounded wait: the server imports openenv (gradio) first
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                assert proc.poll() is None, "the server exited"
                time.sleep(0.25)
        else:
            pytest.fail("the server did not answer in 60 s")
        with TextEnvClient(base_url=f"http://127.0.0.1:{port}").sync() as client:
            assert client.reset(task_id=9).observation.text == observations[0]
            got = [client.step(TextAction(action=a)) for a in actions]
        assert [r.observation.text for r in got] == observations[1:] and [r.reward for r in got] == rewards
        assert got[-1].done
    finally:
        proc.terminate()
        proc.wait(timeout=30)
