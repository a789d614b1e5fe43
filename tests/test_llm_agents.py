"""LLM baselines: the ReAct prompt and parser, ReActAgent against a fake OpenAI-compatible
server on 127.0.0.1, and HFAgent with a tiny random model (skipped without torch/transformers)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import threading
import time

import gymnasium as gym
import pytest

import agent_gym  # noqa: F401 - registers the env
from agent_gym.agents import load_agent
from agent_gym.core.prompts import Turn, build_messages, fallback_action, parse_action, render_plain, system_prompt
from agent_gym.webshop.prompt import AGENT_EXAMPLE, AGENT_PROMPT
from baselines.react import (ChatClient, LLMConfigError, LLMError, LLMRequestError, LLMResponseError,
                             LLMUnavailableError, ReActAgent, ReActBatchAgent)
from baselines.rule import RuleAgent

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
FAST = dict(timeout=2.0, max_retries=2, backoff=0.01, max_backoff=0.05)  # bounded retries for tests


from fake_llm import FakeLLM, fake_llm  # noqa: E402,F401  (tests/fake_llm.py; fake_llm is a fixture)


@pytest.fixture(scope="module")
def env(small_catalog):
    e = gym.make("agent_gym/WebShop-v0", catalog=small_catalog, split="test")
    yield e
    e.close()


def rule_episode(env, task_id):
    """The rule agent's actions and reward on a task: the script the fake LLM replays."""
    agent = RuleAgent()
    obs, info = env.reset(options={"task_id": task_id})
    agent.reset(info["instruction"], info)
    actions, done, reward = [], False, 0.0
    while not done:
        action = agent.act(obs, info)
        actions.append(action)
        obs, reward, term, trunc, info = env.step(action)
        done = term or trunc
    return actions, reward


def play(env, agent, task_id, max_steps=15):
    obs, info = env.reset(options={"task_id": task_id})
    agent.reset(info["instruction"], info)
    actions, rewards, infos = [], [], []
    for _ in range(max_steps):
        action = agent.act(obs, info)
        assert isinstance(action, str)
        actions.append(action)
        obs, reward, term, trunc, info = env.step(action)
        rewards.append(reward)
        infos.append(info)
        if term or trunc:
            break
    return actions, rewards, infos


# ----- prompt and parser ------------------------------------------------------------------------
AVAILABLE = ["click[back to search]", "click[< prev]", "click[next >]", "click[large]", "click[x-large | tall]",
             "click[description]", "click[buy now]", "click[b0aaa11111]"]


@pytest.mark.parametrize("reply, thought, action", [
    ("Thought: it fits\nAction: click[buy now]", "it fits", "click[buy now]"),
    ("action: Click [Buy Now]", None, "click[buy now]"),
    ("```\nThought: ok\nAction: click[Large]\n```", "ok", "click[large]"),
    ("<action>click[B0AAA11111]</action>", None, "click[b0aaa11111]"),
    ("Action: click[buy now].", None, "click[buy now]"),
    ("Action: click['Buy Now']", None, "click[buy now]"),
    ('Action: "click[description]"', None, "click[description]"),
    ("**Thought:** pick the size\n**Action:** `click[x-large | tall]`", "pick the size", "click[x-large | tall]"),
    ("search[red cotton shirt]", None, "search[red cotton shirt]"),
    ('Action: search["red cotton shirt"]', None, "search[red cotton shirt]"),
    ("Thought: next page\nAction: click[next]", "next page", "click[next >]"),
    ("Action: buy now", None, "click[buy now]"),
    ("Action: click Buy Now", None, "click[buy now]"),
    ("Thought: open it\nAction: click[b0aaa11111]\nObservation: ...\nAction: click[buy now]", "open it",
     "click[b0aaa11111]"),
    ("Thought: later I will click[large]\nAction: click[description]", "later I will click[large]",
     "click[description]"),
    ("<think>maybe click[large]</think>\nAction: click[buy now]", None, "click[buy now]"),
    ("Action: click[no such thing]", None, "click[no such thing]"),  # parsed; the env will refuse it
    ("I am not sure what to do.", "I am not sure what to do.", None),
    ("Action: search[<query>]", None, None),
    ("Action:", None, None),
    ("", None, None),
    (None, None, None),
])
def test_parse_action(reply, thought, action):
    assert parse_action(reply, AVAILABLE) == (thought, action)


