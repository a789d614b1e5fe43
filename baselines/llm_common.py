"""What the LLM baselines share: the memory of one episode, prompted as ``agent_gym.core.prompts``
builds every LLM prompt (the env's own ``agent_prompt``, the ReAct reply format, and the env's
``agent_example`` when ``example`` is on).

The agent alternates a ``Thought: ...`` line and an ``Action: ...`` line (the format of ReAct,
Yao et al. 2023); the environment's answer is shown as ``Observation: ...``. To bound the
context, only the last ``history`` observation/action turns are shown in full; older turns are
reduced to the list of actions taken.

Nothing here imports torch or makes network calls: ``baselines.react`` (HTTP, any
OpenAI-compatible server) and ``baselines.hf_agent`` (local transformers model) build on it.
"""

from __future__ import annotations

from agent_gym.core.prompts import (Turn, agent_example_of, agent_prompt_of, build_messages, format_observation,
                                    system_prompt)


def agent_system_prompt(env_id: str | None = None, system_prompt_text: str | None = None,
                        example: bool = True) -> str:
    """The system prompt of the LLM baselines: ``system_prompt_text`` when given, else the env's
    ``agent_prompt`` with the react reply format (and its ``agent_example`` when ``example``);
    the generic prompt when no env is named."""
    if system_prompt_text is not None:
        return system_prompt_text
    if env_id is None:
        return system_prompt("react")
    return system_prompt("react", agent_prompt_of(env_id), agent_example_of(env_id) if example else None)


class EpisodeMemory:
    """The turns of one episode and the prompt for the next step; shared by the LLM agents."""

    def __init__(self, instruction: str = "", *, history: int = 5, system: str | None = None,
                 max_observation_chars: int | None = 4000):
        self.instruction = instruction
        self.history = history
        self.system = system if system is not None else system_prompt("react")
        self.max_observation_chars = max_observation_chars
        self.turns: list[Turn] = []
        self._pending: tuple[str, str | None] | None = None

    def reset(self, instruction: str) -> None:
        self.instruction = instruction
        self.turns = []
        self._pending = None

    def prompt(self, observation: str, info: dict | None, history: int | None = None) -> list[dict]:
        """The messages for the current observation (remembered for ``record``)."""
        obs, note = format_observation(observation, info, self.max_observation_chars)
        self._pending = (obs, note)
        return build_messages(self.instruction, self.turns, obs, (info or {}).get("available_actions"),
                              history=self.history if history is None else history, note=note,
                              system=self.system, max_observation_chars=self.max_observation_chars)

    def record(self, thought: str | None, action: str) -> None:
        obs, note = self._pending or ("", None)
        self.turns.append(Turn(observation=obs, action=action, thought=thought, note=note))
        self._pending = None
