"""trl as the oracle of our losses: our SFT loss on step samples equals trl's ``SFTTrainer``
loss on the same prompt-completion records (completion-only), and our DPO loss equals trl's
``DPOTrainer`` loss on the same single-turn pairs (given the same reference log-probs), on the
tiny model.

The tiny model's chat template here ends an assistant turn at its end-of-turn token: with
ChatML's ``<|im_end|>\\n``, trl scores the ``\\n`` after the end-of-turn token as part of the
completion, a token our step samples leave out (generation stops at the end-of-turn token, so
the policy never writes it)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from trainers import dpo, sft  # noqa: E402
from trainers.core.data import StepSample, encode_step  # noqa: E402
from trainers.core.losses import dpo_loss  # noqa: E402
from trainers.core.policy import Policy  # noqa: E402
from trainers.core.tiny import DEFAULT_CHAT, build_tiny_model_and_tokenizer  # noqa: E402

TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>"
            "{% if not loop.last or m['role'] != 'assistant' %}\n{% endif %}{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))
    tok = transformers.AutoTokenizer.from_pretrained(path)
    tok.chat_template = TEMPLATE
    tok.save_pretrained(path)
    return path


def records(n: int, offset: int = 0) -> list[tuple[list[dict], str]]:
    """(prompt messages, reply) of the first expert step of ``n`` demo conversations."""
    out = []
    for line in DEFAULT_CHAT.read_text().splitlines()[offset:offset + n]:
        messages = json.loads(line)["messages"]
        k = next(i for i, m in enumerate(messages) if m["role"] == "assistant")
        out.append((messages[:k], messages[k]["content"][:200]))
    return out


def test_sft_loss_equals_trl_completion_only_loss(tiny, tmp_path):
    import datasets
    import trl

    data = records(6)
    path = tmp_path / "steps.jsonl"
    path.write_text("".join(json.dumps({"prompt": p, "response": r}) + "\n" for p, r in data))
    ours = sft.train(sft.SFTConfig(model=str(tiny), data=str(path), output_dir=str(tmp_path / "ours"), epochs=1,
                                   batch_size=len(data), grad_accum=1, max_length=4096, log_every=1, device="cpu",
                                   progress=False))  # the loss of step 1 is computed before its update

    model = transformers.AutoModelForCausalLM.from_pretrained(tiny)
    tok = transformers.AutoTokenizer.from_pretrained(tiny)
    dataset = datasets.Dataset.from_list([{"prompt": p, "completion": [{"role": "assistant", "content": r}]}
                                          for p, r in data])
    args = trl.SFTConfig(output_dir=str(tmp_path / "trl"), report_to=[], max_length=None, completion_only_loss=True,
                         per_device_train_batch_size=len(data), use_cpu=True, dataset_num_proc=None)
    trainer = trl.SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tok)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(data))])
    with torch.no_grad():
        theirs = trainer.compute_loss(model, batch).item()
    assert ours["loss"] == pytest.approx(theirs, rel=1e-5), (ours["loss"], theirs)


def test_dpo_loss_equals_trl_dpo_loss(tiny, tmp_path):
    import datasets
    import trl

    chosen, rejected = records(4), records(4, offset=4)
    pairs = [(p, c, r) for (p, c), (_, r) in zip(chosen, rejected)]
    policy_model = transformers.AutoModelForCausalLM.from_pretrained(tiny)
    ref_model = transformers.AutoModelForCausalLM.from_pretrained(tiny)
    with torch.no_grad():  # a policy away from its reference
        for p in policy_model.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    tok = transformers.AutoTokenizer.from_pretrained(tiny)
    policy = Policy(policy_model, tok)

    def logps(model):
        trajs = [[encode_step(policy, StepSample(p, c))] for p, c, _ in pairs] + \
                [[encode_step(policy, StepSample(p, r))] for p, _, r in pairs]
        with torch.no_grad():
            s, _ = dpo.trajectory_logps(model, trajs, tok.pad_token_id)
        return s[:len(pairs)], s[len(pairs):]

    (pc, pr), (rc, rr) = logps(policy_model), logps(ref_model)
    ours, _ = dpo_loss(pc, pr, rc, rr, beta=0.1)

    # trl scores the policy (its tokenization, completion mask and log-prob sums) and applies its
    # loss; the reference's log-probs are given as precomputed columns, ours: trl 1.16's own
    # reference pass (its fused LM-head forward on the reference copy) differs from a plain
    # forward of the same weights by ~1e-4 relative on this model, which we have not explained
    dataset = datasets.Dataset.from_list([{"prompt": p, "chosen": [{"role": "assistant", "content": c}],
                                           "rejected": [{"role": "assistant", "content": r}],
                                           "ref_chosen_logps": float(a), "ref_rejected_logps": float(b)}
                                          for (p, c, r), a, b in zip(pairs, rc, rr)])
    args = trl.DPOConfig(output_dir=str(tmp_path / "trl"), report_to=[], beta=0.1, max_length=None,
                         per_device_train_batch_size=len(pairs), use_cpu=True, dataset_num_proc=None)
    trainer = trl.DPOTrainer(model=policy_model, ref_model=ref_model, args=args, train_dataset=dataset,
                             processing_class=tok)
    trainer.precompute_ref_logps = True
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(pairs))])
    assert "ref_chosen_logps" in batch
    with torch.no_grad():
        theirs = trainer.compute_loss(policy_model, batch).item()
    assert abs(ours.item() - 0.6931) > 1e-3  # the policy is not its reference: a non-trivial check
    assert ours.item() == pytest.approx(theirs, rel=1e-5), (ours.item(), theirs)
