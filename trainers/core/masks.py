"""Token masks that score only the agent's turns of a conversation.

``tokenize_conversation`` renders the tokenizer's chat template incrementally: the rendering
of the first ``i`` messages must be a prefix of the rendering of the first ``i + 1`` (true of
ChatML, Llama, Mistral, SmolLM... templates; not of templates that rewrite earlier turns, e.g.
ones that strip past reasoning). Each message then owns a span of characters of the full
text; inside an assistant message's span the mask covers its content and the end-of-turn
token that follows it (what the model must generate to stop), not the role markers. Characters
are mapped to tokens through the fast tokenizer's offsets, so BPE merges across message
boundaries do no harm.
"""

from __future__ import annotations

from typing import Any, Sequence


class ChatTemplateError(ValueError):
    """The chat template cannot be rendered incrementally, so turns cannot be located."""


def _render(tokenizer, messages: Sequence[dict], add_generation_prompt: bool = False) -> str:
    if not messages:
        return ""
    return tokenizer.apply_chat_template(list(messages), tokenize=False,
                                         add_generation_prompt=add_generation_prompt)


def assistant_char_spans(tokenizer, messages: Sequence[dict], end_token: str | None = None,
                         train_roles: Sequence[str] = ("assistant",)) -> tuple[str, list[int], list[tuple[int, int]]]:
    """The full rendered text, the character offset where each message starts, and the
    character spans (content + end-of-turn token) of the messages in ``train_roles``."""
    end_token = tokenizer.eos_token if end_token is None else end_token
    renders = [_render(tokenizer, messages[:i]) for i in range(len(messages) + 1)]
    full = renders[-1]
    for i in range(1, len(renders)):
        if not renders[i].startswith(renders[i - 1]):
            raise ChatTemplateError(
                f"the chat template's rendering of the first {i - 1} messages is not a prefix of its rendering "
                f"of the first {i}, so the assistant turns cannot be located incrementally; use a template that "
                f"renders earlier turns the same way whatever follows them (message {i - 1} has role "
                f"{messages[i - 1].get('role')!r})")
    starts = [len(r) for r in renders[:-1]]
    spans = []
    for i, msg in enumerate(messages):
        if msg.get("role") not in train_roles:
            continue
        begin, end = len(renders[i]), len(renders[i + 1])
        segment = full[begin:end]
        search_from = 0  # skip the role markers: the generation prompt when the template has one
        with_prompt = _render(tokenizer, messages[:i], add_generation_prompt=True) if i else ""
        if i and with_prompt.startswith(renders[i]) and full.startswith(with_prompt):
            search_from = len(with_prompt) - begin
        content = msg.get("content") or ""
        at, text = -1, content
        for text in (content, content.strip()):
            at = segment.find(text, search_from)
            if at >= 0:
                break
        if at < 0:
            raise ChatTemplateError(f"the content of message {i} ({msg.get('role')}) does not appear in its rendering "
                                    f"{segment!r}")
        stop = at + len(text)
        if end_token and segment.startswith(end_token, stop):
            stop += len(end_token)
        spans.append((begin + at, begin + stop))
    return full, starts, spans


def tokenize_conversation(tokenizer, messages: Sequence[dict], max_length: int | None = None,
                          end_token: str | None = None,
                          train_roles: Sequence[str] = ("assistant",)) -> dict[str, Any]:
    """Token ids of the rendered conversation and a 0/1 mask that is 1 exactly on the tokens of
    the assistant turns' content and their end-of-turn token (``end_token``, default the
    tokenizer's EOS).

    With ``max_length``, a longer conversation is cut from the left at the earliest message
    boundary that makes it fit, so whole trailing turns are kept; when even the last message
    does not fit, the last ``max_length`` tokens are kept.
    """
    full, starts, spans = assistant_char_spans(tokenizer, messages, end_token, train_roles)
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("tokenize_conversation needs a fast tokenizer (character offsets)")
    enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = list(enc["input_ids"]), enc["offset_mapping"]
    mask = [int(e > s and any(s < b and e > a for a, b in spans)) for s, e in offsets]
    if max_length is not None and len(ids) > max_length:
        cut = len(ids) - max_length
        boundaries = sorted({next((t for t, (s, _) in enumerate(offsets) if s >= c), len(ids)) for c in starts})
        cut = next((b for b in boundaries if b >= cut), cut)
        ids, mask = ids[cut:], mask[cut:]
    return {"input_ids": ids, "labels_mask": mask}
