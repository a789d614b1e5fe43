"""Every environment id of agent_gym, registered in one place."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "agent_gym/WebShop-v0": "agent_gym.webshop.env:WebShopEnv",
    "agent_gym/KeyDoor-v0": "agent_gym.toy.keys:KeyDoorEnv",
    "agent_gym/Crossroads-v0": "agent_gym.toy.crossroads:CrossroadsEnv",
    "agent_gym/HotpotQA-v0": "agent_gym.qa.env:HotpotQAEnv",
    "agent_gym/MultiHopQA-v0": "agent_gym.qa.env:MultiHopQAEnv",
    "agent_gym/Mind2Web-v0": "agent_gym.mind2web.env:Mind2WebEnv",
    "agent_gym/BabyAI-v0": "agent_gym.babyai.env:BabyAIEnv",
    "agent_gym/Sokoban-v0": "agent_gym.sokoban.env:SokobanEnv",
    "agent_gym/ScienceWorld-v0": "agent_gym.scienceworld.env:ScienceWorldEnv",
    "agent_gym/ALFWorld-v0": "agent_gym.alfworld.env:ALFWorldEnv",
    "agent_gym/TextWorld-Cooking-v0": "agent_gym.textworld.env:TextWorldCookingEnv",
    "agent_gym/TextWorld-CoinCollector-v0": "agent_gym.textworld.env:TextWorldCoinCollectorEnv",
}


def register_envs() -> None:
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gym.registry:
            # no TimeLimit wrapper: the envs truncate at their own ``max_steps``
            gym.register(id=env_id, entry_point=entry_point, disable_env_checker=False)
