"""trainers.core: the tiny model builder, assistant-turn token masks and masked log-probs in padded batches."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from trainers.core import ChatTemplateError, collate, masked_logprobs, tokenize_conversation  # noqa: E402
from trainers.core.tiny import DEFAULT_CHAT, build_tiny_model_and_tokenizer  # noqa: E402


def conversations(n=3):
    """The first n expert conversations, cut to 2, 3, 4... steps so that lengths differ."""
    out = []
    with open(DEFAULT_CHAT, encoding="utf-8") as f:
        for i, line in zip(range(n), f):
            out.append(json.loads(line)["messages"][:1 + 2 * (2 + i)])
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = build_tiny_model_and_tokenizer(tmp_path_factory.mktemp("tiny"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForCausalLM.from_pretrained(path).eval()
    return tokenizer, model


def test_build_is_deterministic(tmp_path):
    texts = ["Thought: buy it\nAction: click[buy now]", "search[red shoes]"] * 20
    a = build_tiny_model_and_tokenizer(tmp_path / "a", texts=texts, vocab_size=300, seed=3)
    b = build_tiny_model_and_tokenizer(tmp_path / "b", texts=texts, vocab_size=300, seed=3)
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()
    ma = transformers.AutoModelForCausalLM.from_pretrained(a)
    mb = transformers.AutoModelForCausalLM.from_pretrained(b)
    assert all(torch.equal(x, y) for x, y in zip(ma.state_dict().values(), mb.state_dict().values()))


def test_mask_covers_exactly_the_assistant_turns(tiny):
    tokenizer, _ = tiny
    end = tokenizer.eos_token
    for messages in conversations():
        enc = tokenize_conversation(tokenizer, messages)
        ids, mask = enc["input_ids"], enc["labels_mask"]
        assert ids == tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"]
        # each run of masked tokens decodes to one assistant turn's content + end-of-turn token
        runs, run = [], []
        for tok, m in zip(ids, mask):
            if m:
                run.append(tok)
            elif run:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
        decoded = [tokenizer.decode(r, skip_special_tokens=False) for r in runs]
        assert decoded == [m["content"] + end for m in messages if m["role"] == "assistant"]
        # and the unmasked tokens hold the system and user turns and the role markers
        rest = tokenizer.decode([t for t, m in zip(ids, mask) if not m], skip_special_tokens=False)
        assert "<|im_start|>assistant\n" in rest and messages[1]["content"] in rest and messages[2]["content"] not in rest


def test_left_truncation_keeps_whole_trailing_turns(tiny):
    tokenizer, _ = tiny
    messages = conversations(3)[2]
    full = tokenize_conversation(tokenizer, messages)
    last_two = tokenize_conversation(tokenizer, messages[-2:])
    # room for the last user + assistant turns and a bit more, not for the turn before
    cut = tokenize_conversation(tokenizer, messages, max_length=len(last_two["input_ids"]) + 3)
    assert cut["input_ids"] == full["input_ids"][-len(last_two["input_ids"]):]
    assert cut["labels_mask"] == last_two["labels_mask"]
    tiny_cut = tokenize_conversation(tokenizer, messages, max_length=5)  # not even the last turn fits
    assert tiny_cut["input_ids"] == full["input_ids"][-5:] and tiny_cut["labels_mask"] == full["labels_mask"][-5:]


def test_template_whose_prefix_is_not_a_prefix_is_refused(tiny):
    tokenizer, _ = tiny
    original = tokenizer.chat_template
    tokenizer.chat_template = ("{% for m in messages %}{% if loop.last %}[final] {% endif %}"
                               "{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}")
    try:
        with pytest.raises(ChatTemplateError, match="not a prefix"):
            tokenize_conversation(tokenizer, conversations(1)[0])
    finally:
        tokenizer.chat_template = original


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_padded_batch_equals_one_at_a_time(tiny, padding_side):
    tokenizer, model = tiny
    # each cut to its first two steps: 700-1,700 tokens
    examples = [tokenize_conversation(tokenizer, m[:5]) for m in conversations(3)]
    assert len({len(e["input_ids"]) for e in examples}) == 3
    # float64: the sums (hundreds of nats over 100-180 reply tokens) agree to 1e-5 absolute; float32 to its precision
    for dtype, close in ((torch.float64, dict(abs_tol=1e-5)), (torch.float32, dict(rel_tol=1e-6))):
        m = model.to(dtype)
        with torch.no_grad():
            batch = collate(examples, tokenizer.pad_token_id, padding_side=padding_side)
            per_token, sums = masked_logprobs(m, **batch)
            assert per_token.shape == (3, batch["input_ids"].shape[1] - 1) and per_token.dtype == dtype
            for row, ex in enumerate(examples):
                _, single = masked_logprobs(m, **collate([ex], tokenizer.pad_token_id))
                assert math.isclose(sums[row].item(), single[0].item(), **close)
                assert sums[row].item() < 0
    model.to(torch.float32)


def test_masked_logprob_by_hand_on_a_one_layer_model(tiny):
    tokenizer, model = tiny
    config = transformers.Qwen2Config(**{**model.config.to_dict(), "num_hidden_layers": 1,
                                                   "layer_types": model.config.layer_types[:1]})
    torch.manual_seed(1)
    one = transformers.Qwen2ForCausalLM(config).eval()
    ex = tokenize_conversation(tokenizer, conversations(1)[0])
    batch = collate([ex], tokenizer.pad_token_id)
    with torch.no_grad():
        per_token, total = masked_logprobs(one, **batch)
        logp = torch.log_softmax(one(input_ids=batch["input_ids"]).logits[0].double(), dim=-1)
    ids, mask = ex["input_ids"], ex["labels_mask"]
    expected = 0.0
    for t in range(1, len(ids)):
        want = logp[t - 1, ids[t]].item() if mask[t] else 0.0
        assert math.isclose(per_token[0, t - 1].item(), want, abs_tol=1e-5)
        expected += want
    assert sum(mask[1:]) > 0 and math.isclose(total.item(), expected, rel_tol=1e-5)
