"""The one prompt builder and reply parser of the LLM agents and the trainers.

A step's prompt is a chat: the system prompt (the env's ``agent_prompt``, i.e. the task's
rules and actions, then the reply format, then optionally the env's ``agent_example``), the
last ``history`` observation/action turns as user/assistant messages (older actions listed in
one line), then the current observation with the actions available on it.

Two reply formats:

- ``"react"``: ``Thought: ...`` then ``Action: ...`` (the format of ReAct, Yao et al. 2023),
  parsed tolerantly by ``parse_action`` (markdown, code fences, ``<action>`` tags, quotes...);
- ``"tags"``: ``<think>...</think><action>...</action>`` (the action is read only from the
  ``<action>`` tag).

The baselines (``baselines.react``, ``baselines.hf_agent``), the trainers' rollouts, data and
``trainers.agent.PolicyAgent`` all build their prompts here, so a model is asked the same way
wherever it runs. Nothing here imports torch or makes network calls.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

FORMATS = ("react", "tags")

# for an env without an agent_prompt of its own
GENERIC_PROMPT = ("You are an agent in a text environment. Carry out the instruction one action at a time. "
                  "Each step shows you the current state as an Observation and the actions you can take; "
                  "reply with one of them, spelled as listed.")
REACT_RULE = """Reply with exactly two lines:
Thought: <briefly, what you notice and what to do next>
Action: <one action>"""
TAGS_RULE = """Reply in this form:
<think>briefly, what you notice and what to do next</think><action>one action</action>"""
_CLOSING = {"react": "Reply with a Thought line and an Action line.",
            "tags": "Reply with <think>...</think> then <action>...</action>."}


@dataclass
class Turn:
    """One step of the episode as the model saw and answered it."""

    observation: str
    action: str
    thought: str | None = None
    note: str | None = None  # e.g. why the previous action was refused


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown response format {fmt!r}; use one of {FORMATS}")


# ----- where an env's prompt comes from ------------------------------------------------------
def _env_class(env_id: str):
    import gymnasium as gym

    import agent_gym  # noqa: F401  registers the ids

    entry = gym.spec(env_id).entry_point
    if callable(entry):
        return entry
    module, _, name = str(entry).partition(":")
    return getattr(importlib.import_module(module), name)


def agent_prompt_of(env_id: str) -> str | None:
    """The ``agent_prompt`` class attribute of a registered env, without making the env."""
    return getattr(_env_class(env_id), "agent_prompt", None)


def agent_example_of(env_id: str) -> str | None:
    """The ``agent_example`` (a made-up episode in the react format) of a registered env, if any."""
    return getattr(_env_class(env_id), "agent_example", None)


def env_prompt(env) -> str | None:
    """The ``agent_prompt`` of an env (through wrappers), ``None`` when it has none."""
    return getattr(getattr(env, "unwrapped", env), "agent_prompt", None)


def system_prompt(fmt: str = "react", task_prompt: str | None = None, example: str | None = None) -> str:
    """The system prompt: ``task_prompt`` (an env's ``agent_prompt``; a generic one without it),
    the reply format in ``fmt``, then ``example`` when given."""
    _check(fmt)
    text = (task_prompt or GENERIC_PROMPT).rstrip() + "\n\n" + (REACT_RULE if fmt == "react" else TAGS_RULE)
    return text + ("\n\n" + example.strip() if example else "")


# ----- the messages ---------------------------------------------------------------------------
def truncate(text: str, max_chars: int | None) -> str:
    if max_chars is None or len(text) <= max_chars:
        return text
    return text[:max(0, max_chars - 4)].rstrip() + " ..."


def format_observation(observation: str, info: dict | None = None, max_chars: int | None = 4000) -> tuple[str, str | None]:
    """The observation text (cut at ``max_chars``) and a note when the last action was invalid."""
    note = None
    if info and info.get("invalid_action"):
        note = f"Your last action was invalid: {info.get('error') or 'not available on this page'}."
    return truncate(str(observation).strip(), max_chars), note


def format_available(actions: Sequence[str] | None, max_actions: int = 100) -> str:
    actions = list(actions or [])
    if not actions:
        return "Available actions: none"
    shown = actions[:max_actions]
    more = f"\n- ... and {len(actions) - len(shown)} more" if len(actions) > len(shown) else ""
    return "Available actions:\n" + "\n".join(f"- {a}" for a in shown) + more


def format_reply(thought: str | None, action: str, fmt: str = "react") -> str:
    """How an assistant turn is written in ``fmt`` (for the history and for demonstrations)."""
    _check(fmt)
    if fmt == "react":
        return (f"Thought: {thought}\n" if thought else "") + f"Action: {action}"
    return f"<think>{thought or ''}</think><action>{action}</action>"


def history_window(instruction: str, turns: Sequence[Turn], history: int) -> tuple[str, list[Turn]]:
    """The first user turn's head (instruction, and the actions of turns older than the window)
    and the last ``history`` turns, shown in full."""
    history = max(0, int(history))
    shown = list(turns[len(turns) - history:]) if history else []
    older = list(turns[:len(turns) - len(shown)])
    head = f"Instruction: {instruction}\n"
    if older:
        head += (f"({len(older)} earlier step{'s' if len(older) > 1 else ''} not shown; "
                 f"actions taken: {', '.join(t.action for t in older)})\n")
    return head, shown


def build_messages(instruction: str, turns: Sequence[Turn], observation: str,
                   available_actions: Sequence[str] | None, fmt: str = "react", history: int = 3,
                   note: str | None = None, max_observation_chars: int | None = 4000,
                   system: str | None = None, mark: str | None = None) -> list[dict]:
    """Chat messages asking for the next reply in ``fmt``.

    ``turns`` are the earlier steps of this episode (their observations as already formatted);
    ``observation`` is the current one. Only the last ``history`` turns are shown with their
    observations; the actions of older ones are listed in one line. The available actions are
    listed for the current observation only. ``system`` is the whole system prompt (default
    ``system_prompt(fmt)``, the generic one: pass the env's); ``mark`` is a line added at the
    very end of the request (NAT's success mark).
    """
    _check(fmt)
    messages: list[dict] = [{"role": "system", "content": system if system is not None else system_prompt(fmt)}]
    head, shown = history_window(instruction, turns, history)
    for i, turn in enumerate(shown):
        body = (f"{turn.note}\n" if turn.note else "") + f"Observation: {truncate(turn.observation, max_observation_chars)}"
        messages.append({"role": "user", "content": (head + body) if i == 0 else body})
        messages.append({"role": "assistant", "content": format_reply(turn.thought, turn.action, fmt)})
    body = (f"{note}\n" if note else "") + f"Observation: {truncate(observation, max_observation_chars)}\n\n"
    body += format_available(available_actions) + "\n\n" + _CLOSING[fmt]
    if mark:
        body += "\n" + mark
    messages.append({"role": "user", "content": (head + body) if not shown else body})
    return messages


def render_plain(messages: Sequence[dict]) -> str:
    """A plain-text prompt for models without a chat template; ends ready for the reply."""
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    parts = [f"{names.get(m['role'], m['role'].title())}: {m['content']}" for m in messages]
    return "\n\n".join(parts) + "\n\nAssistant:"


# ----- parsing ---------------------------------------------------------------------------------
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)
_FENCE = re.compile(r"```[\w+-]*")
_TAG = re.compile(r"<action>(.*?)(?:</action>|$)", re.S | re.I)
_LABEL = r"^[ \t>*_#-]*(?:\d+[.)]\s*)?{name}(?:\s*\d+)?[ \t*_]*[:\uff1a][ \t*_]*"
_ACTION_LINE = re.compile(_LABEL.format(name="action") + r"(.*)$", re.I | re.M)
_THOUGHT_LINE = re.compile(_LABEL.format(name=r"(?:thought|thinking|reasoning)") + r"(.*)$", re.I | re.M)
_OBSERVATION_LINE = re.compile(_LABEL.format(name="observation"), re.I | re.M)
# a call starts a segment (then "search [x]" is allowed) or is written verb[ without a space: an
# echoed page text such as "Back to Search [SEP]" is not a call
_CALL_START = re.compile(r"\b([a-z][a-z_]*)\[|^\s*([a-z][a-z_]*)\s+\[", re.I)
_VERB = re.compile(r"^([a-z][a-z_]*)\[", re.I)
_THINK_TAG = re.compile(r"<think>(.*?)</think>", re.S | re.I)
_ACTION_TAG = re.compile(r"<action>(.*?)</action>", re.S | re.I)
WEBSHOP_VERBS = frozenset({"search", "click"})
_CALL_LOOSE = re.compile(r"^\s*(search|click)\s*(?:\(\s*(.*?)\s*\)|[:\-]?\s+(.+?))\s*$", re.I)
_QUOTES = "\"'`\u201c\u201d\u2018\u2019"
_TRAILING = ".,;:!?"
_ALIASES = {
    "next": "next >", "next page": "next >", "next>": "next >",
    "prev": "< prev", "previous": "< prev", "previous page": "< prev", "< previous": "< prev", "<prev": "< prev",
    "back": "back to search", "back to search page": "back to search",
    "buy": "buy now", "buy it now": "buy now", "buynow": "buy now",
}
_PLACEHOLDERS = {"", "query", "keywords", "keyword", "...", "element", "sep"}
_ANGLE = re.compile(r"^<[^<>]*>$")
# the list of actions copied from the prompt ("Actions: go[left], go[right], ..." or the
# "Available actions:" list and its "- ..." lines) is not the model's choice of one
_ECHOED_LIST = re.compile(r"\b(?:available\s+)?actions\s*[:\uff1a][^\n]*(?:\n[ \t]*- [^\n]*)*", re.I)


def _clean_arg(arg: str) -> str:
    arg = " ".join(arg.split())
    while arg and arg[0] in _QUOTES and arg[-1:] in _QUOTES and len(arg) >= 2:
        arg = arg[1:-1].strip()
    return arg


def is_placeholder(arg: str) -> bool:
    """An argument copied from an action template (``<query>``, ``<element>``, ``...``) or a page's
    separator (``[SEP]``): never a real action's argument."""
    arg = _clean_arg(arg).lower().rstrip(_TRAILING)
    return arg in _PLACEHOLDERS or bool(_ANGLE.match(arg))


def _calls(segment: str):
    """``(verb, argument)`` of each ``verb[argument]`` in ``segment``, in order; brackets nest
    (``click[shirt [large]]``), and an unclosed bracket ends the scan."""
    pos = 0
    while True:
        m = _CALL_START.search(segment, pos)
        if m is None:
            return
        verb = m.group(1) or m.group(2)
        start = m.end()
        depth, i = 1, start
        while i < len(segment) and depth:
            ch = segment[i]
            if ch == "\n":
                break
            depth += ch == "["
            depth -= ch == "]"
            i += 1
        if depth:  # no closing bracket on this line
            pos = start
            continue
        yield verb, segment[start:i - 1]
        pos = i


def _clickables(available_actions: Sequence[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for a in available_actions or ():
        if a.startswith("click[") and a.endswith("]"):
            out[" ".join(a[6:-1].lower().split())] = a
    return out


def _verbs(available_actions: Sequence[str] | None) -> frozenset[str]:
    """The verbs an action may use: WebShop's, plus those of the available ``verb[...]`` actions."""
    extra = {m.group(1).lower() for a in available_actions or () if (m := _VERB.match(a))}
    return WEBSHOP_VERBS | extra


def _normal(action: str) -> str:
    return " ".join(action.lower().split())


def _resolve(verb: str, arg: str, available_actions: Sequence[str] | None) -> str | None:
    """The action for ``verb[arg]``, spelled as in ``available_actions`` when it is there;
    ``None`` for a placeholder or an unknown verb."""
    verb = verb.lower()
    arg = _clean_arg(arg)
    if is_placeholder(arg):
        return None
    if verb not in WEBSHOP_VERBS:  # another benchmark's verb (go[...], take[...]...)
        if verb not in _verbs(available_actions):
            return None
        spelled = {_normal(a): a for a in available_actions or ()}
        action = f"{verb}[{_normal(arg).rstrip(_TRAILING + _QUOTES + ' ')}]"
        return spelled.get(_normal(f"{verb}[{arg}]"), spelled.get(action, action))
    if verb == "search":
        return f"search[{arg.strip(_QUOTES).strip()}]"
    clickables = _clickables(available_actions)
    candidates = [arg.lower(), arg.lower().strip(_QUOTES + " "), arg.lower().rstrip(_TRAILING + _QUOTES + " ")]
    for c in candidates:
        if c in clickables:
            return clickables[c]
    for c in candidates:
        alias = _ALIASES.get(c)
        if alias in clickables:
            return clickables[alias]
    return f"click[{candidates[-1]}]"  # not available here: the env reports it as invalid


def _find_call(segment: str, available_actions: Sequence[str] | None) -> str | None:
    """The first complete action written in ``segment`` (placeholders and unknown verbs skipped)."""
    for verb, arg in _calls(segment):
        action = _resolve(verb, arg, available_actions)
        if action is not None:
            return action
    return None


def _bare(segment: str, available_actions: Sequence[str] | None) -> str | None:
    """``click buy now``, ``click("buy now")`` or just ``buy now`` when it names an available action."""
    segment = segment.strip().strip(_QUOTES).strip()
    m = _CALL_LOOSE.match(segment)
    if m:
        return _resolve(m.group(1), m.group(2) if m.group(2) is not None else m.group(3), available_actions)
    clickables = _clickables(available_actions)
    key = " ".join(segment.lower().rstrip(_TRAILING).strip(_QUOTES + " ").split())
    if key in clickables:
        return clickables[key]
    alias = _ALIASES.get(key)
    if alias in clickables:
        return clickables[alias]
    # a benchmark whose actions are plain commands ("go to kitchen"): the action as spelled there,
    # never a template ("search[<query>]") copied from the list
    action = {_normal(a): a for a in available_actions or ()}.get(key)
    if action is not None and (m := _VERB.match(action)) and is_placeholder(action[m.end():-1]):
        return None
    return action


def _bracket_grammar(available_actions: Sequence[str] | None) -> bool:
    return any(_VERB.match(a) for a in available_actions or ())


def parse_action(reply: str | None, available_actions: Sequence[str] | None = None) -> tuple[str | None, str | None]:
    """``(thought, action)`` read from a model's reply; ``action`` is ``None`` when none is found.

    Accepts ``Action: click[...]`` in any case and with markdown decoration, code fences,
    ``<action>...</action>`` tags, quotes and trailing punctuation around the argument, a
    ``verb[...]`` anywhere, and ``<think>`` blocks (ignored). A click is mapped to its spelling
    in ``available_actions`` when one matches up to case, spacing, quotes or trailing
    punctuation (``click[Buy Now]`` -> ``click[buy now]``); a click that matches nothing is
    returned lower-cased (the environment then reports it invalid). The first complete action
    counts; a template's placeholder (``search[<query>]``) is never an action, nor is page text
    echoed back (``Back to Search [SEP]``) or the prompt's list of actions copied out
    (``Actions: go[left], go[right], ...``); anything after a made-up ``Observation:`` is ignored.
    """
    if not reply:
        return None, None
    text = _THINK.sub("\n", str(reply))
    if "</think>" in text.lower():  # an opening tag lost to the template: keep what follows
        text = text[text.lower().rindex("</think>") + len("</think>"):]
    text = _FENCE.sub("\n", text).replace("**", "")
    text = _ECHOED_LIST.sub("\n", text)
    # stop at a made-up observation that follows the first action
    first_action = _ACTION_LINE.search(text)
    start = first_action.end() if first_action else 0
    obs = _OBSERVATION_LINE.search(text, start)
    if obs:
        text = text[:obs.start()]

    thought = None
    m = _THOUGHT_LINE.search(text)
    if m:
        end = first_action.start() if first_action and first_action.start() > m.start() else len(text)
        thought = " ".join(text[m.start(1):end].split()) or None
    elif first_action and text[:first_action.start()].strip():
        thought = " ".join(text[:first_action.start()].split())

    action = None
    for tag in _TAG.finditer(text):
        action = _find_call(tag.group(1), available_actions) or _bare(tag.group(1), available_actions)
        if action:
            break
    if action is None:
        for line in _ACTION_LINE.finditer(text):
            rest = text[line.start(1):]
            action = (_find_call(line.group(1), available_actions) or _bare(line.group(1), available_actions)
                      or _find_call(rest.split("\n\n")[0], available_actions))
            if action:
                break
    if action is None:
        action = _find_call(text, available_actions)
    if action is None:
        lines = [ln for ln in text.strip().splitlines() if ln.strip()]
        if lines:
            action = _bare(lines[-1], available_actions)
    if action is None and first_action is not None and available_actions and not _bracket_grammar(available_actions):
        # plain-command benchmarks: the Action line is the command (the env judges it)
        action = _clean_arg(first_action.group(1)).rstrip(_TRAILING) or None
    if thought is None and action is None and first_action is None:
        return (" ".join(text.split()) or None), None  # no action at all: the text is the thought
    return thought, action


def parse_response(text: str | None, available_actions: Sequence[str] | None = None,
                   fmt: str = "react") -> tuple[str | None, str | None]:
    """``(thought, action)`` of a reply in ``fmt``; ``action`` is ``None`` when it holds none."""
    _check(fmt)
    if fmt == "react":
        return parse_action(text, available_actions)
    text = text or ""
    think = _THINK_TAG.search(text)
    thought = (" ".join(think.group(1).split()) or None) if think else None
    tag = _ACTION_TAG.search(text[think.end():] if think else text)
    if tag is None:
        return thought, None
    _, action = parse_action("Action: " + tag.group(1).strip(), available_actions)
    return thought, action


def fallback_action(instruction: str, available_actions: Sequence[str] | None) -> str:
    """A safe valid action when a reply could not be parsed."""
    actions = list(available_actions or [])
    if "click[back to search]" in actions:
        return "click[back to search]"
    if any(a.startswith("search[") for a in actions) or not actions:
        return f"search[{' '.join(instruction.split())[:300] or 'product'}]"
    return actions[0]


def is_available(action: str, available_actions: Sequence[str] | None) -> bool:
    """Whether ``action`` is among ``available_actions`` (a search where the page has a search bar)."""
    if available_actions is None:
        return True
    if action.startswith("search["):
        return any(a.startswith("search[") for a in available_actions)
    return action in available_actions