def test_parse_without_available_actions():
    assert parse_action("Action: click[Buy Now]", None) == (None, "click[buy now]")
    assert parse_action("Action: search[Red Shirt]", []) == (None, "search[Red Shirt]")


def test_fallback_action():
    assert fallback_action("a red shirt", AVAILABLE) == "click[back to search]"
    assert fallback_action("a red  shirt", ["search[<query>]"]) == "search[a red shirt]"
    assert fallback_action("x", ["click[< prev]"]) == "click[< prev]"


def test_prompt_window_and_available_actions():
    turns = [Turn(observation=f"page {i}", action=f"click[item {i}]", thought=f"t{i}") for i in range(8)]
    messages = build_messages("buy a red shirt", turns, "page now", ["click[buy now]", "click[< prev]"], history=5,
                              system=system_prompt("react", AGENT_PROMPT, AGENT_EXAMPLE))
    text = "\n".join(m["content"] for m in messages)
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * 5 + ["user"]
    assert "page 2" not in text and all(f"Observation: page {i}" in text for i in range(3, 8))
    assert "3 earlier steps not shown" in text and "click[item 0], click[item 1], click[item 2]" in text
    assert "Instruction: buy a red shirt" in messages[1]["content"]
    assert messages[2]["content"] == "Thought: t3\nAction: click[item 3]"
    assert messages[-1]["content"].startswith("Observation: page now")
    assert "- click[buy now]\n- click[< prev]" in messages[-1]["content"]
    assert "search[" in messages[0]["content"] and "click[" in messages[0]["content"]
    first = build_messages("buy a red shirt", [], "start", ["search[<query>]"], history=5)
    assert len(first) == 2 and first[1]["content"].startswith("Instruction: buy a red shirt\nObservation: start")
    assert render_plain(first).endswith("\n\nAssistant:")


