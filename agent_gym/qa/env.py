"""``agent_gym/MultiHopQA-v0`` and ``agent_gym/HotpotQA-v0``: ReAct's search / lookup / finish
question answering over a document corpus."""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

from agent_gym.core.anchors import PagePatternSimilarity
from agent_gym.core.env import Outcome, TextEnv
from agent_gym.qa.answers import score_answer
from agent_gym.qa.dataset import Document, QADataset, Question
from agent_gym.qa.generator import DEFAULT_SEED, generated_dataset
from agent_gym.qa.readers import DEFAULT_EVAL_SIZE, DEFAULT_TEST_SIZE, FORMATS, load_dataset
from agent_gym.qa.retrieval import CorpusSearch

DATASETS = ("generated", *FORMATS)
REWARDS = ("em", "f1")
SEARCH_SENTENCES = 5      # ReAct showed the first 5 sentences of a page
SIMILAR_TITLES = 5
SEARCH_TEMPLATE, LOOKUP_TEMPLATE, FINISH_TEMPLATE = "search[<query>]", "lookup[<keyword>]", "finish[<answer>]"
MAX_ARGUMENT_CHARS = 300  # longer search/lookup arguments are cut (an entity name, a keyword)

# Page-pattern similarity in the manner of REMEMBERER (Zhang et al. 2023; see
# agent_gym.webshop.env): a lookup result is a view of the page the search opened.
PAGE_SIMILARITY = PagePatternSimilarity({("document", "lookup"): 0.3})

_ACTION = re.compile(r"^\s*(search|lookup|finish)\s*\[(.*)\]\s*$", re.I | re.S)

_DATASETS: dict[Any, QADataset] = {}


@lru_cache(maxsize=4)
def _generated(seed: int) -> QADataset:
    return generated_dataset(seed)


def resolve_dataset(dataset: str | QADataset = "generated", path: str | os.PathLike | None = None,
                    data_files: dict | None = None, corpus: str | os.PathLike | None = None,
                    seed: int = DEFAULT_SEED, test_size: int = DEFAULT_TEST_SIZE,
                    eval_size: int = DEFAULT_EVAL_SIZE) -> QADataset:
    """A ``QADataset`` (shared per process: one corpus and one index for every env on it)."""
    if isinstance(dataset, QADataset):
        return dataset
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS} or a QADataset, got {dataset!r}")
    if dataset == "generated" and path is None and data_files is None:
        if corpus is not None:
            raise ValueError("corpus= goes with a dataset read from files (path= or data_files=)")
        return _generated(int(seed))
    fmt = "hotpotqa" if dataset == "generated" else dataset  # generated files are in HotpotQA's format
    if path is None and data_files is None:
        raise ValueError(f"dataset={dataset!r} needs path= (a file or folder) or data_files= ({{split: file}})")
    key = (fmt, str(path), tuple(sorted((k, str(v)) for k, v in (data_files or {}).items())), str(corpus),
           test_size, eval_size)
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(fmt, path, data_files=data_files, corpus=corpus,
                                      test_size=test_size, eval_size=eval_size)
    return _DATASETS[key]


def parse_action(action: str) -> tuple[str, str] | None:
    """``" Search[ Ed  Wood ]"`` -> ``("search", "Ed Wood")``; ``None`` when not of the grammar."""
    m = _ACTION.match(action)
    if m is None:
        return None
    return m.group(1).lower(), " ".join(m.group(2).split())


