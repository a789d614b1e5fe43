"""The LLM agent's evaluation path against a real OpenAI-compatible server (issue 18, "Must show").

``transformers serve`` (the ``serving`` extra of transformers: fastapi, uvicorn, openai, in the
``dev`` extra) serves a tiny Qwen2 built offline (``trainers.core.tiny``, with a ChatML template)
on 127.0.0.1 on CPU. ``agent-gym eval --agent react`` runs on KeyDoor; the server is killed in
the middle of the run, which stops with the finished episodes and ``results.json`` saved; a new
server (another port: a resume may change the transport) serves the resume, which completes the
run without running an episode twice; then WebShop runs on it, and a wrong model name (fatal,
even with ``--on-agent-error skip``) and a base URL without ``/v1`` give their errors. The counts of ``results.json``
(requests, fallbacks, tokens) are checked against the per-step records. Every wait is bounded.
The fake server of ``tests/fake_llm.py`` stays for the malformed cases a real server rarely sends.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
SERVE = "import sys; from transformers.cli.transformers import main; sys.argv[0] = 'transformers'; main()"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(model: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", SERVE, "serve", str(model), "--host", "127.0.0.1", "--port",
                             str(port), "--device", "cpu", "--dtype", "float32"],
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"transformers serve exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.5)
    _kill(proc)
    raise AssertionError(f"transformers serve did not answer in 120 s: {log.read_text()[-2000:]}")


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the server and nothing else
    proc.wait(timeout=30)


def _records(out: Path) -> list[dict]:
    path = out / "trajectories.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _check_counts(out: Path, n: int) -> dict:
    """results.json agrees with the per-step records, which hold what the server reported."""
    results = json.loads((out / "results.json").read_text())
    recs = _records(out)
    assert results["complete"] and results["episodes"] == n and sorted(r["task_id"] for r in recs) == list(range(n))
    steps = [s for r in recs for s in r["steps"]]
    infos = [s["agent_info"] for s in steps]
    assert all(isinstance(i["reply"], str) and i["completion_tokens"] > 0 and i["prompt_tokens"] > 0 for i in infos)
    llm = results["llm"]
    assert llm["requests"] == sum(i["requests"] for i in infos) >= len(steps)
    assert llm["completion_tokens"] == sum(i["completion_tokens"] for i in infos)
    assert llm["prompt_tokens"] == sum(i["prompt_tokens"] for i in infos)
    assert llm["fallbacks"] == sum(i["fallback"] for i in infos) == llm["parse_failures"]
    assert results["tokens_per_step"] == pytest.approx(llm["completion_tokens"] / len(steps))
    assert results["steps_per_task"] == pytest.approx(len(steps) / n)
    # a fallback step played a valid action although the reply had none; the others played the parse
    for s in steps:
        if s["agent_info"]["fallback"]:
            assert not s["info"].get("invalid_action")
    return results


def test_react_eval_against_transformers_serve_survives_a_server_kill(tmp_path, small_catalog, capsys):
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    model = build_tiny_model_and_tokenizer(tmp_path / "tiny")
    log = tmp_path / "serve.log"
    server, url = _start_server(model, log)
    try:
        out = tmp_path / "keydoor"
        n = 8
        common = ["--env", "agent_gym/KeyDoor-v0", "--agent", "react", "--model", str(model), "-n", str(n),
                  "--workers", "1", "--max-steps", "3", "--output", str(out), "--agent-arg", "max_tokens=24",
                  "--agent-arg", "max_retries=1", "--agent-arg", "backoff=0.05", "--agent-arg", "timeout=60"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = subprocess.Popen([sys.executable, "-m", "agent_gym.eval.cli", "eval", "--base-url", url, *common],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and len(_records(out)) < 2 and run.poll() is None:
            time.sleep(0.1)
        assert 2 <= len(_records(out)) < n, "the kill must land mid-run"
        _kill(server)  # the server dies in the middle of the run
        _, err = run.communicate(timeout=120)
        assert run.returncode == 1, err
        assert "LLMUnavailableError" in err and "rerun the same command" in err
        partial = json.loads((out / "results.json").read_text())
        saved = _records(out)
        assert not partial["complete"] and partial["episodes"] == len(saved) and "stopped_by" in partial
        assert partial["llm"]["requests"] == sum(s["agent_info"]["requests"] for r in saved for s in r["steps"])

        server, url = _start_server(model, log)  # a new server on another port serves the resume
        from agent_gym.eval.cli import main

        assert main(["eval", "--base-url", url, *common]) == 0
        results = _check_counts(out, n)
        resumed = _records(out)
        assert resumed[:len(saved)] == saved  # the first session's episodes are kept as they were
        assert results["agent_time_s"] >= partial["agent_time_s"]

        # the second benchmark, on the same server
        ws = tmp_path / "webshop"
        assert main(["eval", "--agent", "react", "--base-url", url, "--model", str(model), "--products", "3000",
                     "-n", "3", "--workers", "3", "--max-steps", "3", "--output", str(ws),
                     "--agent-arg", "max_tokens=24", "--agent-arg", "timeout=60"]) == 0
        _check_counts(ws, 3)
        first = _records(ws)[0]["steps"][0]
        assert first["agent_info"]["reply"] is not None

        # a wrong model name is fatal even when skipping; a base URL without /v1 is named
        capsys.readouterr()
        wrong = tmp_path / "wrong"
        assert main(["eval", "--env", "agent_gym/KeyDoor-v0", "--agent", "react", "--base-url", url,
                     "--model", "no/such-model", "-n", "3", "--output", str(wrong), "--on-agent-error", "skip"]) == 1
        assert "no/such-model" in capsys.readouterr().err
        bad = json.loads((wrong / "results.json").read_text())
        assert bad["episodes"] == 0 and not bad["complete"] and "fatal" in bad["stopped_by"]
        assert main(["eval", "--env", "agent_gym/KeyDoor-v0", "--agent", "react", "--base-url", url[:-3],
                     "--model", str(model), "-n", "1"]) == 1
        assert f"try --base-url {url}" in capsys.readouterr().err
    finally:
        _kill(server)