def test_modules_import_neither_torch_nor_transformers():
    code = ("import sys, baselines.llm_common, baselines.react, baselines.hf_agent; "
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


# ----- ReActAgent against the fake server ------------------------------------------------------
def test_scripted_episode_matches_expected_actions_and_reward(env, fake_llm):
    expected, reward = rule_episode(env, 3)
    assert expected[-1] == "click[buy now]" and len(expected) == 3
    product = expected[1][len("click["):-1]
    server = fake_llm([
        f"Thought: I search for the product.\nAction: search[{expected[0][7:-1]}]",
        f"Thought: The first result looks right.\nAction: click[{product.upper()}]",
        "Thought: Buy it.\nAction: Click [Buy Now]",
    ])
    agent = ReActAgent(base_url=server.url, model="fake-model", api_key="sk-test", **FAST)
    actions, rewards, infos = play(env, agent, 3)
    assert actions == expected
    assert rewards[-1] == pytest.approx(reward) and 0.0 <= rewards[-1] <= 1.0
    assert infos[-1]["page"] == "done"
    assert agent.last_thought == "Buy it." and agent.last_action == "click[buy now]"
    assert agent.stats() == {"steps": 3, "requests": 3, "retries": 0, "parse_failures": 0, "fallbacks": 0, "invalid_actions": 0,
                             "prompt_tokens": 300, "completion_tokens": 30}
    first, last = server.requests[0], server.requests[-1]
    assert first["model"] == "fake-model" and first["temperature"] == 0.0 and first["max_tokens"] == 256
    assert server.headers[0]["Authorization"] == "Bearer sk-test"
    assert first["messages"][0]["role"] == "system" and "search[<query>]" in first["messages"][-1]["content"]
    # the conversation grows: the last request shows the earlier turns and the item page's actions
    assert [m["role"] for m in last["messages"]] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert last["messages"][4]["content"] == f"Thought: The first result looks right.\nAction: click[{product}]"
    assert "- click[buy now]" in last["messages"][-1]["content"]


def test_malformed_replies_parse_or_fall_back(env, fake_llm):
    server = fake_llm([
        "I have no idea.",                                   # nothing: fallback search
        "```\nThought: back\nAction: click[Back To Search]\n```",  # fenced, wrong case
        "<action>search[dip powder]</action>",                # tag
        "Thought: hmm\nAction: dance[wildly]",                # unknown verb: fallback
        "Action: click[nothing like this]",                   # parsed but not available
        "garbage ]]][[[ click[",                              # garbage: fallback
    ])
    agent = ReActAgent(base_url=server.url, model="m", **FAST)
    obs, info = env.reset(options={"task_id": 5})
    agent.reset(info["instruction"], info)
    seen = []
    for _ in range(6):
        action = agent.act(obs, info)
        seen.append((info["page"], action))
        obs, reward, term, trunc, info = env.step(action)
        assert not term
    assert seen[0] == ("search", f"search[{info['instruction']}]")
    assert seen[1] == ("results", "click[back to search]")
    assert seen[2] == ("search", "search[dip powder]")
    assert seen[3] == ("results", "click[back to search]")
    assert seen[4] == ("search", "click[nothing like this]")
    assert seen[5] == ("search", f"search[{info['instruction']}]")
    assert agent.parse_failures == 3 and agent.invalid_actions == 1
    # the refused action is pointed out to the model at the next step
    assert "Your last action was invalid" in server.requests[5]["messages"][-1]["content"]


def test_slow_server_times_out_then_unavailable(fake_llm):
    server = fake_llm([{"sleep": 2.0, "text": "Action: click[buy now]"}] * 3)
    agent = ReActAgent(base_url=server.url, model="m", timeout=0.25, max_retries=2, backoff=0.01, max_backoff=0.05)
    agent.reset("x", {})
    start = time.monotonic()
    with pytest.raises(LLMUnavailableError) as err:
        agent.act("obs", {"available_actions": ["click[buy now]"]})
    assert time.monotonic() - start < 1.8
    assert err.value.attempts == 3 and "timed out" in err.value.last_error and server.url in str(err.value)
    assert not err.value.fatal and isinstance(err.value, LLMError)
    assert len(server.requests) == 3 and agent.requests == 3 and agent.retries == 2


@pytest.mark.parametrize("failure", [
    {"status": 500},
    {"status": 503, "body": {"error": {"message": "overloaded"}}},
    {"status": 429, "headers": {"Retry-After": "0"}},
    {"status": 200, "raw": b"<html>not json</html>"},  # not a completion: LLMResponseError, not retried
])
def test_transient_error_then_success(fake_llm, failure):
    server = fake_llm([failure, "Thought: go\nAction: click[buy now]"])
    agent = ReActAgent(base_url=server.url, model="m", **FAST)
    agent.reset("x", {})
    if "raw" in failure:
        with pytest.raises(LLMResponseError, match="not json"):
            agent.act("obs", {"available_actions": ["click[buy now]"]})
        assert len(server.requests) == 1
        return
    assert agent.act("obs", {"available_actions": ["click[buy now]"]}) == "click[buy now]"
    assert agent.retries == 1 and agent.requests == 2 and len(server.requests) == 2


def test_server_gone_mid_episode(env, fake_llm):
    server = fake_llm(["Action: search[dip powder]"])
    agent = ReActAgent(base_url=server.url, model="m", **FAST)
    obs, info = env.reset(options={"task_id": 1})
    agent.reset(info["instruction"], info)
    obs, *_, info = env.step(agent.act(obs, info))
    server.close()
    start = time.monotonic()
    with pytest.raises(LLMUnavailableError) as err:
        agent.act(obs, info)
    assert time.monotonic() - start < 2.0
    assert err.value.attempts == 3 and "connect" in err.value.last_error and err.value.url.startswith(server.url)
    assert agent.client.stats.failures == 1 and agent.client.stats.completions == 1


def test_bad_request_fails_fast(fake_llm):
    server = fake_llm([{"status": 400, "body": {"error": {"message": "The model 'nope' does not exist"}}}] * 3)
    agent = ReActAgent(base_url=server.url, model="nope", **FAST)
    agent.reset("x", {})
    with pytest.raises(LLMRequestError) as err:
        agent.act("obs", {"available_actions": ["click[buy now]"]})
    assert err.value.status == 400 and err.value.fatal and "does not exist" in str(err.value)
    assert len(server.requests) == 1


def test_configuration_from_env(monkeypatch, fake_llm):
    server = fake_llm(["Action: click[buy now]"])
    for var in ("OPENAI_MODEL", "AGENT_GYM_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/")
    with pytest.raises(LLMConfigError, match="no model"):
        ReActAgent()
    monkeypatch.setenv("OPENAI_MODEL", "env-model")
    agent = ReActAgent(**FAST)
    assert agent.client.url == server.url + "/chat/completions" and agent.model == "env-model"
    agent.reset("x", {})
    assert agent.act("obs", {"available_actions": ["click[buy now]"]}) == "click[buy now]"
    assert server.requests[0]["model"] == "env-model" and "Authorization" not in server.headers[0]
    with pytest.raises(LLMConfigError):
        ReActAgent(base_url="localhost:8000", model="m")
    assert "sk-" not in repr(ChatClient(base_url=server.url, model="m", api_key="sk-secret"))


def test_load_agent_and_batch_agents(env, fake_llm):
    server = fake_llm(default="Thought: buy\nAction: click[buy now]")
    # the harness's path: load_agent("react", ...) makes one ReActAgent per slot
    batch = load_agent("react", base_url=server.url, model="m", **FAST)
    assert batch.name == "react"
    original = ReActAgent(base_url=server.url, model="m")
    assert copy.deepcopy(original).client is original.client  # copies share the client (and its stats)
    concurrent = ReActBatchAgent(concurrency=3, base_url=server.url, model="m", **FAST)
    for agent in (batch, concurrent):
        obs, infos = [], []
        for slot in range(3):
            o, i = env.reset(options={"task_id": slot})
            agent.reset(slot, i["instruction"], i)
            obs.append(o)
            infos.append(i)
        actions = agent.act_batch([0, 1, 2], obs, infos)
        assert actions == ["click[buy now]"] * 3  # parsed, though not on the search page: counted invalid
    assert concurrent.stats()["parse_failures"] == 0 and concurrent.stats()["invalid_actions"] == 3
    assert concurrent.client.stats.completions == 3
    concurrent.close()


# ----- HFAgent with a tiny random model ------------------------------------------------------
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, env):
    try:
        import torch
        import transformers
    except ImportError as exc:
        pytest.skip(f"HFAgent tests need torch and transformers (pip install torch==2.13.0 transformers): {exc}")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    # a few hundred lines of WebShop text: the prompt and pages of some rule episodes
    lines = AGENT_PROMPT.splitlines() + AGENT_EXAMPLE.splitlines()
    for task in range(8):
        obs, info = env.reset(options={"task_id": task})
        agent = RuleAgent()
        agent.reset(info["instruction"], info)
        for _ in range(3):
            lines += obs.split(" [SEP] ") + info["available_actions"]
            obs, _, term, trunc, info = env.step(agent.act(obs, info))
            if term or trunc:
                break
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=1000, special_tokens=special,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>",
                                                     pad_token="<|endoftext|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    config = transformers.Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096, initializer_range=0.2,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, bos_token_id=None,
        tie_word_embeddings=True)
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny_qwen2")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_hf_agent_plays_whole_episodes(env, tiny_model_dir):
    from baselines.hf_agent import HFAgent

    agent = HFAgent(str(tiny_model_dir), max_new_tokens=12, history=2)
    assert agent.use_chat_template and agent.tokenizer.padding_side == "left"
    slots = [0, 1, 2]
    catalog = env.unwrapped.catalog
    envs = [gym.make("agent_gym/WebShop-v0", catalog=catalog, split="test", max_steps=4) for _ in slots]
    obs, infos, done, rewards = {}, {}, {}, {}
    for slot, e in zip(slots, envs):
        o, i = e.reset(options={"task_id": 10 + slot})
        agent.reset(slot, i["instruction"], i)
        obs[slot], infos[slot], done[slot] = o, i, False
    while not all(done.values()):  # at most 4 rounds: the envs truncate
        live = [s for s in slots if not done[s]]
        actions = agent.act_batch(live, [obs[s] for s in live], [infos[s] for s in live])
        assert len(actions) == len(live) and all(isinstance(a, str) and a for a in actions)
        for s, a in zip(live, actions):
            obs[s], rewards[s], term, trunc, infos[s] = envs[s].step(a)
            done[s] = term or trunc
    assert all(0.0 <= r <= 1.0 for r in rewards.values())
    assert agent.calls >= 1 and agent.stats()["generated_tokens"] > 0
    assert set(agent.last_replies) == set(slots)
    for e in envs:
        e.close()


