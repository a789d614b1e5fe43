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
SHARED_MODELS = ("crossroads_start", "keydoor_run")


def _seconds(item) -> float:
    mark = item.get_closest_marker("long")
    return 0.0 if mark is None else float(mark.kwargs.get("seconds", 30))


def _shared_model(item) -> str | None:
    return next((f for f in SHARED_MODELS if f in getattr(item, "fixturenames", ())), None)


@pytest.hookimpl(trylast=True)  # after `-m` deselection: the shares are of what runs
def pytest_collection_modifyitems(config, items):
    """Order the suite for ``-n N --dist worksteal``, which first hands worker i the i-th of N
    contiguous shares of the list and later moves tests from the tail of a busy worker's queue
    to an idle one. The ``long``-marked tests open the shares, grouped by the shared model they
    start from and the groups spread by their ``seconds`` (each worker builds a different
    model instead of waiting for the other's), longest first; the short tests close them, so
    what gets moved at the end is short. Without workers: the long tests first."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    long = sorted((i for i in items if _seconds(i)), key=_seconds, reverse=True)  # stable
    short = [i for i in items if not _seconds(i)]
    if workers < 2 or not long:
        items[:] = long + short
        return
    groups: dict[str | None, list] = {}
    for item in long:
        groups.setdefault(_shared_model(item), []).append(item)
    lanes: list[list] = [[] for _ in range(workers)]
    for group in sorted(groups.values(), key=lambda g: sum(map(_seconds, g)), reverse=True):
        min(lanes, key=lambda lane: sum(map(_seconds, lane))).extend(group)
    modules: list[list] = []  # the short tests by module, in file order
    for item in short:
        if not modules or modules[-1][0].path != item.path:
            modules.append([])
        modules[-1].append(item)
    ordered, left = [], len(items)
    for i, lane in enumerate(lanes):
        share = left // (workers - i)  # the size of worker i's first share (xdist's worksteal)
        ordered += lane + _whole_modules(modules, share - len(lane))
        left -= share
    items[:] = ordered + [item for module in modules for item in module]


def _whole_modules(modules: list[list], size: int) -> list:
    """``size`` tests taken from ``modules`` (removed there), whole modules where they fit, so
    that a module's fixtures (a JVM, a search index) are set up by one worker only."""
    taken: list = []
    for module in list(modules):
        if len(taken) + len(module) <= size:
            taken += module
            modules.remove(module)
    if len(taken) < size and modules:  # nothing fits exactly: split the first module left
        cut = size - len(taken)
        taken += modules[0][:cut]
        modules[0] = modules[0][cut:]
    return taken


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
