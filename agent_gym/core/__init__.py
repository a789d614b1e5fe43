"""The text-environment contract shared by every agent_gym benchmark."""

from agent_gym.core.anchors import PagePatternSimilarity, anchor_of
from agent_gym.core.env import SPLITS, EpisodeOverError, Outcome, TextEnv
from agent_gym.core.groups import EnvGroup
from agent_gym.core.spaces import TextSpace
from agent_gym.core.trajectory import (
    Step,
    Trajectory,
    TrajectoryFormatError,
    read_trajectories,
    write_trajectories,
)

__all__ = [
    "SPLITS", "EnvGroup", "EpisodeOverError", "Outcome", "PagePatternSimilarity", "Step", "TextEnv",
    "TextSpace", "Trajectory", "TrajectoryFormatError", "anchor_of", "read_trajectories",
    "write_trajectories",
]