def test_hf_batch_equals_one_at_a_time(env, tiny_model_dir):
    from baselines.hf_agent import HFAgent

    batched = HFAgent(str(tiny_model_dir), max_new_tokens=10, history=2)
    single = HFAgent(batched.model, tokenizer=batched.tokenizer, max_new_tokens=10, history=2)
    tasks = [20, 21, 22]
    pages = []
    for t in tasks:  # different pages, so prompts of different lengths share a padded batch
        o, i = env.reset(options={"task_id": t})
        pages.append((i["instruction"], o, i))
        if t != 20:
            o, *_, i = env.step(f"search[{i['instruction']}]")
            pages[-1] = (pages[-1][0], o, i)
    for slot, (instruction, _, info) in enumerate(pages):
        batched.reset(slot, instruction, info)
        single.reset(slot, instruction, info)
    lengths = {len(batched._prompt_ids(s, o, i)) for s, (_, o, i) in enumerate(pages)}
    assert len(lengths) == 3
    for _ in range(2):  # two steps: the second prompt carries the first turn
        slots = list(range(len(pages)))
        got = batched.act_batch(slots, [o for _, o, _ in pages], [i for _, _, i in pages])
        one = [single.act_batch([s], [pages[s][1]], [pages[s][2]])[0] for s in slots]
        assert got == one
        assert [batched.last_replies[s] for s in slots] == [single.last_replies[s] for s in slots]
    assert batched.calls == 2 and single.calls == 6


