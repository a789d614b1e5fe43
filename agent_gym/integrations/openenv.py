"""Any registered env served over OpenEnv (openenv-core 0.3): ``pip install agent-gym[openenv]``.

    from agent_gym.integrations.openenv import make_app, TextEnvClient, TextAction
    app = make_app("agent_gym/KeyDoor-v0", max_concurrent_envs=8)   # a FastAPI app
    # uvicorn.run(app, host="127.0.0.1", port=8000), or: agent-gym serve KeyDoor-v0 --openenv
    with TextEnvClient(base_url="http://127.0.0.1:8000").sync() as client:
        result = client.reset(task_id=3)
        result = client.step(TextAction(action="go north"))

``GymTextEnvironment`` wraps ``gym.make(env_id, **gym_kwargs)`` as an OpenEnv
``Environment``; each WebSocket session (each client) gets its own env, up to
``max_concurrent_envs`` at once (OpenEnv's session manager; a client past the limit gets
OpenEnv's error ``Server at capacity: N/N sessions active`` with code ``CAPACITY_REACHED``
on its first message). Envs in one process share what they share in process (WebShop's
catalog and searcher), which is why ``SUPPORTS_CONCURRENT_SESSIONS`` holds: no env keeps
mutable state outside its instance.

Episodes need the WebSocket session (the client above): OpenEnv's stateless HTTP
``POST /reset`` and ``POST /step`` build a fresh env for every request and close it after,
so an HTTP ``/step`` never continues an episode.

Observations carry ``info`` as a declared field: OpenEnv's serializer drops an observation's
``metadata`` (``serialize_observation`` excludes it), so ``info`` there would never reach
the client.
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from typing import Any

import gymnasium as gym
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server.http_server import create_fastapi_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, Observation, State
from pydantic import Field
from websockets.exceptions import ConnectionClosed

import agent_gym  # noqa: F401  (registers the envs)


class TextAction(Action):
    """One action string of the env's grammar (any string: an invalid one changes nothing)."""

    action: str = Field(..., description="the action, e.g. search[red shirt] or click[buy now]")


class TextObservation(Observation):
    """What ``reset``/``step`` return in process, plus OpenEnv's ``done`` and ``reward``."""

    text: str = Field(default="", description="the observation string")
    info: dict[str, Any] = Field(default_factory=dict, description="the env's info dict")
    terminated: bool = Field(default=False, description="the episode ended (goal reached or failed)")
    truncated: bool = Field(default=False, description="the episode hit max_steps")


class TextState(State):
    """OpenEnv's ``State`` (episode id, step count) plus the task being played."""

    env_id: str = ""
    task_id: int | None = None
    instruction: str = ""
    done: bool = False


class GymTextEnvironment(Environment[TextAction, TextObservation, TextState]):
    """An OpenEnv ``Environment`` over ``gym.make(env_id, **gym_kwargs)``.

    ``reset(seed=None, episode_id=None, task_id=None)`` starts task ``task_id`` (or one drawn
    from ``seed``, as ``env.reset`` does); ``step(TextAction)`` is ``env.step``; ``done`` is
    ``terminated or truncated``. A step after the end raises (the client sees the env's
    message).
    """

    SUPPORTS_CONCURRENT_SESSIONS = True  # one env per session, nothing mutable shared

    def __init__(self, env_id: str, **gym_kwargs: Any):
        super().__init__()
        self.env_id = env_id
        self.env = gym.make(env_id, **gym_kwargs)
        self._state = TextState(env_id=env_id)

    def reset(self, seed: int | None = None, episode_id: str | None = None, task_id: int | None = None,
              **kwargs: Any) -> TextObservation:
        if kwargs:
            raise ValueError(f"unknown reset arguments {sorted(kwargs)[:5]}: expected seed, episode_id, task_id")
        options = None if task_id is None else {"task_id": task_id}
        obs, info = self.env.reset(seed=seed, options=options)
        self._state = TextState(episode_id=episode_id or uuid.uuid4().hex, step_count=0, env_id=self.env_id,
                                task_id=info.get("task_id"), instruction=info.get("instruction", ""))
        return TextObservation(text=obs, info=info, reward=0.0, done=False)

    def step(self, action: TextAction, timeout_s: float | None = None, **kwargs: Any) -> TextObservation:
        obs, reward, terminated, truncated, info = self.env.step(action.action)
        self._state.step_count += 1
        self._state.done = bool(terminated or truncated)
        return TextObservation(text=obs, info=info, reward=float(reward), done=self._state.done,
                               terminated=bool(terminated), truncated=bool(truncated))

    @property
    def state(self) -> TextState:
        return self._state

    def close(self) -> None:
        self.env.close()


def make_app(env_id: str, max_concurrent_envs: int = 8, **gym_kwargs: Any):
    """OpenEnv's FastAPI app (``/ws`` sessions, ``/reset``, ``/step``, ``/state``, ``/schema``,
    ``/health``) serving ``gym.make(env_id, **gym_kwargs)``, one env per session."""
    if env_id not in gym.registry:
        raise ValueError(f"unknown env id {env_id!r}: registered ids are {sorted(agent_gym.registration.ENV_IDS)}")
    if not isinstance(max_concurrent_envs, int) or max_concurrent_envs < 1:
        raise ValueError(f"max_concurrent_envs must be a positive int, got {max_concurrent_envs!r}")
    factory = functools.partial(GymTextEnvironment, env_id, **gym_kwargs)
    return create_fastapi_app(factory, TextAction, TextObservation, max_concurrent_envs=max_concurrent_envs)


class TextEnvClient(EnvClient[TextAction, TextObservation, TextState]):
    """OpenEnv's WebSocket client, typed for these envs (``.sync()`` for a blocking one)."""

    async def _send_and_receive(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            return await super()._send_and_receive(message)
        except ConnectionClosed as exc:
            # A server at capacity sends its error and closes the socket right after accepting
            # it; when the close wins the race with our first message, the send fails: the
            # server's reason is still waiting on the socket, so raise that instead.
            try:
                reason = json.loads(await asyncio.wait_for(self._ws.recv(), timeout=5.0))
            except Exception:
                raise ConnectionError(f"the OpenEnv server closed the session: {exc}") from exc
            data = reason.get("data", {}) if isinstance(reason, dict) else {}
            raise RuntimeError(f"Server error: {data.get('message', 'Unknown error')} "
                               f"(code: {data.get('code', 'UNKNOWN')})") from exc

    def _step_payload(self, action: TextAction) -> dict[str, Any]:
        return {"action": action.action}

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[TextObservation]:
        data = payload.get("observation", {})
        observation = TextObservation(text=data.get("text", ""), info=data.get("info", {}),
                                      terminated=data.get("terminated", False), truncated=data.get("truncated", False),
                                      reward=payload.get("reward"), done=payload.get("done", False))
        return StepResult(observation=observation, reward=payload.get("reward"), done=payload.get("done", False))

    def _parse_state(self, payload: dict[str, Any]) -> TextState:
        return TextState(**payload)


def serve(env_id: str, host: str = "127.0.0.1", port: int = 8000, max_concurrent_envs: int = 8,
          **gym_kwargs: Any) -> None:
    """Run ``make_app`` with uvicorn (what ``agent-gym serve ENV --openenv`` does)."""
    import uvicorn

    uvicorn.run(make_app(env_id, max_concurrent_envs=max_concurrent_envs, **gym_kwargs), host=host, port=port)
