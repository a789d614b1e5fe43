"""bench/rl_rollout_envs.py at toy scale (4 envs, a tiny Qwen2, 1 step), so the benchmark cannot rot."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("psutil")

BENCH = Path(__file__).resolve().parents[1] / "bench" / "rl_rollout_envs.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("rl_rollout_envs", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_env_replay_is_faithful_and_timed(bench):
    many = bench.measure_envs(4, 4, grouped=1, group_size=4)
    assert many["mix_won"] == 1.0 and many["mix_episodes"] == 4 and many["mix_env_steps"] >= 4 * 3
    assert many["grouped_won"] == 1.0 and many["grouped_env_steps"] >= 4 * 3
    assert many["mix_env_ms_per_step"] > 0 and many["mix_env_s"] > 0 and many["rss_mb"] > many["rss_start_mb"] > 0


def test_model_iteration_and_table(bench, tmp_path):
    from trainers.core.policy import Policy
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    policy = Policy.load(build_tiny_model_and_tokenizer(tmp_path / "tiny"), device="cpu")
    run = bench.model_iteration(policy, tasks=2, group_size=2, steps=1, max_new_tokens=8)
    assert run["envs"] == 4 and run["env_steps"] == 4 and run["samples"] == 4
    assert 0 < run["env_s"] < run["rollout_s"] <= run["iteration_s"] and run["update_s"] > 0
    assert 0 < run["env_share"] < 1 and sum(run["actions"].values()) == 4
    env = {"n_envs": 4, "mix_env_ms_per_step": 2.0, "mix_reset_ms": 0.5, "mix_step_ms": 1.5, "mix_env_steps": 20,
           "mix_won": 1.0, "rss_mb": 300.0, "rss_made_mb": 200.0}
    summary = bench.summarize(run, {**env, "n_envs": 1}, env)
    assert summary["rss_ratio"] == 1.0 and summary["ok_memory"]
    assert summary["policy_ms_needed_for_target"] == pytest.approx(38.0)
    text = bench.table(run, {**env, "n_envs": 1}, env, summary, "tiny")
    assert "| env share of iteration, measured |" in text
    assert "| RSS ratio 4 envs / 1 env | 1.000 | <= 1.5 | yes |" in text
    json.dumps({"run": run, "summary": summary})  # the --json figures serialise


def test_env_figures_in_a_fresh_process(bench):
    one = bench.env_figures(1, 2, grouped=1)
    assert one["n_envs"] == 1 and one["mix_won"] == one["grouped_won"] == 1.0 and one["mix_episodes"] == 2
    assert one["rss_mb"] > 0