class MultiHopQAEnv(TextEnv):
    """Multi-hop question answering with ReAct's Wikipedia actions (Yao et al., ICLR 2023).

    The agent answers a question (HotpotQA, 2WikiMultihopQA, MuSiQue or the generated demo
    set) by searching a corpus of titled documents, reading them and giving an answer.

    **Observations** (``str``): on reset ``"Question: ..."``; then the result of the last
    action (as in ReAct): the first 5 sentences of the document a search opened, or
    ``"Could not find [x]. Similar: [...]."``, or a lookup result ``"(Result 1 / 3) ..."``
    / ``"No more results."``, and at the end whether the answer was right.

    **Actions** (``str``; the verb is case-insensitive, spaces in the argument collapse):

    * ``search[entity]``: opens the document titled ``entity`` (case-, space- and
      underscore-insensitive) and shows its first 5 sentences; without such a title, lists
      the 5 most similar titles by BM25 (Lucene) and closes the open document
      (``fallback="top1"`` opens the best BM25 hit instead, as dense-retrieval agents do);
    * ``lookup[keyword]``: the next sentence of the open document that contains ``keyword``
      (case-insensitive), cycling through them as in ReAct; needs an open document;
    * ``finish[answer]``: ends the episode with ``answer``.

    ``info["available_actions"]`` lists ``search[<query>]``, ``lookup[<keyword>]`` (with a
    document open), ``finish[<answer>]`` (templates) and, after a failed search,
    ``search[<title>]`` for each similar title. An action outside the grammar, an empty
    search or lookup, or a lookup without an open document is invalid: nothing changes,
    the reward is 0 and ``info["error"]`` says why.

    **Reward**: 0 until ``finish``; then exact match of the SQuAD-normalised answer
    (``reward="em"``, the default) or token F1 (``reward="f1"``), best over the gold
    answer and its aliases. ``info["reward_info"]`` holds ``em``, ``f1``, ``precision``,
    ``recall``, the ``answer`` and the ``gold`` answers; ``info["won"]`` is ``em == 1``.

    **Episode end**: terminated by ``finish``; truncated after ``max_steps`` steps (default
    7, ReAct's HotpotQA limit; an unfinished episode scores 0, as ReAct's forced empty
    ``finish[]`` did).

    **Tasks and splits**: ``dataset="generated"`` (default): 3,000 questions about a seeded
    fictional encyclopedia of 1,708 documents (bridge and comparison questions),
    test = questions [0, 500), eval = [500, 1000), train = [1000, 3000). For data read from
    files (``dataset="hotpotqa" | "2wiki" | "musique"`` with ``path=`` or ``data_files=``),
    see :mod:`agent_gym.qa.readers`: the dev file shuffled with ``Random(233)``, its first
    500 questions are the test split.

    **Info**: ``task_id``, ``split``, ``instruction`` (the question), ``available_actions``,
    ``anchor`` (question, open document, lookup position and the observation), ``page``
    (``question``, ``document``, ``similar``, ``lookup``, ``done``), ``step``,
    ``invalid_action``, ``error``, ``document`` (the open title or ``None``), ``qid`` and,
    at the end, ``won`` and ``reward_info``.

    **Arguments**: ``split``, ``max_steps`` (7), ``render_mode``, ``expose_goal``
    (``info["expert_action"]``: search the supporting documents in order, then finish with
    the gold answer), ``dataset``, ``path``, ``data_files``, ``corpus`` (a JSON-lines corpus
    to search instead of the datasets' context paragraphs), ``seed`` (of the generated
    world, 0), ``reward`` (``"em"`` / ``"f1"``), ``fallback`` (``"similar"`` / ``"top1"``),
    ``search_sentences`` (5), ``test_size`` / ``eval_size`` (500 each, for one dev file).

    **Version history**: v0: initial version.
    """

    page_similarity = PAGE_SIMILARITY
    agent_prompt = ("Answer the question by searching a collection of encyclopedia articles. Actions:\n"
                    "- search[entity]: open the article titled entity (shows its first sentences); if there is "
                    "none, you get similar titles to search instead.\n"
                    "- lookup[keyword]: the next sentence of the open article that contains keyword.\n"
                    "- finish[answer]: give the answer (a short phrase, a name, a number, or yes/no) and end.")

    def __init__(self, split: str = "test", max_steps: int = 7, render_mode: str | None = None,
                 expose_goal: bool = False, dataset: str | QADataset = "generated",
                 path: str | os.PathLike | None = None, data_files: dict | None = None,
                 corpus: str | os.PathLike | None = None, seed: int = DEFAULT_SEED, reward: str = "em",
                 fallback: str = "similar", search_sentences: int = SEARCH_SENTENCES,
                 test_size: int = DEFAULT_TEST_SIZE, eval_size: int = DEFAULT_EVAL_SIZE):
        super().__init__(split=split, max_steps=max_steps, render_mode=render_mode, expose_goal=expose_goal)
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        if fallback not in ("similar", "top1"):
            raise ValueError(f"fallback must be 'similar' or 'top1', got {fallback!r}")
        self.dataset = resolve_dataset(dataset, path, data_files, corpus, seed, test_size, eval_size)
        self.questions: list[Question] = self.dataset.splits[split]
        self.search = CorpusSearch(self.dataset)
        self.reward_kind, self.fallback, self.search_sentences = reward, fallback, int(search_sentences)
        self.question: Question | None = None
        self._reset_state()

    def _reset_state(self) -> None:
        self.document: Document | None = None
        self.visited: list[str] = []           # titles opened by search, in order
        self.similar: list[str] = []
        self.lookup_keyword: str | None = None
        self.lookup_hits: list[str] = []
        self.lookup_cursor = 0
        self.view = "question"
        self.text = ""
        self.answer: str | None = None

    # ----- TextEnv ---------------------------------------------------------------------
    def _num_tasks(self) -> int:
        return len(self.questions)

    def _start_task(self, task_id: int) -> None:
        self.question = self.questions[task_id]
        self._reset_state()
        self.text = f"Question: {self.question.question}"

    def _apply(self, action: str) -> Outcome:
        parsed = parse_action(action)
        if parsed is None:
            return Outcome(error="unknown action: use search[entity], lookup[keyword] or finish[answer]")
        verb, arg = parsed
        if verb == "finish":
            return self._finish(arg)
        arg = arg[:MAX_ARGUMENT_CHARS]
        if not arg:
            return Outcome(error=f"{verb}[...] needs a non-empty argument")
        if verb == "search":
            self._search(arg)
        else:
            if self.document is None:
                return Outcome(error="no document is open: search[...] for one first")
            self._lookup(arg)
        return Outcome()

    def _search(self, entity: str) -> None:
        doc = self.search.exact(entity)
        self.similar = []
        if doc is None:
            hits = self.search.ranked(entity, SIMILAR_TITLES)
            if self.fallback == "top1" and hits:
                doc = hits[0]
            else:
                self.document, self.view = None, "similar"
                self.similar = [h.title for h in hits]
                self.lookup_keyword, self.lookup_hits, self.lookup_cursor = None, [], 0
                listing = f"Similar: {self.similar}." if hits else "No similar titles."
                self.text = f"Could not find [{entity}]. {listing}"
                return
        self.document, self.view = doc, "document"
        if doc.title not in self.visited:
            self.visited.append(doc.title)
        self.lookup_keyword, self.lookup_hits, self.lookup_cursor = None, [], 0
        self.text = " ".join(doc.sentences[:self.search_sentences]) or f"[{doc.title}] is empty."

    def _lookup(self, keyword: str) -> None:
        if keyword.casefold() != (self.lookup_keyword or "").casefold():
            self.lookup_keyword = keyword
            needle = keyword.casefold()
            self.lookup_hits = [s for s in self.document.sentences if needle in s.casefold()]
            self.lookup_cursor = 0
        self.view = "lookup"
        if self.lookup_cursor >= len(self.lookup_hits):
            self.text = "No more results."
        else:
            hit = self.lookup_hits[self.lookup_cursor]
            self.text = f"(Result {self.lookup_cursor + 1} / {len(self.lookup_hits)}) {hit}"
            self.lookup_cursor += 1

    def _finish(self, answer: str) -> Outcome:
        q = self.question
        scores = score_answer(answer, q.golds)
        self.answer, self.view = answer, "done"
        won = scores["em"] == 1.0
        self.text = (f"Episode finished. Your answer [{answer}] is "
                     + ("correct." if won else f"not correct (F1 {scores['f1']:.2f})."))
        reward = scores["em"] if self.reward_kind == "em" else scores["f1"]
        info = {"won": won, "reward_info": {**scores, "answer": answer, "gold": list(q.golds)}}
        return Outcome(reward=reward, done=True, info=info)

    def _observe(self) -> str:
        return self.text

    def _available_actions(self) -> list[str]:
        if self.view == "done":
            return []
        actions = [SEARCH_TEMPLATE] + [f"search[{t}]" for t in self.similar]
        if self.document is not None:
            actions.append(LOOKUP_TEMPLATE)
        return actions + [FINISH_TEMPLATE]

    def _state_key(self) -> Any:
        return {"env": "MultiHopQA-v0", "dataset": self.dataset.name, "qid": self.question.qid,
                "question": self.question.question, "view": self.view,
                "document": self.document.title if self.document else None,
                "lookup": [self.lookup_keyword.casefold() if self.lookup_keyword else None, self.lookup_cursor],
                "observation": self.text}

    def _page(self) -> str:
        return self.view

    def _instruction(self) -> str:
        return self.question.question

    def _extra_info(self) -> dict[str, Any]:
        return {"document": self.document.title if self.document else None, "qid": self.question.qid}

    def _expert_action(self) -> str | None:
        return expert_step(self)[0]

    def _expert_thought(self) -> str | None:
        return expert_step(self)[1]


