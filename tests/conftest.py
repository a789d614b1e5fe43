import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_1K = ROOT.parent / "shared" / "webshop-1k"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# built catalogs and indexes are cached between runs of the suite
os.environ.setdefault("AGENT_GYM_CACHE", str(ROOT / ".cache" / "test"))


# The session-wide trained models the learning checks start from, each built once under a lock
# (``keydoor_training.once``): a worker that asks while the other builds it waits idle.
SHARED_MODELS = ("crossroads_start", "keydoor_run", "uneven_keydoor")


def _seconds(item) -> float:
    mark = item.get_closest_marker("long")
    return 0.0 if mark is None else float(mark.kwargs.get("seconds", 30))


@pytest.hookimpl(trylast=True)  # after `-m` deselection: the shares are of what runs
def pytest_collection_modifyitems(config, items):
    """The long checks first, spread over the pytest-xdist workers (``tests/scheduling.py``)."""
    from scheduling import order_for_workers

    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    items[:] = order_for_workers(
        items, workers, _seconds, module=lambda item: item.path,
        group=lambda item: next((f for f in SHARED_MODELS if f in getattr(item, "fixturenames", ())), None))


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
