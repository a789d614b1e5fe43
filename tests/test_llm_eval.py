"""The LLM agents through ``agent-gym eval`` as a user runs them (issue 18), against the fake
OpenAI-compatible server of ``tests/fake_llm.py``: each benchmark's own prompt, what is counted
and recorded, secrets kept off disk, errors that skip one episode, resume and Ctrl-C."""

from __future__ import annotations

import json

import pytest

from agent_gym.eval.cli import main
from agent_gym.eval.runner import EvalConfig, _agent_kwargs, evaluate
from agent_gym.toy.keys import KeyDoorEnv
from agent_gym.webshop.prompt import AGENT_PROMPT
from fake_llm import fake_llm  # noqa: F401  (a fixture)

FAST = ["--agent-arg", "timeout=2", "--agent-arg", "max_retries=1", "--agent-arg", "backoff=0.01"]


def keydoor_args(server, out, n=2, *extra):
    return ["eval", "--env", "agent_gym/KeyDoor-v0", "--agent", "react", "--base-url", server.url,
            "--model", "fake", "-n", str(n), "--workers", "2", "--output", str(out), *FAST, *extra]


def test_each_benchmark_gets_its_own_prompt(fake_llm, tmp_path):  # noqa: F811
    server = fake_llm(default="Thought: left\nAction: go[left]")
    assert main(keydoor_args(server, tmp_path / "kd", 1)) == 0
    system = server.requests[0]["messages"][0]["content"]
    assert system.startswith(KeyDoorEnv.agent_prompt) and "Thought:" in system
    assert "shop" not in system.lower() and "search[" not in system
    # the same for hf (and any agent taking env_id): the harness names the env
    assert _agent_kwargs(EvalConfig(env_id="agent_gym/KeyDoor-v0", agent="hf"))["env_id"] == "agent_gym/KeyDoor-v0"
    from baselines.llm_common import agent_system_prompt

    assert agent_system_prompt("agent_gym/WebShop-v0").startswith(AGENT_PROMPT)
    assert "made-up episode" in agent_system_prompt("agent_gym/WebShop-v0")
    assert "made-up episode" not in agent_system_prompt("agent_gym/WebShop-v0", example=False)


def _results(out):
    return json.loads((out / "results.json").read_text())


def _records(out):
    return [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]


# ----- 2. timeouts and URLs that fit real servers ----------------------------------------------
def test_timeout_error_names_the_options_and_404_suggests_v1(fake_llm):  # noqa: F811
    from baselines.react import DEFAULT_TIMEOUT, ChatClient, LLMRequestError, LLMUnavailableError, ReActAgent

    assert ChatClient(base_url="http://127.0.0.1:1/v1", model="m").timeout == DEFAULT_TIMEOUT >= 300
    server = fake_llm([{"sleep": 1.0, "text": "late"}] * 2)
    agent = ReActAgent(base_url=server.url, model="m", timeout=0.2, max_retries=1, backoff=0.01)
    agent.reset("x", {})
    with pytest.raises(LLMUnavailableError) as err:
        agent.act("obs", {"available_actions": ["go[left]"]})
    assert "--agent-arg timeout=" in str(err.value) and "max_tokens=" in str(err.value)
    server = fake_llm([{"status": 404, "body": {"detail": "Not Found"}}])
    agent = ReActAgent(base_url=server.url[:-len("/v1")], model="m", timeout=2, max_retries=0)
    agent.reset("x", {})
    with pytest.raises(LLMRequestError, match=r"try --base-url http://127\.0\.0\.1:\d+/v1"):
        agent.act("obs", {"available_actions": ["go[left]"]})


# ----- 3. no secret on disk; transport settings may change on resume --------------------------
def test_no_secret_on_disk_and_transport_changes_resume(fake_llm, tmp_path):  # noqa: F811
    server = fake_llm(default="Action: go[left]")
    out = tmp_path / "run"
    assert main(keydoor_args(server, out, 1, "--api-key", "sk-VERY-SECRET")) == 0
    for f in out.iterdir():
        assert "sk-VERY-SECRET" not in f.read_text(), f
    assert server.headers[0]["Authorization"] == "Bearer sk-VERY-SECRET"  # it was used, not written
    other = fake_llm(default="Action: go[right]")  # another port, key, timeout, retries: same run
    assert main(["eval", "--env", "agent_gym/KeyDoor-v0", "--agent", "react", "--base-url", other.url,
                 "--model", "fake", "-n", "2", "--workers", "2", "--output", str(out), "--api-key", "sk-OTHER",
                 "--agent-arg", "timeout=5", "--agent-arg", "max_retries=0", "--agent-arg", "concurrency=1"]) == 0
    assert _results(out)["episodes"] == 2 and len(other.requests) > 0
    # a run.json written by an older version with the key in it: accepted, and the key removed
    run = json.loads((out / "run.json").read_text())
    run["agent_kwargs"]["api_key"] = "sk-OLD"
    (out / "run.json").write_text(json.dumps(run))
    assert main(keydoor_args(other, out, 2)) == 0
    assert "sk-OLD" not in (out / "run.json").read_text()


