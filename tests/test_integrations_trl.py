"""TRL (trl 1.16): environment classes for GRPOTrainer(environment_factory=...), the ReAct
rollout_func, and SFT warm-up data, checked against the real GRPOTrainer.

The fast checks use only the adapter (no trl import); everything that imports trl (about
7 s of CPU) or trains is marked slow and runs in ``make test-slow``.
"""

import functools
import os

import gymnasium as gym
import pytest

import agent_gym  # noqa: F401
from agent_gym.integrations.trl import (KeyDoorEnvironment, TextEnvironment, WebShopEnvironment, environment_class,
                                        first_message, sft_conversations, task_rows, tools_of)

KEYDOOR = "agent_gym/KeyDoor-v0"


def _expert(env_id, task_id, split="train", **kwargs):
    """The expert's actions and the env's (observations, rewards) in process."""
    env = gym.make(env_id, split=split, expose_goal=True, **kwargs)
    obs, info = env.reset(options={"task_id": task_id})
    actions, observations, rewards = [], [obs], []
    while True:
        action = info["expert_action"]
        obs, reward, terminated, truncated, info = env.step(action)
        actions.append(action), observations.append(obs), rewards.append(reward)
        if terminated or truncated:
            return actions, observations, rewards


# ----- fast: the classes as TRL drives them ----------------------------------------------


def test_keydoor_environment_plays_like_the_env():
    actions, observations, rewards = _expert(KEYDOOR, 7)
    env = KeyDoorEnvironment()  # TRL calls the factory with no arguments
    first = env.reset(task_id=7, prompt=[{"role": "user", "content": ""}])  # TRL passes the whole row
    assert first.startswith("Instruction: Open the ") and f"Observation: {observations[0]}" in first
    assert "- go[left]" in first and env.get_reward() == 0.0
    # TRL lists an environment's public methods as tools, alphabetically; reset/get_reward are not tools
    assert [t.__name__ for t in tools_of(env)] == ["go", "open", "take"]
    for action, observation in zip(actions, observations[1:]):
        call = KeyDoorEnvironment.tool_call(action)
        result = getattr(env, call["name"])(**call["arguments"])
        assert result.startswith(f"Observation: {observation}")
    assert env.actions == actions and env.done and env.get_reward() == sum(rewards) == 1.0
    assert result.endswith("The episode is over (reward 1).")
    # a call after the end changes nothing
    assert "episode is over" in env.go("back") and env.actions == actions and env.get_reward() == 1.0
    # an invalid call is the env's invalid action: reported, nothing changes, no reward
    env.reset(task_id=7)
    out = env.take("purple key")
    assert out.startswith("Your last action was invalid") and env.get_reward() == 0.0 and not env.done


def test_tools_have_what_trl_reads_for_their_schemas():
    """What get_json_schema reads: typed parameters and a Google-style docstring naming each one
    (the exact schemas are checked in the slow test below; importing transformers costs seconds)."""
    import inspect

    for tool in tools_of(KeyDoorEnvironment()) + tools_of(environment_class("agent_gym/Crossroads-v0")()):
        params = inspect.signature(tool).parameters
        assert params and all(p.annotation in (str, "str") for p in params.values())
        doc = inspect.getdoc(tool)
        assert doc.split("\n")[0] and "Args:" in doc
        assert all(f"    {name}: " in doc or f"{name}: " in doc.split("Args:")[1] for name in params)


@pytest.mark.slow
def test_tool_schemas_are_what_trl_renders():
    """TRL builds each tool's JSON schema with transformers' get_json_schema (type hints + docstring)."""
    from transformers.utils import get_json_schema

    schemas = {t.__name__: get_json_schema(t)["function"] for t in tools_of(KeyDoorEnvironment())}
    assert schemas["go"]["parameters"] == {
        "type": "object", "required": ["direction"],
        "properties": {"direction": {"type": "string",
                                     "description": "Where to go: left, right, ahead (from the hall) or back."}}}
    assert schemas["take"]["parameters"]["required"] == ["item"] and schemas["open"]["parameters"]["required"] == ["door"]
    assert all(s["description"] for s in schemas.values())
    generic = environment_class("agent_gym/Crossroads-v0")()
    assert [t.__name__ for t in tools_of(generic)] == ["act"]
    assert get_json_schema(generic.act)["function"]["parameters"]["required"] == ["action"]


