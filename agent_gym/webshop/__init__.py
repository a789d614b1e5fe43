"""WebShop (Yao et al., 2022): a faithful, fast reimplementation.

Heavy parts (the Lucene searcher, spaCy) load on first use, not on import.
"""

from agent_gym.webshop.catalog import Catalog, CatalogError
from agent_gym.webshop.product import Product
from agent_gym.webshop.reward import RewardRules, compute_reward


def __getattr__(name):
    if name == "SearchEngine":
        from agent_gym.core.search import SearchEngine

        return SearchEngine
    if name == "WebShopEnv":
        from agent_gym.webshop.env import WebShopEnv

        return WebShopEnv
    raise AttributeError(name)


__all__ = ["Catalog", "CatalogError", "Product", "RewardRules", "SearchEngine", "WebShopEnv", "compute_reward"]