def test_a_refused_resume_names_the_keys_that_differ(fake_llm, tmp_path, capsys):  # noqa: F811
    server = fake_llm(default="Action: go[left]")
    out = tmp_path / "run"
    assert main(keydoor_args(server, out, 1)) == 0
    capsys.readouterr()
    assert main(keydoor_args(server, out, 1, "--agent-arg", "history=2", "--seed", "3")) == 1
    err = capsys.readouterr().err
    assert "agent_kwargs.history: <unset> -> 2" in err.replace('"', "") and "seed: 0 -> 3" in err


# ----- 4 and #15: count what happened --------------------------------------------------------
def test_results_count_requests_fallbacks_and_tokens(fake_llm, tmp_path, capsys):  # noqa: F811
    server = fake_llm([
        "Thought: the key may be left\nAction: go[left]",
        "I am not sure what to do here.",           # no action: the fallback plays
        {"status": 500},                            # retried once
        "Action: go[back]",
    ])
    out = tmp_path / "run"
    assert main(keydoor_args(server, out, 1, "--max-steps", "3")) == 0
    r = _results(out)
    # by hand: 4 HTTP requests (one retried), 3 completions of 100 prompt / 10 completion tokens each
    assert r["llm"] == {"requests": 4, "retries": 1, "parse_failures": 1, "fallbacks": 1,
                        "prompt_tokens": 300, "completion_tokens": 30}
    assert r["tokens_per_step"] == 10.0 and r["steps_per_task"] == 3.0 and r["fallback_rate"] == pytest.approx(1 / 3)
    assert r["steps_per_success"] is None  # nothing won
    [rec] = _records(out)
    steps = rec["steps"]
    assert [s["agent_info"]["fallback"] for s in steps] == [False, True, False]
    assert steps[1]["agent_info"]["reply"] == "I am not sure what to do here."
    assert [s["agent_info"]["completion_tokens"] for s in steps] == [10, 10, 10]
    assert steps[2]["agent_info"]["retries"] == 1
    assert rec["meta"]["tokens_per_step"] == 10.0 and rec["meta"]["completion_tokens"] == 30
    shown = capsys.readouterr().out
    assert "fallbacks 1" in shown and "parse failures 1" in shown and "tokens/step 10.0" in shown
    # the leaderboard shows the efficiency figures
    from agent_gym.eval.leaderboard import load_results, markdown, rows_for

    table = markdown(rows_for(load_results([out]), published=False))
    assert "tokens/step" in table and "steps/success" in table
    assert [c.strip() for c in table.splitlines()[2].split("|")][-4:-1] == ["3.0", "", "10.0"]


def test_steps_per_success_counts_won_episodes_only(tmp_path):
    """A scripted agent that wins KeyDoor with the expert on even tasks and wanders on odd ones."""
    r = evaluate(EvalConfig(env_id="agent_gym/KeyDoor-v0", agent="tests.test_llm_eval:HalfExpert", n=4,
                            workers=2, output=str(tmp_path / "half"), progress=False,
                            env_kwargs={"max_steps": 6}))
    recs = _records(tmp_path / "half")
    won = [len(t["steps"]) for t in recs if t["won"]]
    assert won and len(won) < 4
    assert r["steps_per_success"] == pytest.approx(sum(won) / len(won))
    assert r["steps_per_task"] == pytest.approx(sum(len(t["steps"]) for t in recs) / 4)
    assert r["tokens_per_step"] is None and r["llm"] is None  # this agent reports no tokens


class HalfExpert:
    name = "half"
    needs_goal = True

    def reset(self, instruction, info):
        self.wander = info["task_id"] % 2 == 1

    def act(self, observation, info):
        return "go[back]" if self.wander else info["expert_action"]


# ----- 6. --on-agent-error skip means one episode -------------------------------------------
def test_fatal_errors_stop_even_when_skipping(fake_llm, tmp_path, capsys):  # noqa: F811
    server = fake_llm(default={"status": 404, "body": {"error": {"message": "model 'nope' not found"}}})
    out = tmp_path / "run"
    assert main(keydoor_args(server, out, 4, "--on-agent-error", "skip")) == 1
    assert "not found" in capsys.readouterr().err
    r = _results(out)
    assert not r["complete"] and r["episodes"] == 0 and "fatal" in r["stopped_by"]
    assert len(server.requests) <= 2  # one per episode in flight, none retried


