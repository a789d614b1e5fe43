"""The trainers' prompts: the one builder and parser of ``agent_gym.core.prompts``, under the
names the trainers use (``build_step_messages`` is ``build_messages``), so a policy is trained
on exactly the prompts the LLM baselines and ``trainers.agent.PolicyAgent`` send.
"""

from agent_gym.core.prompts import (FORMATS, TAGS_RULE, REACT_RULE, Turn, agent_prompt_of, build_messages,
                                    env_prompt, format_reply, parse_response, system_prompt)

build_step_messages = build_messages

__all__ = ["FORMATS", "REACT_RULE", "TAGS_RULE", "Turn", "agent_prompt_of", "build_messages", "build_step_messages",
           "env_prompt", "format_reply", "parse_response", "system_prompt"]
