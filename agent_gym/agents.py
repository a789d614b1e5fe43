"""The agent protocol: what baselines, trained policies and third-party agents implement.

An ``Agent`` plays one episode at a time::

    class MyAgent:
        def reset(self, instruction: str, info: dict) -> None: ...
        def act(self, observation: str, info: dict) -> str: ...

A ``BatchAgent`` plays many episodes at once (one per *slot*), so that a model can
generate for all of them in one batch::

    class MyBatchAgent:
        def reset(self, slot: int, instruction: str, info: dict) -> None: ...
        def act_batch(self, slots: list[int], observations: list[str], infos: list[dict]) -> list[str]: ...

``as_batch_agent`` turns a factory of ``Agent`` into a ``BatchAgent`` (one agent per slot).
An agent that sets ``needs_goal = True`` (the oracle) is given the goal in ``info["goal"]``
by the evaluation harness; no other agent sees it.

A batch agent whose action failed for some slots only raises ``SlotErrors`` (each failed slot's
exception, the other slots' actions), so the harness skips or stops just those episodes. An
exception with ``fatal = True`` (a wrong model name, a bad key) stops a run even when it skips
failed episodes. An agent may describe its last step with ``step_info()`` (``Agent``) or
``step_info(slot)`` (``BatchAgent``): a dict the harness stores in the trajectory step
(``Step.agent_info``; the LLM agents put the raw ``reply``, ``fallback``, ``parse_failure``,
``requests``, ``retries``, ``prompt_tokens`` and ``completion_tokens`` there).

``load_agent("rule")`` loads a shipped baseline by name; ``load_agent("pkg.mod:obj")`` loads
a class, a factory or an instance from any importable module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Agent(Protocol):
    def reset(self, instruction: str, info: dict) -> None: ...

    def act(self, observation: str, info: dict) -> str: ...


@runtime_checkable
class BatchAgent(Protocol):
    def reset(self, slot: int, instruction: str, info: dict) -> None: ...

    def act_batch(self, slots: Sequence[int], observations: Sequence[str], infos: Sequence[dict]) -> list[str]: ...


class SlotErrors(Exception):
    """``act_batch`` failed for some slots: ``errors`` maps each to its exception, ``actions``
    maps the other slots to their actions (to be applied as usual)."""

    def __init__(self, errors: dict[int, BaseException], actions: dict[int, str]):
        first = next(iter(errors.values()))
        super().__init__(f"{len(errors)} slot(s) failed; first: {type(first).__name__}: {first}")
        self.errors, self.actions = dict(errors), dict(actions)


class PerSlotAgents:
    """A ``BatchAgent`` made of one ``Agent`` per slot, created on demand by ``factory``."""

    def __init__(self, factory: Callable[[], Agent]):
        self.factory = factory
        self.agents: dict[int, Agent] = {}
        probe = factory()
        self.agents[0] = probe
        self.name = getattr(probe, "name", type(probe).__name__)
        self.needs_goal = bool(getattr(probe, "needs_goal", False))

    def reset(self, slot: int, instruction: str, info: dict) -> None:
        if slot not in self.agents:
            self.agents[slot] = self.factory()
        self.agents[slot].reset(instruction, info)

    def act_batch(self, slots, observations, infos) -> list[str]:
        actions: list[str | None] = []
        errors: dict[int, BaseException] = {}
        for s, o, i in zip(slots, observations, infos):
            try:
                actions.append(self.agents[s].act(o, i))
            except Exception as exc:  # noqa: BLE001 - reported per slot
                if len(slots) == 1:
                    raise
                errors[s] = exc
                actions.append(None)
        if errors:
            raise SlotErrors(errors, {s: a for s, a in zip(slots, actions) if a is not None})
        return actions

    def step_info(self, slot: int) -> dict:
        agent = self.agents.get(slot)
        step_info = getattr(agent, "step_info", None)
        return dict(step_info() or {}) if callable(step_info) else {}


def is_batch_agent(agent: Any) -> bool:
    return callable(getattr(agent, "act_batch", None))


def as_batch_agent(agent_or_factory: Any) -> BatchAgent:
    """A ``BatchAgent`` from a batch agent, an agent class/factory, or a single agent instance."""
    if is_batch_agent(agent_or_factory):
        return agent_or_factory
    if isinstance(agent_or_factory, type) or (callable(agent_or_factory) and not hasattr(agent_or_factory, "act")):
        return PerSlotAgents(agent_or_factory)
    if hasattr(agent_or_factory, "act"):
        # a single instance can only serve one slot at a time: copy it per slot
        import copy

        template = agent_or_factory
        return PerSlotAgents(lambda: copy.deepcopy(template))
    raise TypeError(f"{agent_or_factory!r} is neither an Agent, a BatchAgent nor a factory of agents")


# name -> "module:object"; the baselines live outside the env package
BUILTIN_AGENTS = {
    "random": "baselines.random_agent:RandomAgent",
    "rule": "baselines.rule:RuleAgent",
    "oracle": "agent_gym.webshop.expert:OracleAgent",  # WebShop's expert, planning from the goal
    "expert": "baselines.expert:ExpertAgent",  # each benchmark's own expert (info["expert_action"])
    "react": "baselines.react:ReActBatchAgent",  # concurrent requests across slots
    "hf": "baselines.hf_agent:HFAgent",
}


def resolve(spec: str) -> Any:
    target = BUILTIN_AGENTS.get(spec, spec)
    if ":" not in target:
        raise ValueError(f"unknown agent {spec!r}: use one of {sorted(BUILTIN_AGENTS)} or 'module:object'")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} for agent {spec!r}: {exc}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{module_name!r} has no {attr!r} (agent {spec!r})")
        obj = getattr(obj, part)
    return obj


def load_agent(spec: str, **kwargs) -> BatchAgent:
    """The agent named ``spec`` as a ``BatchAgent``; ``kwargs`` go to its constructor."""
    obj = resolve(spec)
    is_factory = isinstance(obj, type) or (callable(obj) and not hasattr(obj, "act") and not is_batch_agent(obj))
    if not is_factory:
        if kwargs:
            raise ValueError(f"agent {spec!r} is an instance: it takes no options")
        return as_batch_agent(obj)
    if isinstance(obj, type) and is_batch_agent(obj):  # a BatchAgent class: one instance serves all slots
        return obj(**kwargs)
    return PerSlotAgents(lambda: obj(**kwargs))


def agent_name(agent: Any) -> str:
    return str(getattr(agent, "name", type(agent).__name__))
