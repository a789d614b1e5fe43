"""trainers.core rollouts: policy, prompts, batched HF generation and grouped multi-turn rollouts."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import agent_gym  # noqa: E402,F401
from agent_gym.core import EnvGroup  # noqa: E402
from trainers.core import collate, masked_logprobs  # noqa: E402
from trainers.core.generation import GenOut, Generator, HFGenerator  # noqa: E402
from trainers.core.policy import Policy  # noqa: E402
from trainers.core.prompts import build_step_messages, format_reply, parse_response  # noqa: E402
from trainers.core.rollout import episode_to_trajectory, rollout  # noqa: E402
from trainers.core.tiny import build_tiny_model_and_tokenizer  # noqa: E402

OBS_CHARS = 600  # short prompts keep the tiny model fast


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    path = build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))
    return Policy.load(path, device="cpu")


def make_group(catalog, n):
    return EnvGroup.make("agent_gym/WebShop-v0", n, catalog=catalog, max_steps=3)


def test_policy_save_load_roundtrip(policy, tmp_path):
    out = policy.save(tmp_path / "p")
    again = Policy.load(out, dtype="float32", device="cpu")
    msgs = [{"role": "user", "content": "hello"}]
    assert again.encode(msgs) == policy.encode(msgs)
    assert policy.render(msgs).endswith("<|im_start|>assistant\n")


def test_sampled_rollout_runs_to_completion_and_logprobs_match(policy, small_catalog):
    group = make_group(small_catalog, 4)
    gen = HFGenerator(policy, max_new_tokens=24, do_sample=True, seed=1)
    assert isinstance(gen, Generator)
    episodes = rollout(group, gen, [0, 1], group_size=2, history=3, max_observation_chars=OBS_CHARS)
    assert group.all_done and [e.task_id for e in episodes] == [0, 0, 1, 1]
    steps = [s for e in episodes for s in e.steps]
    for e in episodes:
        assert e.done and 1 <= len(e.steps) <= 3
        assert e.total_reward == pytest.approx(sum(s.reward for s in e.steps))
        for s in e.steps:
            assert {"anchor", "page", "invalid_action"} <= set(s.info)
            assert s.prompt_ids == policy.encode(s.messages)
            assert len(s.response_ids) == len(s.response_logprobs) > 0
    # log-probs recorded at generation = masked_logprobs on prompt + response (token alignment)
    batch = collate([{"input_ids": s.prompt_ids + s.response_ids,
                      "labels_mask": [0] * len(s.prompt_ids) + [1] * len(s.response_ids)} for s in steps],
                    pad_id=policy.tokenizer.pad_token_id)
    with torch.no_grad():
        per_token, _ = masked_logprobs(policy.model, **batch)
    for row, s in enumerate(steps):
        n, m = len(s.prompt_ids), len(s.response_ids)
        recomputed = per_token[row, n - 1:n - 1 + m]
        assert torch.allclose(recomputed, torch.tensor(s.response_logprobs), atol=1e-4)
    traj = episode_to_trajectory(episodes[0], agent="tiny")
    assert traj.actions == [s.action for s in episodes[0].steps] and traj.done
    assert traj.reward == pytest.approx(episodes[0].total_reward)


def test_seeded_sampling_is_reproducible(policy):
    msgs = [[{"role": "user", "content": "Instruction: i want red shoes"}]] * 2
    a = HFGenerator(policy, max_new_tokens=8, seed=5).generate(msgs)
    b = HFGenerator(policy, max_new_tokens=8, seed=5).generate(msgs)
    assert [o.response_ids for o in a] == [o.response_ids for o in b]


def test_greedy_copies_of_a_task_play_identically(policy, small_catalog):
    group = make_group(small_catalog, 2)
    gen = HFGenerator(policy, max_new_tokens=16, do_sample=False)
    a, b = rollout(group, gen, [3], group_size=2, fmt="tags", max_observation_chars=OBS_CHARS)
    assert [(s.response_ids, s.action, s.reward, s.info["anchor"]) for s in a.steps] == \
           [(s.response_ids, s.action, s.reward, s.info["anchor"]) for s in b.steps]


def test_both_formats_parse_known_good_replies():
    available = ["click[back to search]", "click[b0aaa11111]", "click[next >]"]
    for fmt in ("react", "tags"):
        reply = format_reply("open the first one", "click[B0AAA11111]", fmt)
        assert parse_response(reply, available, fmt) == ("open the first one", "click[b0aaa11111]")
        msgs = build_step_messages("buy mugs", [], "page", available, fmt=fmt)
        assert msgs[0]["role"] == "system" and "click[next >]" in msgs[-1]["content"]
    assert parse_response("Thought: hm\nAction: search[red mug]", None, "react")[1] == "search[red mug]"
    assert parse_response("<think>x</think><action>search[red mug]</action>", None, "tags") == ("x", "search[red mug]")
    assert parse_response("Action: search[red mug]", None, "tags")[1] is None  # no tag in the tags format
    with pytest.raises(ValueError):
        parse_response("x", None, "json")


class ScriptedGenerator:
    """Replies from a list (one per call per env), in the Generator protocol."""

    def __init__(self, replies):
        self.replies = list(replies)

    def generate(self, conversations):
        return [GenOut(text=self.replies.pop(0), prompt_ids=[], response_ids=[], response_logprobs=[])
                for _ in conversations]


def test_unparseable_reply_is_an_invalid_action(small_catalog):
    group = make_group(small_catalog, 1)
    gen = ScriptedGenerator(["I do not know what to do", "Thought: go\nAction: search[shirt]",
                             "<think>x</think>"])
    (ep,) = rollout(group, gen, [0], group_size=1, max_steps=2)
    first, second = ep.steps
    assert first.parse_error and first.action == "I do not know what to do" and first.info["invalid_action"]
    assert not second.parse_error and second.action == "search[shirt]" and not second.info["invalid_action"]
    assert not ep.done and len(gen.replies) == 1  # max_steps stopped the loop