def test_one_failed_request_skips_its_episode_only_and_resume_retries_it(fake_llm, tmp_path):  # noqa: F811
    import gymnasium as gym

    env = gym.make("agent_gym/KeyDoor-v0", split="test")
    instructions = [env.reset(options={"task_id": t})[1]["instruction"] for t in range(4)]
    env.close()
    bad = instructions[0]
    expected_skipped = {t for t in range(4) if instructions[t] == bad}
    assert len(expected_skipped) < 4

    def rule(request):
        if f"Instruction: {bad}\n" in request["messages"][1]["content"]:
            return {"status": 503}
        return {"text": "Action: go[left]"}

    server = fake_llm(rule=rule)
    out = tmp_path / "run"
    assert main(keydoor_args(server, out, 4, "--on-agent-error", "skip", "--max-steps", "2")) == 0
    r = _results(out)
    assert r["skipped_episodes"] == len(expected_skipped) and not r["complete"] and r["episodes"] == 4
    assert {int(e.split(":")[0].split()[1]) for e in r["agent_errors"]} == expected_skipped
    assert all("LLMUnavailableError" in e for e in r["agent_errors"])
    # the others finished normally, with their two steps
    finished = [t for t in _records(out) if not t["meta"].get("agent_error")]
    assert sorted(t["task_id"] for t in finished) == sorted(set(range(4)) - expected_skipped)
    assert all(len(t["steps"]) == 2 for t in finished)
    # the server is mended: a resume retries exactly the skipped episodes; the errors stay listed
    server.rule = None
    server.default = "Action: go[right]"
    before = len(server.requests)
    assert main(keydoor_args(server, out, 4, "--on-agent-error", "skip", "--max-steps", "2")) == 0
    r2 = _results(out)
    assert r2["complete"] and r2["skipped_episodes"] == 0 and r2["agent_errors"] == r["agent_errors"]
    assert len(server.requests) - before == 2 * len(expected_skipped)


# ----- 7. Ctrl-C ------------------------------------------------------------------------------
def test_ctrl_c_stops_at_once_writes_results_and_resume_keeps_the_time(fake_llm, tmp_path):  # noqa: F811
    import os
    import signal
    import subprocess
    import sys
    import time

    # the first two episodes (one step each) take 0.4 s per request; then the server hangs
    server = fake_llm([{"sleep": 0.4, "text": "Action: go[left]"}] * 2, default={"sleep": 60, "text": "x"})
    out = tmp_path / "run"
    args = keydoor_args(server, out, 4, "--max-steps", "1")
    env = {**os.environ, "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "agent_gym.eval.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(server.requests) < 4:
        time.sleep(0.05)
    assert len(server.requests) >= 4  # two episodes done, two requests hanging
    time.sleep(0.2)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent < 5  # not the 60 s the requests in flight would take
    r = _results(out)
    assert r["episodes"] == 2 and not r["complete"] and "interrupted" in r["stopped_by"]
    first_time = r["agent_time_s"]
    assert first_time >= 0.35  # the two episodes' requests, sent together
    server.default = "Action: go[left]"  # answers at once now
    assert main(args) == 0
    r = _results(out)
    assert r["complete"] and r["episodes"] == 4 and r["agent_time_s"] >= first_time


# ----- 5. real replies ------------------------------------------------------------------------
CORPUS = [json.loads(line) for line in
          (__import__("pathlib").Path(__file__).parent / "llm_replies.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("case", CORPUS, ids=[f"{c['env'].split('/')[-1]}-{i}" for i, c in enumerate(CORPUS)])
def test_real_model_replies_parse_as_labelled(case):
    """Replies of SmolLM2-135M-Instruct behind ``transformers serve`` (the run of docs/llm_agents.md),
    each labelled by hand with the action it gives (``null``: none usable, the fallback plays)."""
    from agent_gym.core.prompts import parse_action

    assert parse_action(case["reply"], case["available_actions"])[1] == case["action"], case["why"]


@pytest.mark.parametrize("reply, available, action", [
    # the template copied from the action list is not a search
    ("Thought: I should search.\nAction: search[<query>]", ["search[<query>]"], None),
    ("search[<query>]", ["search[<query>]"], None),
    ("Action: search[<keywords>]", ["search[<query>]"], None),
    # page text echoed back is not an action
    ("WebShop [SEP] Instruction: [SEP] i need a red shirt [SEP] Back to Search [SEP] Next >",
     ["click[back to search]", "click[next >]"], None),
    ("Back to Search [SEP] Page 1 (Total results: 50)", ["click[back to search]"], None),
    # the first complete action, not a greedy span over two of them
    ("Action: search[<query>] The action is: search[red cotton shirt]", ["search[<query>]"],
     "search[red cotton shirt]"),
    ("Action: click[b0aaa11111] then click[buy now]", ["click[b0aaa11111]", "click[buy now]"], "click[b0aaa11111]"),
    ("Action: click[men's shirt [large]]", ["click[men's shirt [large]]"], "click[men's shirt [large]]"),
])
def test_placeholders_echoes_and_first_complete_action(reply, available, action):
    from agent_gym.core.prompts import parse_action

    assert parse_action(reply, available)[1] == action
