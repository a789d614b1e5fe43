import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_1K = ROOT.parent / "shared" / "webshop-1k"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# built catalogs and indexes are cached between runs of the suite
os.environ.setdefault("AGENT_GYM_CACHE", str(ROOT / ".cache" / "test"))


def pytest_collection_modifyitems(config, items):
    """Run the ``long``-marked tests first: with two pytest-xdist workers stealing work, the
    longest test then starts at once instead of being the last one a worker waits for."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: order kept otherwise


def need_sample():
    if not (SHARED_1K / "items_shuffle_1000.json").is_file():
        pytest.skip(f"the WebShop 1k sample is not at {SHARED_1K}")
    return SHARED_1K


@pytest.fixture(scope="session")
def sample_dir():
    return need_sample()


@pytest.fixture(scope="session")
def sample_catalog(sample_dir):
    from agent_gym.webshop import Catalog

    return Catalog.from_folder(sample_dir, progress=False)


@pytest.fixture(scope="session")
def small_catalog():
    """A small synthetic catalog (fast to build) for contract tests."""
    from agent_gym.webshop import Catalog

    return Catalog.synthetic(3000, seed=0, progress=False)