class HotpotQAEnv(MultiHopQAEnv):
    """``agent_gym/HotpotQA-v0``: :class:`MultiHopQAEnv` for HotpotQA (Yang et al., 2018).

    ``dataset`` defaults to ``"hotpotqa"``; without ``path`` / ``data_files`` it runs the
    generated demo set (written in HotpotQA's format), so the id works out of the box.
    """

    def __init__(self, split: str = "test", max_steps: int = 7, render_mode: str | None = None,
                 expose_goal: bool = False, dataset: str | QADataset = "hotpotqa", **kwargs):
        if dataset == "hotpotqa" and kwargs.get("path") is None and kwargs.get("data_files") is None:
            dataset = "generated"
        super().__init__(split=split, max_steps=max_steps, render_mode=render_mode, expose_goal=expose_goal,
                         dataset=dataset, **kwargs)


def expert_step(env: MultiHopQAEnv) -> tuple[str, str]:
    """The expert's next action and thought: search each supporting document (that the corpus
    has) in order, then finish with the gold answer; finish early when steps run out."""
    q = env.question
    steps_left = env.max_steps - env._steps
    if steps_left > 1:
        for title in q.supporting_titles:
            doc = env.dataset.document(title)
            if doc is not None and doc.title not in env.visited:
                return f"search[{doc.title}]", f"I need to read about {doc.title}."
    return f"finish[{q.answer}]", f"From what I read, the answer is {q.answer}."
