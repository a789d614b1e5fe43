"""Small deterministic text environments for tests and quick training checks."""

from agent_gym.toy.keys import KeyDoorEnv, KeyDoorExpert, expert_action

__all__ = ["KeyDoorEnv", "KeyDoorExpert", "expert_action"]
