import gymnasium as gym
import pytest

import agent_gym  # noqa: F401
from agent_gym.core import EnvGroup


def test_groups_of_the_same_task_share_states(small_catalog):
    group = EnvGroup.make("agent_gym/WebShop-v0", 6, catalog=small_catalog, split="train"
                          if small_catalog.num_goals("human", "train") else "test")
    obs, infos = group.reset([4, 9], group_size=3)
    assert group.task_ids == [4, 4, 4, 9, 9, 9]
    assert obs[0] == obs[1] == obs[2] != obs[3]
    assert len({i["anchor"] for i in infos}) == 1  # the same search page state in every env
    instr = [i["instruction"] for i in infos]
    obs, rewards, term, trunc, infos = group.step([f"search[{instr[0]}]", f"search[{instr[0]}]", "search[socks]",
                                                   f"search[{instr[3]}]", "click[nothing]", f"search[{instr[3]}]"])
    assert infos[0]["anchor"] == infos[1]["anchor"] != infos[2]["anchor"]
    assert infos[4]["invalid_action"] and infos[3]["anchor"] == infos[5]["anchor"]
    # every env shares one catalog and one searcher
    assert len({id(e.unwrapped.catalog) for e in group.envs}) == 1
    assert len({id(e.unwrapped.session.search_engine) for e in group.envs}) == 1


def test_finished_envs_are_not_stepped(small_catalog):
    group = EnvGroup.make("agent_gym/WebShop-v0", 2, catalog=small_catalog, max_steps=2)
    group.reset([0], group_size=2)
    group.step(["search[shirt]", "search[shirt]"])
    first = group.envs[0].unwrapped.session.page_results()[0].lower()
    obs, rewards, term, trunc, infos = group.step([f"click[{first}]", "click[nothing]"])
    assert group.done == [True, True] and trunc == [True, True]
    obs2, rewards2, term2, trunc2, infos2 = group.step([None, None])  # nothing is stepped
    assert obs2 == obs and rewards2 == [0.0, 0.0] and not any(term2) and group.all_done
    with pytest.raises(ValueError):
        group.reset([0, 1, 2], group_size=2)
    with pytest.raises(ValueError):
        group.step(["a"])