def test_environment_class_refuses_bad_input():
    assert issubclass(environment_class("agent_gym/Sokoban-v0"), TextEnvironment)
    with pytest.raises(ValueError, match="unknown env id"):
        environment_class("agent_gym/Nope-v0")
    with pytest.raises(ValueError, match="verb\\[argument\\]"):
        KeyDoorEnvironment.tool_call("dance[now]")
    with pytest.raises(TypeError, match="base class"):
        TextEnvironment()


@pytest.mark.slow  # the searcher's JVM starts on the first search (seconds)
def test_webshop_environment_shares_one_catalog(small_catalog):
    from transformers.utils import get_json_schema

    cls = environment_class("agent_gym/WebShop-v0", catalog=small_catalog, split="test", max_steps=3)
    assert issubclass(cls, WebShopEnvironment)
    a, b = cls(), functools.partial(WebShopEnvironment, catalog=small_catalog, split="test")()
    assert a._env.unwrapped.catalog is b._env.unwrapped.catalog is small_catalog  # one catalog for all instances
    names = {t.__name__: get_json_schema(t)["function"]["parameters"]["required"] for t in tools_of(a)}
    assert names == {"click": ["item"], "search": ["keywords"]}  # AgentGym's function names and arguments
    text = a.reset(task_id=2)
    assert "search[<query>]" in text and a._env.unwrapped.split == "test"
    assert "Page 1 (Total results: 50)" in a.search("usb cable")
    a.click("nothing here")
    assert not a.done
    a.click("nothing here")
    assert a.done and "episode is over" in a.search("again")  # max_steps bound through the class


