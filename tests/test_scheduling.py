"""tests/scheduling.py: the suite's order for two pytest-xdist workers under worksteal."""

from scheduling import order_for_workers, whole_modules

# (name, module, seconds if long, shared model it starts from)
ITEMS = [("a1", "a", 0, None), ("a2", "a", 0, None), ("ppo", "rl", 85, "cross"), ("grpo", "rl", 35, "cross"),
         ("b1", "b", 0, None), ("b2", "b", 0, None), ("b3", "b", 0, None), ("dpo", "off", 30, "kd"),
         ("nat", "off", 30, "kd"), ("rft", "off", 30, "kd"), ("c1", "c", 0, None), ("d1", "d", 0, None),
         ("d2", "d", 0, None), ("e1", "e", 0, None), ("e2", "e", 0, None), ("e3", "e", 0, None)]
BY_NAME = {i[0]: i for i in ITEMS}


def order(workers, items=ITEMS):
    return [i[0] for i in order_for_workers(items, workers, seconds=lambda i: i[2], group=lambda i: i[3],
                                            module=lambda i: i[1])]


def test_each_worker_starts_on_its_own_shared_model():
    names = order(2)
    assert sorted(names) == sorted(i[0] for i in ITEMS)
    first, second = names[:len(names) // 2], names[len(names) // 2:]  # worksteal's first shares
    # the kd group (90 s in all) and the cross group (120 s) open different shares, longest first
    assert first[:2] == ["ppo", "grpo"] and second[:3] == ["dpo", "nat", "rft"]
    # then short tests only, in whole modules: no module's tests in both shares
    assert not {BY_NAME[n][1] for n in first} & {BY_NAME[n][1] for n in second}
    assert all(BY_NAME[n][2] == 0 for n in first[2:] + second[3:])


def test_without_workers_the_long_tests_come_first():
    assert order(1)[:5] == ["ppo", "grpo", "dpo", "nat", "rft"]
    assert order(1)[5:] == [i[0] for i in ITEMS if not i[2]]  # the rest in file order
    short = [i for i in ITEMS if not i[2]]
    assert order(2, short) == [i[0] for i in short]  # nothing long: the order is kept


def test_whole_modules_splits_only_when_nothing_adds_up():
    modules = [["a1", "a2"], ["b1", "b2", "b3"], ["c1"]]
    assert whole_modules(modules, 3) == ["a1", "a2", "c1"] and modules == [["b1", "b2", "b3"]]
    modules = [["a1", "a2"], ["b1", "b2", "b3"]]
    assert whole_modules(modules, 4) == ["a1", "a2", "b1", "b2"] and modules == [["b3"]]
    assert whole_modules([["x"]], 0) == []
