"""The environment contract of DESIGN.md, checked on the WebShop env."""

import json
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import agent_gym  # noqa: F401  (registers the ids)
from agent_gym.core import EpisodeOverError
from agent_gym.webshop.pages import render_html, render_text


@pytest.fixture(scope="module")
def env(sample_catalog):
    e = gym.make("agent_gym/WebShop-v0", catalog=sample_catalog, goals="synthetic", split="test")
    yield e
    e.close()


def _play_to_item(env, task_id=0):
    obs, info = env.reset(options={"task_id": task_id})
    obs, r, term, trunc, info = env.step(f"search[{info['instruction']}]")
    asin = next(a for a in info["available_actions"] if a.startswith("click[b0"))
    return env.step(asin)


def test_registered_and_no_torch_import():
    code = ("import sys, gymnasium as gym, agent_gym; assert 'agent_gym/WebShop-v0' in gym.registry; "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'openenv', 'spacy', 'jnius') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_check_env(sample_catalog):
    for mode in ("text", "text_rich", "html", "url"):
        e = gym.make("agent_gym/WebShop-v0", catalog=sample_catalog, goals="synthetic", observation_mode=mode)
        check_env(e.unwrapped, skip_render_check=True)


def test_info_keys_and_a_full_episode(env):
    obs, info = env.reset(seed=3, options={"task_id": 7})
    for key in ("task_id", "instruction", "available_actions", "anchor", "page", "step", "invalid_action", "has_search_bar"):
        assert key in info
    assert info["page"] == "search" and info["has_search_bar"] and info["available_actions"] == ["search[<query>]"]
    assert obs.startswith("WebShop [SEP] Instruction: [SEP] ") and info["instruction"] in obs
    obs, r, term, trunc, info = env.step(f"search[{info['instruction']}]")
    assert info["page"] == "results" and not info["has_search_bar"] and "Page 1 (Total results: 50)" in obs
    assert "click[next >]" in info["available_actions"] and "click[< prev]" not in info["available_actions"]
    first = next(a for a in info["available_actions"] if a.startswith("click[b0"))
    obs, r, term, trunc, info = env.step(first.upper().replace("CLICK", "click"))  # argument is lower-cased
    assert info["page"] == "item" and not info["invalid_action"]
    assert "Buy Now" in obs and "click[buy now]" in info["available_actions"]
    obs, r, term, trunc, info = env.step("click[description]")
    assert info["page"] == "item_sub"
    obs, r, term, trunc, info = env.step("click[< prev]")
    assert info["page"] == "item"
    obs, r, term, trunc, info = env.step("click[buy now]")
    assert term and not trunc and info["page"] == "done"
    assert 0.0 <= r <= 1.0 and set(info["reward_info"]) >= {"r_type", "r_att", "w_att"}
    assert info["won"] == (r == 1.0)
    with pytest.raises(EpisodeOverError):
        env.step("click[back to search]")


def test_buying_the_target_with_its_options_scores_like_the_reward(env, sample_catalog):
    from agent_gym.webshop import compute_reward

    for task_id in range(5):
        obs, info = env.reset(options={"task_id": task_id})
        goal = sample_catalog.goal("synthetic", "test", task_id)
        session = env.unwrapped.session
        # go straight to the target through the state machine's own search
        env.step(f"search[{goal['asin']}]")
        session.results = [goal["asin"]]  # place the target first on the page
        env.step(f"click[{goal['asin'].lower()}]")
        for name, value in goal["goal_options"].items():
            obs, r, term, trunc, info = env.step(f"click[{value}]")
            assert not info["invalid_action"], info.get("error")
        obs, r, term, trunc, info = env.step("click[buy now]")
        target = sample_catalog.get(goal["asin"])
        expected, _ = compute_reward(target, goal, price=target.price, options=goal["goal_options"])
        assert r == pytest.approx(expected)


def test_invalid_actions_change_nothing(env):
    obs, info = env.reset(options={"task_id": 1})
    for bad in ["", "click[buy now]", "click[]", "search[]", "search[   ]", "jump[x]", "click[nope]", "search", "[x]"]:
        obs2, r, term, trunc, info2 = env.step(bad)
        assert obs2 == obs and r == 0.0 and not term and info2["invalid_action"] and info2["error"]
        assert info2["anchor"] == info["anchor"]
    with pytest.raises(TypeError):
        env.step(123)
    env.step("search[shoes]")
    obs, r, term, trunc, info = env.step("search[hats]")  # no search bar on the results page
    assert info["invalid_action"] and "back to search" in info["error"]


def test_truncation_at_max_steps(sample_catalog):
    e = gym.make("agent_gym/WebShop-v0", catalog=sample_catalog, goals="synthetic", max_steps=3)
    e.reset(options={"task_id": 0})
    results = [e.step("click[nothing]") for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True] and not any(r[2] for r in results)
    assert results[-1][4]["won"] is False
    with pytest.raises(EpisodeOverError):
        e.step("click[nothing]")


def test_paging_stops_at_the_last_page(env):
    env.reset(options={"task_id": 2})
    obs, r, term, trunc, info = env.step("search[shirt]")
    pages = 1
    while "click[next >]" in info["available_actions"]:
        obs, r, term, trunc, info = env.step("click[next >]")
        pages += 1
    assert pages == 5 and "Page 5 (Total results: 50)" in obs
    obs, r, term, trunc, info = env.step("click[next >]")
    assert info["invalid_action"]


