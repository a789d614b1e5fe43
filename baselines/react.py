"""ReAct with any OpenAI-compatible chat-completions server, on any benchmark.

``ReActAgent`` sends the prompt of ``agent_gym.core.prompts`` (the env's own ``agent_prompt``,
named by ``env_id``; ``agent-gym eval`` passes it) to ``POST {base_url}/chat/completions``
(OpenAI, vLLM, SGLang, llama.cpp, Ollama, LiteLLM, ``transformers serve``, ...), reads the
``Thought:`` and ``Action:`` of the reply and returns the action; when the reply has no usable
action it falls back to a safe valid one and counts a parse failure and a fallback (both also
recorded per step in ``last_step``, which the harness writes into the trajectory).

The defaults fit a local server on CPU (``timeout`` 600 s per request, 256 new tokens);
a timeout's error names ``--agent-arg timeout=`` and ``max_tokens=``.

Configuration comes from the arguments, else the environment: ``OPENAI_BASE_URL``
(default ``https://api.openai.com/v1``), ``AGENT_GYM_MODEL`` or ``OPENAI_MODEL`` (required),
``OPENAI_API_KEY`` (optional: no ``Authorization`` header without one).

Failures raise an ``LLMError``; its ``fatal`` attribute tells a harness what to do:

* ``LLMUnavailableError`` (not fatal): the server could not be reached or kept failing
  (connection errors, timeouts, 429, 5xx) after ``max_retries`` retries with exponential
  backoff; carries ``url``, ``attempts``, ``status`` and ``last_error``. Count the episode as
  failed and go on, or stop.
* ``LLMResponseError`` (not fatal): a 200 whose body is not a chat completion.
* ``LLMRequestError`` (fatal): a 4xx other than 429 (bad model name, bad key, prompt too
  long...), raised at once with the server's message and ``status`` (a 404 from a base URL
  without ``/v1`` suggests adding it).
* ``LLMConfigError`` (fatal): no model, or a base URL that is not http(s).

Only the standard library is used for HTTP.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agent_gym.agents import SlotErrors
from agent_gym.core.prompts import fallback_action, is_available, parse_action
from baselines.llm_common import EpisodeMemory, agent_system_prompt

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = 600.0  # s per request: a small model on a CPU server takes minutes for 256 tokens
TIMEOUT_HINT = ("a slow server: raise --agent-arg timeout=SECONDS (now {timeout:g}) "
                "or ask for fewer tokens with --agent-arg max_tokens=N (now {max_tokens})")
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})


class LLMError(RuntimeError):
    """Base of the errors of the LLM baselines. ``fatal``: retrying later will not help."""

    fatal = False


class LLMConfigError(LLMError, ValueError):
    fatal = True


class LLMRequestError(LLMError):
    """The server refused the request (4xx other than 429): not retried."""

    fatal = True

    def __init__(self, message: str, *, url: str, status: int):
        super().__init__(message)
        self.url, self.status = url, status


class LLMResponseError(LLMError):
    """The server answered 200 with something that is not a chat completion."""

    def __init__(self, message: str, *, url: str):
        super().__init__(message)
        self.url = url


class LLMUnavailableError(LLMError):
    """The server could not be reached, timed out or kept failing after all retries."""

    def __init__(self, message: str, *, url: str, attempts: int, last_error: str, status: int | None = None):
        super().__init__(message)
        self.url, self.attempts, self.last_error, self.status = url, attempts, last_error, status


@dataclass
class Completion:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    attempts: int = 1
    latency_s: float = 0.0
    finish_reason: str | None = None


@dataclass
class ClientStats:
    requests: int = 0  # HTTP requests sent, retries included
    retries: int = 0
    completions: int = 0
    failures: int = 0  # calls that raised
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def _is_loopback(host: str | None) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or (host or "").startswith("127.")


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.status, self.retry_after = reason, status, retry_after


@dataclass
class ChatClient:
    """A minimal, thread-safe client of ``POST {base_url}/chat/completions``.

    Shared by several agents, it sums their usage in ``stats``. ``copy.deepcopy`` returns
    the client itself, so copies of an agent share it.
    """

    base_url: str | None = None
    model: str | None = None
    api_key: str | None = field(default=None, repr=False)
    temperature: float | None = 0.0
    max_tokens: int | None = 256
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = 3
    backoff: float = 1.0  # first retry waits about this long, then doubles
    max_backoff: float = 30.0
    seed: int | None = 0  # of the backoff jitter
    stop: Sequence[str] | None = None
    extra_body: dict | None = None  # merged into every request (e.g. {"max_completion_tokens": 512})
    headers: dict | None = field(default=None, repr=False)

    def __post_init__(self):
        self.base_url = (self.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).strip()
        self.model = self.model or os.environ.get("AGENT_GYM_MODEL") or os.environ.get("OPENAI_MODEL")
        if self.api_key is None:
            self.api_key = os.environ.get("OPENAI_API_KEY") or None
        if not self.model:
            raise LLMConfigError("no model: pass model=... or set AGENT_GYM_MODEL / OPENAI_MODEL")
        parsed = urllib.parse.urlparse(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise LLMConfigError(f"base_url must be an http(s) URL, got {self.base_url!r}")
        base = self.base_url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        if self.max_retries < 0 or self.timeout <= 0:
            raise LLMConfigError("max_retries must be >= 0 and timeout > 0")
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(parsed.hostname) else []
        self._opener = urllib.request.build_opener(*handlers)
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self.stats = ClientStats()

    def __deepcopy__(self, memo):
        return self

    # ----- one call --------------------------------------------------------------------
    def payload(self, messages: Sequence[dict]) -> dict:
        body: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.stop:
            body["stop"] = list(self.stop)
        if self.extra_body:
            body.update(self.extra_body)
        return body

    def complete(self, messages: Sequence[dict]) -> Completion:
        """The assistant's reply to ``messages``; retries transient failures, else raises ``LLMError``."""
        data = json.dumps(self.payload(messages)).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        headers.update(self.headers or {})
        start = time.monotonic()
        last: _Retryable | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep_before_retry(attempt, last)
            with self._lock:
                self.stats.requests += 1
                self.stats.retries += bool(attempt)
            try:
                body = self._post(data, headers)
            except _Retryable as exc:
                last = exc
                continue
            except LLMError:
                with self._lock:
                    self.stats.failures += 1
                raise
            completion = self._read(body)
            completion.attempts = attempt + 1
            completion.latency_s = time.monotonic() - start
            with self._lock:
                self.stats.completions += 1
                self.stats.prompt_tokens += completion.prompt_tokens or 0
                self.stats.completion_tokens += completion.completion_tokens or 0
                self.stats.latency_s += completion.latency_s
            return completion
        with self._lock:
            self.stats.failures += 1
        attempts = self.max_retries + 1
        hint = (f" ({TIMEOUT_HINT.format(timeout=self.timeout, max_tokens=self.max_tokens)})"
                if last.reason.startswith("timed out") else "")
        raise LLMUnavailableError(
            f"LLM server at {self.url} unavailable after {attempts} attempt{'s' * (attempts > 1)}: {last.reason}{hint}",
            url=self.url, attempts=attempts, last_error=last.reason, status=last.status)

    def _sleep_before_retry(self, attempt: int, last: _Retryable | None) -> None:
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        with self._lock:
            delay *= 0.5 + self._rng.random()  # jitter in [0.5, 1.5)
        if last is not None and last.retry_after is not None:
            delay = max(delay, last.retry_after)
        time.sleep(max(0.0, min(delay, self.max_backoff)))

    def _post(self, data: bytes, headers: dict) -> bytes:
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                detail = _error_message(exc.read())
            except Exception:  # noqa: BLE001 - the body is only for the message
                detail = ""
            finally:
                exc.close()
            reason = f"HTTP {status} {exc.reason}" + (f": {detail}" if detail else "")
            if status in RETRY_STATUS or status >= 500:
                raise _Retryable(reason, status, _retry_after(exc.headers)) from None
            path = urllib.parse.urlparse(self.base_url).path.rstrip("/")
            if status == 404 and not path.endswith(("/v1", "/chat/completions")):
                reason += (f" (OpenAI-compatible servers answer under /v1: try --base-url "
                           f"{self.base_url.rstrip('/')}/v1)")
            raise LLMRequestError(f"LLM server at {self.url} refused the request: {reason}",
                                  url=self.url, status=status) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise _Retryable(f"timed out after {self.timeout:g} s") from None
            raise _Retryable(f"cannot connect: {reason}") from None
        except (TimeoutError, socket.timeout):
            raise _Retryable(f"timed out after {self.timeout:g} s") from None
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise _Retryable(f"connection failed: {type(exc).__name__}: {exc}") from None

    def _read(self, body: bytes) -> Completion:
        try:
            data = json.loads(body)
            choice = data["choices"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMResponseError(f"LLM server at {self.url} sent no chat completion: {body[:300]!r}",
                                   url=self.url) from None
        message = choice.get("message") or {}
        text = message.get("content")
        if text is None:
            text = choice.get("text")  # a completions-style answer
        if isinstance(text, list):  # content parts
            text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
        usage = data.get("usage") or {}
        return Completion(text=text or "", prompt_tokens=usage.get("prompt_tokens"),
                          completion_tokens=usage.get("completion_tokens"),
                          finish_reason=choice.get("finish_reason"))


def _error_message(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:300].decode("utf-8", "replace").strip()
    err = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(err, dict):
        return str(err.get("message") or err.get("detail") or err)[:500]
    return str(err)[:500]


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class ReActAgent:
    """ReAct (Thought/Action) through an OpenAI-compatible chat server; an ``Agent``.

    One episode at a time: ``reset`` starts a new one and clears the conversation. The system
    prompt is the env's (``env_id``: its ``agent_prompt`` and, with ``example``, its
    ``agent_example``), or ``system_prompt`` when given. The last ``history``
    observation/action turns are sent in full. Counters (cumulative over the agent's
    episodes): ``requests``, ``retries``, ``prompt_tokens``, ``completion_tokens`` (when the
    server reports ``usage``), ``parse_failures`` (replies without a usable action),
    ``fallbacks`` (steps whose action is the fallback, not the model's), ``invalid_actions``
    (parsed actions not available on the page); ``stats()`` returns them. ``last_step`` holds
    the last step's raw reply and counts, ``last_thought`` and ``last_action`` its parse.
    Pass ``client=`` to share one ``ChatClient`` (and its summed ``stats``) between agents.
    """

    name = "react"

    def __init__(self, base_url: str | None = None, model: str | None = None, api_key: str | None = None,
                 temperature: float | None = 0.0, max_tokens: int | None = 256, timeout: float = DEFAULT_TIMEOUT,
                 max_retries: int = 3, history: int = 5, *, env_id: str | None = None, backoff: float = 1.0,
                 max_backoff: float = 30.0, seed: int | None = 0, stop: Sequence[str] | None = None,
                 extra_body: dict | None = None, system_prompt: str | None = None, example: bool = True,
                 max_observation_chars: int | None = 4000, client: ChatClient | None = None):
        self.client = client or ChatClient(
            base_url=base_url, model=model, api_key=api_key, temperature=temperature, max_tokens=max_tokens,
            timeout=timeout, max_retries=max_retries, backoff=backoff, max_backoff=max_backoff, seed=seed,
            stop=stop, extra_body=extra_body)
        self.env_id = env_id
        self.memory = EpisodeMemory(history=history, system=agent_system_prompt(env_id, system_prompt, example),
                                    max_observation_chars=max_observation_chars)
        self.requests = self.retries = self.prompt_tokens = self.completion_tokens = 0
        self.parse_failures = self.fallbacks = self.invalid_actions = self.steps = 0
        self.last_thought: str | None = None
        self.last_reply: str | None = None
        self.last_action: str | None = None
        self.last_step: dict[str, Any] = {}
        self.instruction = ""

    @property
    def model(self) -> str:
        return self.client.model

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def reset(self, instruction: str, info: dict) -> None:
        self.instruction = instruction
        self.memory.reset(instruction)
        self.last_thought = self.last_reply = self.last_action = None
        self.last_step = {}

    def messages(self, observation: str, info: dict) -> list[dict]:
        """The chat messages the next ``act`` would send (for inspection)."""
        return self.memory.prompt(observation, info)

    def act(self, observation: str, info: dict) -> str:
        available = info.get("available_actions")
        messages = self.memory.prompt(observation, info)
        try:
            completion = self.client.complete(messages)
        except LLMUnavailableError as exc:
            self.requests += exc.attempts
            self.retries += exc.attempts - 1
            raise
        except LLMError:
            self.requests += 1
            raise
        self.requests += completion.attempts
        self.retries += completion.attempts - 1
        self.prompt_tokens += completion.prompt_tokens or 0
        self.completion_tokens += completion.completion_tokens or 0
        self.steps += 1
        thought, action = parse_action(completion.text, available)
        fallback = action is None
        if fallback:
            self.parse_failures += 1
            self.fallbacks += 1
            action = fallback_action(self.instruction, available)
        elif not is_available(action, available):
            self.invalid_actions += 1
        self.memory.record(thought, action)
        self.last_reply, self.last_thought, self.last_action = completion.text, thought, action
        self.last_step = {"reply": completion.text, "parse_failure": fallback, "fallback": fallback,
                          "requests": completion.attempts, "retries": completion.attempts - 1,
                          "prompt_tokens": completion.prompt_tokens,
                          "completion_tokens": completion.completion_tokens}
        return action

    def step_info(self) -> dict[str, Any]:
        """What the harness records in the trajectory step (``Step.agent_info``)."""
        return dict(self.last_step)

    def stats(self) -> dict[str, int]:
        return {"steps": self.steps, "requests": self.requests, "retries": self.retries,
                "parse_failures": self.parse_failures, "fallbacks": self.fallbacks,
                "invalid_actions": self.invalid_actions, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens}


class ReActBatchAgent:
    """Many ``ReActAgent`` episodes at once (a ``BatchAgent``), their requests sent concurrently.

    All slots share one ``ChatClient`` (``client.stats`` sums them); ``concurrency`` bounds the
    requests in flight. The keyword arguments are those of ``ReActAgent``. If some slots' requests
    fail, the others still finish their step and ``act_batch`` raises ``SlotErrors`` with each
    failed slot's error and the other slots' actions (the harness skips or stops only what failed).
    Requests run in daemon threads, so Ctrl-C stops the run at once instead of waiting for them.
    """

    name = "react"

    def __init__(self, concurrency: int = 8, env_id: str | None = None, **kwargs):
        client_keys = ("base_url", "model", "api_key", "temperature", "max_tokens", "timeout", "max_retries",
                       "backoff", "max_backoff", "seed", "stop", "extra_body")
        client = kwargs.pop("client", None) or ChatClient(**{k: kwargs.pop(k) for k in client_keys if k in kwargs})
        for k in client_keys:
            kwargs.pop(k, None)
        self.client = client
        self.agent_kwargs = {**kwargs, "env_id": env_id}
        self.concurrency = max(1, int(concurrency))
        self.agents: dict[int, ReActAgent] = {}

    def reset(self, slot: int, instruction: str, info: dict) -> None:
        if slot not in self.agents:
            self.agents[slot] = ReActAgent(client=self.client, **self.agent_kwargs)
        self.agents[slot].reset(instruction, info)

    def act_batch(self, slots: Sequence[int], observations: Sequence[str], infos: Sequence[dict]) -> list[str]:
        jobs = list(zip(slots, observations, infos))
        results: dict[int, str] = {}
        errors: dict[int, BaseException] = {}
        if len(jobs) <= 1 or self.concurrency == 1:
            for s, o, i in jobs:
                try:
                    results[s] = self.agents[s].act(o, i)
                except Exception as exc:  # noqa: BLE001 - reported per slot below
                    errors[s] = exc
        else:
            _run_daemon_jobs([(s, self.agents[s].act, o, i) for s, o, i in jobs], self.concurrency, results, errors)
        if errors:
            if len(errors) == len(jobs) == 1:
                raise next(iter(errors.values()))
            raise SlotErrors(errors, results)
        return [results[s] for s in slots]

    def step_info(self, slot: int) -> dict[str, Any]:
        agent = self.agents.get(slot)
        return agent.step_info() if agent is not None else {}

    def stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for agent in self.agents.values():
            for k, v in agent.stats().items():
                total[k] = total.get(k, 0) + v
        return total

    def close(self) -> None:
        """Nothing to release: the request threads end with their batch."""


def _run_daemon_jobs(jobs, concurrency: int, results: dict, errors: dict) -> None:
    """Run ``(key, fn, *args)`` jobs on at most ``concurrency`` daemon threads; fill ``results``
    and ``errors`` by key. The wait is interruptible (Ctrl-C), and an interrupted run does not
    wait for requests in flight at exit (the threads are daemons)."""
    pending = list(reversed(jobs))
    lock = threading.Lock()
    finished = threading.Semaphore(0)

    def worker():
        while True:
            with lock:
                if not pending:
                    return
                key, fn, *args = pending.pop()
            try:
                value = fn(*args)
                with lock:
                    results[key] = value
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                with lock:
                    errors[key] = exc
            finally:
                finished.release()

    for _ in range(min(concurrency, len(jobs))):
        threading.Thread(target=worker, daemon=True, name="react-request").start()
    for _ in jobs:
        finished.acquire()
