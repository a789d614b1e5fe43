"""``make_group``: a group of envs in this process or in Ray actors, chosen by name.

Its own module so that ``groups`` (the local group) and ``ray_group`` (which builds on it)
do not import each other.
"""

from __future__ import annotations

from agent_gym.core.groups import EnvGroup

BACKENDS = ("local", "ray")


def make_group(env_id: str, n_envs: int, backend: str = "local", **kwargs):
    """``n_envs`` envs of ``env_id`` as an ``EnvGroup`` (``backend="local"``: one process) or a
    ``RayEnvGroup`` (``backend="ray"``: Ray actors; its options ``envs_per_actor`` and
    ``actor_options`` go with ``kwargs``). Other ``kwargs`` go to ``gym.make``."""
    if backend == "local":
        return EnvGroup.make(env_id, n_envs, **kwargs)
    if backend == "ray":
        from agent_gym.core.ray_group import RayEnvGroup  # imports ray: only when asked

        return RayEnvGroup.make(env_id, n_envs, **kwargs)
    raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")