def test_hf_agent_without_chat_template(env, tiny_model_dir):
    import transformers

    from baselines.hf_agent import HFAgent

    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = None
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    agent = HFAgent(model, tokenizer=tokenizer, max_new_tokens=8, history=1, max_prompt_tokens=300)
    assert not agent.use_chat_template
    obs, info = env.reset(options={"task_id": 30})
    agent.reset(0, info["instruction"], info)
    prompt = agent.render(agent.memories[0].prompt(obs, info))
    assert prompt.startswith("System: ") and prompt.endswith("\n\nAssistant:")
    assert len(agent._prompt_ids(0, obs, info)) == 300  # cut to max_prompt_tokens, the newest tokens kept
    [action] = agent.act_batch([0], [obs], [info])
    assert isinstance(action, str) and action
    obs, reward, *_ = env.step(action)
    assert 0.0 <= reward <= 1.0


# ----- a whole evaluation against the fake server -----------------------------------------
def test_whole_evaluation_against_the_fake_server(fake_llm, small_catalog, tmp_path):
    import json as _json

    from agent_gym.eval.cli import main

    script = [
        "Thought: I search for it.\nAction: search[cotton shirt]",
        "```\nAction: click[Back to Search]\n```",       # fenced, wrong case
        "I have no idea what to do",                      # no action: falls back
        {"sleep": 3, "text": "too late"},                # times out, then retried
        "Thought: again\nAction: search[shirt]",
    ]
    server = fake_llm(script)
    out = tmp_path / "react"
    args = ["eval", "--agent", "react", "--base-url", server.url, "--model", "fake", "--products", "3000",
            "-n", "3", "--workers", "1", "--max-steps", "4", "--output", str(out),
            "--agent-arg", "timeout=1.0", "--agent-arg", "max_retries=2", "--agent-arg", "backoff=0.01"]
    assert main(args) == 0
    results = _json.loads((out / "results.json").read_text())
    assert results["episodes"] == 3 and results["complete"] and results["agent"] == "react"
    lines = (out / "trajectories.jsonl").read_text().splitlines()
    first = _json.loads(lines[0])
    assert first["steps"][0]["action"] == "search[cotton shirt]" and first["steps"][0]["thought"] == "I search for it."
    assert first["steps"][1]["action"] == "click[back to search]"
    # the server goes away: the run stops cleanly with the finished episodes saved
    server.close()
    assert main(args[:args.index("-n") + 1] + ["6"] + args[args.index("-n") + 2:]) == 1
    results = _json.loads((out / "results.json").read_text())
    assert results["episodes"] == 3 and not results["complete"] and "LLMUnavailableError" in results["stopped_by"]
    # or it goes on, counting the failed episodes
    assert main(args[:args.index("-n") + 1] + ["6"] + args[args.index("-n") + 2:] + ["--on-agent-error", "skip"]) == 0
    results = _json.loads((out / "results.json").read_text())
    assert results["episodes"] == 6 and len(results["agent_errors"]) == 3