def test_the_adapter_imports_no_trainer_stack():
    """Building environment classes and rows needs neither torch nor trl (they load when training)."""
    import subprocess
    import sys

    code = ("import sys, agent_gym.integrations.trl as t; t.task_rows('agent_gym/KeyDoor-v0', task_ids=[0]); "
            "t.KeyDoorEnvironment().reset(task_id=0); "
            "print(sorted(m for m in ('torch', 'transformers', 'trl', 'datasets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_task_rows_carry_the_task_in_the_prompt():
    rows = task_rows(KEYDOOR, "eval")
    assert len(rows) == 12 and [r["task_id"] for r in rows] == list(range(12))
    system, user = rows[3]["prompt"]
    assert system["role"] == "system" and "calling one of the tools" in system["content"]
    assert user == {"role": "user", "content": "", "task_id": 3}
    react = task_rows(KEYDOOR, "train", task_ids=[5], style="react")[0]["prompt"][0]["content"]
    assert "Thought:" in react and "Action:" in react
    with pytest.raises(ValueError, match="style"):
        task_rows(KEYDOOR, style="json")


def test_sft_conversations_replay_demonstrations_through_the_tools():
    actions, observations, _ = _expert(KEYDOOR, 4)
    [conv] = sft_conversations(KeyDoorEnvironment, [(4, actions)])
    messages = conv["messages"]
    assert [m["role"] for m in messages] == ["system", "user"] + ["assistant", "tool"] * len(actions) + ["assistant"]
    assert messages[1]["content"] == KeyDoorEnvironment().reset(task_id=4)  # what TRL appends to the empty user turn
    verb, arg = actions[0][:-1].split("[")
    assert messages[2]["tool_calls"][0]["function"] == {"name": verb, "arguments": {KeyDoorEnvironment.VERBS[verb]: arg}}
    assert messages[3]["name"] == verb and messages[3]["content"].startswith(f"Observation: {observations[1]}")
    assert conv["reward"] == 1.0 and [t.__name__ for t in conv["tools"]] == ["go", "open", "take"]
    assert first_message("do it", "here", {"available_actions": ["a[b]"]}) == \
        "Instruction: do it\nObservation: here\n\nAvailable actions:\n- a[b]"


# ----- slow: the real GRPOTrainer -----------------------------------------------------------

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny random Qwen2 (tokenizer trained offline) with TRL's Qwen2.5 tool template."""
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    return build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"), hidden=32, layers=1)


def _load(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from agent_gym.integrations.trl import use_tool_chat_template

    return AutoModelForCausalLM.from_pretrained(path), use_tool_chat_template(AutoTokenizer.from_pretrained(path))


def _config(tmp_path, **kw):
    from trl import GRPOConfig

    # the CPU traps: GRPOConfig defaults to bf16 and gradient checkpointing
    args = dict(output_dir=str(tmp_path), use_cpu=True, bf16=False, gradient_checkpointing=False, max_steps=2,
                per_device_train_batch_size=4, num_generations=2, max_completion_length=96, logging_steps=1,
                report_to=[], save_strategy="no", seed=0, max_tool_calling_iterations=3)
    return GRPOConfig(**{**args, **kw})


@pytest.mark.slow
def test_plain_chatml_template_is_refused(tiny, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer

    from agent_gym.integrations.trl import task_dataset

    with pytest.raises(ValueError, match="does not support tool calling"):
        GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny), processing_class=AutoTokenizer.from_pretrained(tiny),
                    args=_config(tmp_path), train_dataset=task_dataset(KEYDOOR, task_ids=[0, 1]),
                    environment_factory=KeyDoorEnvironment)


@pytest.mark.slow
def test_canned_tool_call_is_parsed_by_trl_and_steps_the_env(tiny, tmp_path):
    from trl import GRPOTrainer

    from agent_gym.integrations.trl import task_dataset

    model, tok = _load(tiny)
    trainer = GRPOTrainer(model=model, processing_class=tok, args=_config(tmp_path, max_steps=1, max_completion_length=512),
                          train_dataset=task_dataset(KEYDOOR, task_ids=[9, 9]), environment_factory=KeyDoorEnvironment)
    call = tok('<tool_call>\n{"name": "go", "arguments": {"direction": "left"}}\n</tool_call><|im_end|>',
               add_special_tokens=False)["input_ids"]
    stop = [tok.eos_token_id]
    replies = []

    def canned(prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        replies.append(len(prompt_ids))
        return [list(call) if len(replies) == 1 else list(stop) for _ in prompt_ids], None

    trainer._generate_single_turn = canned  # the model "says" the call; TRL parses it and runs the tool
    trainer.train()
    reference = gym.make(KEYDOOR, split="train")
    reference.reset(options={"task_id": 9})
    *_, info = reference.step("go[left]")
    for env in trainer._environment_pool[None]:
        assert env.actions == ["go[left]"] and env.info == info and not env.done
    log = trainer.state.log_history[0]
    assert log["tools/call_frequency"] == 1.0 and log["tools/failure_frequency"] == 0.0
    assert replies == [4, 4]  # the first turn for all four rollouts, then one turn after the tool result


@pytest.mark.slow
@pytest.mark.parametrize("env_id", [KEYDOOR, "agent_gym/WebShop-v0"])
def test_grpo_runs_over_environment_classes(env_id, tiny, tmp_path, request):
    from trl import GRPOTrainer

    from agent_gym.integrations.trl import task_dataset

    # the small test catalog has human goals in its test and eval splits only
    kwargs = {"catalog": request.getfixturevalue("small_catalog"), "split": "test"} if "WebShop" in env_id else {}
    factory = environment_class(env_id, **kwargs)
    model, tok = _load(tiny)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    trainer = GRPOTrainer(model=model, processing_class=tok, args=_config(tmp_path, learning_rate=1e-2, beta=0.0),
                          train_dataset=task_dataset(env_id, task_ids=[0, 1, 2, 3]),
                          environment_factory=factory)
    trainer.train()
    assert trainer.state.global_step == 2
    logs = trainer.state.log_history
    assert f"rewards/{factory.__name__}/mean" in logs[0] and "tools/call_frequency" in logs[0]
    pool = trainer._environment_pool[None]
    assert len(pool) == 4 and {e.info["task_id"] for e in pool} <= {0, 1, 2, 3}
    assert model is trainer.model and all(before[n].shape == p.shape for n, p in model.named_parameters())


@pytest.mark.slow
def test_grpo_runs_over_the_rollout_function(tiny, tmp_path):
    from trl import GRPOTrainer

    from agent_gym.integrations.trl import env_reward, make_rollout_func, task_dataset

    model, tok = _load(tiny)
    rollout = make_rollout_func(KEYDOOR, max_turns=3)
    seen = []

    def recording(prompts, trainer):
        out = rollout(prompts, trainer)
        seen.append(([p[-1]["task_id"] for p in prompts], out))
        return out

    trainer = GRPOTrainer(model=model, processing_class=tok, args=_config(tmp_path, max_completion_length=160),
                          train_dataset=task_dataset(KEYDOOR, "train", task_ids=[0, 1, 2, 3], style="react"),
                          rollout_func=recording, reward_funcs=env_reward)
    trainer.train()
    assert trainer.state.global_step == 2 and len(seen) == 2
    task_ids, out = seen[0]
    assert len(task_ids) == 4 and task_ids[0] == task_ids[1]  # TRL repeats each prompt num_generations times
    from agent_gym.core.prompts import parse_response

    for i, task in enumerate(task_ids):
        ids, mask, lps = out["completion_ids"][i], out["env_mask"][i], out["logprobs"][i]
        assert len(ids) == len(mask) == len(lps) <= 160
        assert all(lp == 0.0 for lp, m in zip(lps, mask) if m == 0) and all(lp <= 0.0 for lp in lps)
        prompt = tok.decode(out["prompt_ids"][i])
        assert "Thought:" in prompt and prompt.rstrip().endswith("assistant")
        # split the completion into the model's replies and the env's turns by the mask
        segments, cur, kind = [], [], mask[0]
        for t, m in zip(ids, mask):
            if m != kind:
                segments.append((kind, cur))
                cur, kind = [], m
            cur.append(t)
        segments.append((kind, cur))
        replies = [tok.decode(s, skip_special_tokens=True) for k, s in segments if k == 1]
        env_turns = [tok.decode(s) for k, s in segments if k == 0 and "Observation:" in tok.decode(s)]
        # replay the replies' actions in process: the env turns are the env's observations
        env = gym.make(KEYDOOR, split="train")
        _, info = env.reset(options={"task_id": task})
        total = 0.0
        for j, reply in enumerate(replies):
            _, action = parse_response(reply, info.get("available_actions"), "react")
            obs, reward, terminated, truncated, info = env.step(reply if action is None else action)
            total += reward
            if j < len(env_turns):
                assert f"Observation: {obs}" in env_turns[j]
            if terminated or truncated:
                break
        assert out["env_reward"][i] == total


@pytest.mark.slow
def test_sft_warm_up_makes_the_model_call_tools(tmp_path):
    """After a short SFT on expert demonstrations rendered as TRL prompts, GRPO rollouts call tools."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOTrainer, SFTConfig, SFTTrainer

    from agent_gym.integrations.trl import sft_dataset, sft_texts, task_dataset, use_tool_chat_template
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    demos = [(t, _expert(KEYDOOR, t)[0]) for t in range(36)]
    conversations = sft_conversations(KeyDoorEnvironment, demos)
    # the tiny tokenizer is trained on the texts it will see (rendered once with a throwaway tokenizer)
    scratch = use_tool_chat_template(AutoTokenizer.from_pretrained(
        build_tiny_model_and_tokenizer(tmp_path / "scratch", hidden=8, layers=1)))
    path = build_tiny_model_and_tokenizer(tmp_path / "tiny", texts=sft_texts(scratch, conversations), vocab_size=600,
                                          hidden=64, layers=2, heads=2)
    tok = use_tool_chat_template(AutoTokenizer.from_pretrained(path))

    def tool_calls_per_rollout(model, out):
        trainer = GRPOTrainer(model=model, processing_class=tok,
                              args=_config(out, max_steps=1, per_device_train_batch_size=8, num_generations=4,
                                           max_completion_length=256, max_tool_calling_iterations=6),
                              train_dataset=task_dataset(KEYDOOR, "train", task_ids=range(8)),
                              environment_factory=KeyDoorEnvironment)
        trainer.train()
        return trainer.state.log_history[0]["tools/call_frequency"]

    model = AutoModelForCausalLM.from_pretrained(path)
    assert tool_calls_per_rollout(model, tmp_path / "before") == 0.0
    sft = SFTTrainer(model=model, processing_class=tok, train_dataset=sft_dataset(tok, conversations),
                     args=SFTConfig(output_dir=str(tmp_path / "sft"), use_cpu=True, bf16=False, max_length=2048,
                                    num_train_epochs=8, learning_rate=5e-3, lr_scheduler_type="constant",
                                    per_device_train_batch_size=4, report_to=[], save_strategy="no", seed=0))
    sft.train()
    after = tool_calls_per_rollout(sft.model, tmp_path / "after")
    print(f"tool calls per rollout after the warm-up: {after}")
    assert after >= 1.0
