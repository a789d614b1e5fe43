"""Learning, not just running: DPO, ETO and SPIN on KeyDoor-v0 with a tiny model on CPU.

Started from the weak SFT checkpoint of ``keydoor_training``, each must raise the
chosen-vs-rejected margin (a sign error lowers it; scoring observation tokens or a prompt
built unlike the rollouts' shows in the resumed-equals-uninterrupted and margin checks);
DPO and SPIN run from their command lines (``main(argv)``), DPO and ETO resume to identical
weights.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from keydoor_training import COMMON, ENV, HISTORY, demos, keydoor_run, same_weights, weak  # noqa: E402,F401
from trainers import dpo, eto, spin  # noqa: E402
from trainers.core.policy import Policy  # noqa: E402


@pytest.fixture(scope="module")
def policy_episodes(weak, tmp_path_factory):
    """The weak model's own episodes on 16 of the training tasks, recorded as trajectory records."""
    from agent_gym.core.trajectory import write_trajectories
    from trainers.core.rollout import collect, episode_to_trajectory

    episodes = collect(Policy.load(weak[0], device="cpu"), ENV, list(range(16)), k=1, temperature=1.0,
                       max_new_tokens=32, history=HISTORY, seed=0)
    path = tmp_path_factory.mktemp("policy") / "policy.jsonl"
    write_trajectories(path, [episode_to_trajectory(e, env_id=ENV, split="train") for e in episodes])
    return path


@pytest.mark.long(seconds=18)
def test_dpo_from_the_command_line_raises_the_margin_and_resumes(weak, demos, policy_episodes, tmp_path, capsys):
    start_dir, _ = weak
    args = ["--model", str(start_dir), "--chosen", str(demos), "--rejected", str(policy_episodes), "--history",
            str(HISTORY), "--lr", "1e-3", "--batch-size", "8", "--grad-accum", "1", "--device", "cpu", "--no-progress",
            "--save-every", "0"]
    capsys.readouterr()
    assert dpo.main([*args, "--epochs", "1", "--output", str(tmp_path / "dpo")]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])  # the command's last line: its result
    print(f"DPO: {result['pairs']} pairs, margin 0 -> {result['end_margin']:.3f}, last accuracy {result['accuracy']}")
    assert result["pairs"] > 0 and result["end_margin"] > 0.05 and result["final_dir"]
    assert (tmp_path / "dpo" / "metrics.jsonl").is_file() and (tmp_path / "dpo" / "reference_logps.json").is_file()
    # stopped after 2 steps, then resumed: the same weights as the uninterrupted run
    small = [*args, "--max-pairs", "4", "--epochs", "2", "--batch-size", "2"]
    assert dpo.main([*small, "--output", str(tmp_path / "full")]) == 0
    assert dpo.main([*small, "--output", str(tmp_path / "part"), "--stop-after-steps", "2"]) == 0
    assert not (tmp_path / "part" / "final").exists()
    assert dpo.main([*small, "--output", str(tmp_path / "part"), "--resume"]) == 0
    assert same_weights(tmp_path / "full" / "final", tmp_path / "part" / "final")


@pytest.mark.long(seconds=10)
def test_eto_raises_the_margin(weak, demos, tmp_path):
    start_dir, _ = weak
    result = eto.train(eto.ETOConfig(model=str(start_dir), demos=str(demos), output_dir=str(tmp_path / "eto"),
                                     rounds=1, epochs=1, lr=3e-4, batch_size=8, grad_accum=1, max_new_tokens=32,
                                     max_tasks=16, **COMMON))
    r = result["rounds"][0]
    print(f"ETO: {r['pairs']} pairs, margin 0 -> {r['end_margin']:.3f}")
    assert r["pairs"] > 0 and r["end_margin"] > 0.05


@pytest.mark.long(seconds=18)
def test_eto_resumes_between_rounds(weak, demos, tmp_path):
    start_dir, _ = weak
    args = ["--model", str(start_dir), "--demos", str(demos), "--max-tasks", "4", "--rounds", "2", "--epochs", "1",
            "--lr", "1e-3", "--batch-size", "4", "--grad-accum", "1", "--max-new-tokens", "32", "--history",
            str(HISTORY), "--device", "cpu", "--no-progress"]
    full, part = tmp_path / "eto-full", tmp_path / "eto-part"
    assert eto.main([*args, "--output", str(full)]) == 0
    assert eto.main([*args, "--output", str(part), "--stop-after-rounds", "1"]) == 0
    assert not (part / "final").exists() and (part / "round-0" / "round.json").is_file()
    assert eto.main([*args, "--output", str(part), "--resume"]) == 0
    assert same_weights(full / "final", part / "final")


@pytest.mark.long(seconds=13)
def test_spin_from_the_command_line_raises_the_margin(weak, demos, tmp_path, capsys):
    # SPIN runs ETO's loop (trainers.eto.run_rounds) with its own pairs
    start_dir, _ = weak
    capsys.readouterr()
    assert spin.main(["--model", str(start_dir), "--demos", str(demos), "--max-tasks", "16", "--rounds", "1",
                      "--epochs", "1", "--lr", "1e-3", "--batch-size", "8", "--grad-accum", "1", "--max-new-tokens",
                      "32", "--history", str(HISTORY), "--device", "cpu", "--no-progress",
                      "--output", str(tmp_path / "spin")]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    r = result["rounds"][0]
    print(f"SPIN: {r['pairs']} pairs, margin 0 -> {r['end_margin']:.3f}")
    assert r["pairs"] > 0 and r["end_margin"] > 0.05
    assert (tmp_path / "spin" / "final" / "model.safetensors").is_file()


def test_two_pass_backward_equals_the_direct_gradient(tmp_path):
    """DPO's memory-bounded update (sums without a graph, then per-step backward weighted by
    dL/dS) gives the gradient of the loss on whole-trajectory sums."""
    from trainers.core.losses import dpo_loss
    from trainers.core.optim import autocast
    from trainers.core.tiny import build_tiny_model_and_tokenizer

    path = build_tiny_model_and_tokenizer(tmp_path / "m", texts=["a b c d e f g h"] * 20, vocab_size=300)
    model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)

    def traj(steps):
        return [{"input_ids": torch.randint(5, 250, (n,), generator=g).tolist(),
                 "labels_mask": [0] * (n - 3) + [1] * 3} for n in steps]
    trajs = [traj([6, 9]), traj([7]), traj([5, 8, 6]), traj([9, 4])]  # chosen 0, 1; rejected 2, 3
    ref = torch.tensor([-30.0, -20.0, -40.0, -25.0], dtype=torch.float64)
    ctx = autocast(torch.device("cpu"), "float32")
    sums, _ = dpo.trajectory_logps(model, trajs, 0, 2, ctx)
    loss, _ = dpo_loss(sums[:2], sums[2:], ref[:2], ref[2:], beta=0.5)
    loss.backward()
    direct = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    with torch.no_grad():
        sums, _ = dpo.trajectory_logps(model, trajs, 0, 2, ctx)
    leaf = sums.detach().requires_grad_(True)
    dpo_loss(leaf[:2], leaf[2:], ref[:2], ref[2:], beta=0.5)[0].backward()
    dpo.backward_through_steps(model, trajs, leaf.grad, 0, 2, ctx)
    assert all(torch.allclose(a, p.grad, atol=1e-10) for a, p in zip(direct, model.parameters()))
