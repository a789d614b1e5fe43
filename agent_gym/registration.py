"""Every environment id of agent_gym, registered in one place."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "agent_gym/WebShop-v0": "agent_gym.webshop.env:WebShopEnv",
    "agent_gym/KeyDoor-v0": "agent_gym.toy.keys:KeyDoorEnv",
}


def register_envs() -> None:
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # no TimeLimit wrapper: the envs truncate at their own ``max_steps``
            gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
