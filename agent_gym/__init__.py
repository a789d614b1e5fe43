"""agent_gym: Gymnasium text environments for LLM agents.

Importing the package registers the environments; it imports neither torch nor the
Lucene searcher (they load on first use).
"""

from agent_gym.registration import register_envs

__version__ = "0.1.0"

register_envs()