def test_parse_action_accepts_the_verbs_of_other_benchmarks():
    from agent_gym.core.prompts import parse_action

    keydoor = ["go[left]", "go[right]", "go[ahead]"]
    assert parse_action("Thought: the key is left\nAction: Go[ Left ]", keydoor) == ("the key is left", "go[left]")
    assert parse_action("Action: open[red door]", ["open[red door]", "go[back]"])[1] == "open[red door]"
    assert parse_action("Action: take[red key]", keydoor)[1] is None  # not a verb of this page: no action
    # plain-command benchmarks (ALFWorld, ScienceWorld...): the Action line, spelled as offered when it is
    plain = ["go to countertop 1", "look", "inventory"]
    assert parse_action("Thought: x\nAction: Go to countertop 1.", plain)[1] == "go to countertop 1"
    assert parse_action("Action: open fridge 1", plain)[1] == "open fridge 1"
    # WebShop is unchanged
    assert parse_action("Action: click[Buy Now]", ["click[buy now]"])[1] == "click[buy now]"


def test_expert_agent_plays_the_benchmark_expert(tmp_path):
    from agent_gym.eval.runner import EvalConfig, evaluate

    results = evaluate(EvalConfig(env_id="agent_gym/KeyDoor-v0", agent="expert", split="eval", progress=False))
    assert results["success_rate"] == 100.0
    from baselines.expert import ExpertAgent

    with pytest.raises(ValueError, match="expose_goal"):
        agent = ExpertAgent()
        agent.reset("Open the red door.", {})
        agent.act("You are in the hall.", {})


def test_eval_reports_tokens_per_step_for_local_models(tiny_model_dir, tmp_path):
    """#15's dual-efficiency figures with a tiny model: ``hf`` and the trainers' ``PolicyAgent``
    report each step's generated tokens, the eval sums them into tokens/step and steps/task."""
    from agent_gym.eval.runner import EvalConfig, evaluate

    for agent, kwargs in (("hf", {"model": str(tiny_model_dir), "max_new_tokens": 6, "history": 1}),
                          ("trainers.agent:PolicyAgent", {"model": str(tiny_model_dir), "max_new_tokens": 6})):
        out = tmp_path / agent.replace(":", "_")
        r = evaluate(EvalConfig(env_id="agent_gym/KeyDoor-v0", agent=agent, agent_kwargs=kwargs, n=2, workers=2,
                                output=str(out), progress=False, env_kwargs={"max_steps": 2}))
        recs = [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]
        tokens = [s["agent_info"]["completion_tokens"] for t in recs for s in t["steps"]]
        assert len(tokens) == 4 and all(0 <= k <= 6 for k in tokens), agent
        assert all(isinstance(s["agent_info"]["reply"], str) for t in recs for s in t["steps"])
        assert r["tokens_per_step"] == pytest.approx(sum(tokens) / 4) and r["steps_per_task"] == 2.0
        assert r["llm"]["completion_tokens"] == sum(tokens)