def test_anchors_equal_for_equal_states_across_episodes(env):
    seen = []
    for _ in range(2):
        obs, info = env.reset(options={"task_id": 4})
        anchors = [info["anchor"]]
        for a in ["search[cotton shirt]", "click[next >]", "click[< prev]"]:
            anchors.append(env.step(a)[4]["anchor"])
        seen.append(anchors)
    assert seen[0] == seen[1]
    assert seen[0][1] == seen[0][3]  # back on page 1 of the same query: same state
    assert len(set(seen[0][:3])) == 3


def test_reset_without_task_id_is_seeded(env):
    a = env.reset(seed=11)[1]["task_id"]
    b = env.reset(seed=11)[1]["task_id"]
    assert a == b
    with pytest.raises(ValueError):
        env.reset(options={"task_id": 10**6})


def test_html_and_text_modes_show_the_same_strings(env):
    from html.parser import HTMLParser

    class Visible(HTMLParser):
        def __init__(self):
            super().__init__()
            self.out, self.skip = [], 0

        def handle_starttag(self, tag, attrs):
            self.skip += tag in ("head", "title", "style", "script")

        def handle_endtag(self, tag):
            self.skip -= tag in ("head", "title", "style", "script")

        def handle_data(self, data):
            if not self.skip and data.strip():
                self.out.append(data.strip())

    _play_to_item(env, task_id=3)
    session = env.unwrapped.session
    for page_action in [None, "click[features]"]:
        if page_action:
            env.step(page_action)
        parser = Visible()
        parser.feed(render_html(session))
        assert " [SEP] ".join(parser.out) == render_text(session)


def test_html_escapes_user_strings(env):
    env.reset(options={"task_id": 0})
    session = env.unwrapped.session
    env.step('search[<script>alert("x")</script>]')
    html = render_html(session)
    assert "<script>" not in html


def test_same_task_same_episode_in_another_process(sample_catalog, env):
    actions = ["search[long sleeve shirt]", "click[next >]", "click[back to search]", "search[face cream]"]
    code = f"""
import json, gymnasium as gym, agent_gym
from agent_gym.webshop import Catalog
env = gym.make("agent_gym/WebShop-v0", catalog=Catalog.open({str(sample_catalog.folder)!r}), goals="synthetic")
obs, info = env.reset(options={{"task_id": 9}})
out = [[obs, info["anchor"]]]
for a in {actions!r}:
    o, r, te, tr, i = env.step(a)
    out.append([o, i["anchor"]])
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    other = json.loads(res.stdout.strip().splitlines()[-1])
    obs, info = env.reset(options={"task_id": 9})
    mine = [[obs, info["anchor"]]]
    for a in actions:
        o, r, te, tr, i = env.step(a)
        mine.append([o, i["anchor"]])
    assert mine == other


ACTION_WORDS = st.sampled_from(["search", "click", "CLICK", "Search", "buy", "", " ", "click ", "[", "]"])
ARGS = st.text(min_size=0, max_size=60) | st.sampled_from(
    ["buy now", "< prev", "next >", "back to search", "description", "b0", '"', "\\", "*", "AND", "((", "a" * 3000])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ACTION_WORDS, ARGS, st.booleans()), min_size=1, max_size=6))
def test_no_action_string_crashes(env, script):
    env.reset(options={"task_id": 5})
    for word, arg, bracket in script:
        action = f"{word}[{arg}]" if bracket else f"{word}{arg}"
        obs, r, term, trunc, info = env.step(action)
        assert isinstance(obs, str) and 0.0 <= r <= 1.0
        assert info["invalid_action"] == ("error" in info)
        if term or trunc:
            env.reset(options={"task_id": 5})


def test_every_task_starts_inside_the_observation_space(sample_catalog):
    # real titles carry no-break spaces, zero-width and direction marks
    for split in ("test", "eval", "train"):
        e = gym.make("agent_gym/WebShop-v0", catalog=sample_catalog, goals="synthetic", split=split).unwrapped
        for task_id in range(e.num_tasks):
            obs, info = e.reset(options={"task_id": task_id})
            assert e.observation_space.contains(obs), (split, task_id)


def test_info_never_reveals_the_target_unless_asked(sample_catalog):
    e = gym.make("agent_gym/WebShop-v0", catalog=sample_catalog, goals="synthetic")
    obs, info = e.reset(options={"task_id": 0})
    target = sample_catalog.goal("synthetic", "test", 0)["asin"]
    assert target not in json.dumps(info) and target.lower() not in json.dumps(info)
    e = gym.make("agent_gym/WebShop-v0", catalog=sample_catalog, goals="synthetic", expose_goal=True)
    obs, info = e.reset(options={"task_id": 0})
    assert info["goal"]["asin"] == target and "goal" in e.step("search[x]")[4]


def test_an_item_page_reached_through_two_queries_has_one_anchor(env):
    """GiGPO groups steps by state; verl-agent anchors on the observation text, and an item
    page does not show the query that led to it."""
    def item_via(query):
        env.reset(options={"task_id": 0})
        results = env.step(f"search[{query}]")[4]["available_actions"]
        return [a for a in results if a.startswith("click[b0")]

    first = item_via("cotton shirt")
    second = item_via("shirt")
    common = next(a for a in first if a in second)
    seen = []
    for query in ("cotton shirt", "shirt"):
        item_via(query)
        obs, _, _, _, info = env.step(common)
        seen.append((obs, info["anchor"], info["page"]))
    assert seen[0][2] == "item" and seen[0][0] == seen[1][0]
    assert seen[0][1] == seen[1][1]
