"""Wikipedia-style search over a QA corpus: exact titles first, Lucene BM25 for the rest.

``search[entity]`` in ReAct (Yao et al., 2023) opened the Wikipedia page titled ``entity``
and otherwise listed similar titles. Here an exact title (up to case, spaces and
underscores) is a dictionary lookup; everything else is ranked by BM25 (Anserini's
``SimpleSearcher``, k1=0.9, b=0.4, the English analyzer) over title + text of each
document, through the same Lucene layer WebShop uses (:mod:`agent_gym.core.lucene`,
:class:`agent_gym.core.search.SearchEngine`). The index is built once per corpus (a child
``java`` process), cached under ``$AGENT_GYM_CACHE/qa/<corpus digest>/index`` and shared by
every env of the process; the JVM starts only when a search is not an exact title.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from agent_gym.core.cache import cache_root
from agent_gym.qa.dataset import Document, QADataset

_ENGINES: dict[str, object] = {}
_LOCK = threading.Lock()
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def index_dir_for(dataset: QADataset) -> Path:
    name = _SAFE.sub("_", dataset.name)[:60]
    return cache_root() / "qa" / f"{name}-{dataset.digest()}" / "index"


class CorpusSearch:
    """Exact-title lookup plus BM25 ranking over one dataset's documents."""

    def __init__(self, dataset: QADataset, progress: bool = False):
        self.dataset = dataset
        self.progress = progress
        self._engine = None

    def exact(self, title: str) -> Document | None:
        return self.dataset.document(title)

    def ranked(self, query: str, k: int = 5) -> list[Document]:
        """The ``k`` best BM25 hits for ``query`` (fewer when the corpus has no match)."""
        if not query.strip():
            return []
        engine = self._engine or self._open()
        return [self.dataset.documents[int(d)] for d in engine.search(query, k)]

    def _open(self):
        key = self.dataset.digest()
        with _LOCK:
            engine = _ENGINES.get(key)
            if engine is None:
                engine = _ENGINES[key] = build_engine(self.dataset, self.progress)
        self._engine = engine
        return engine


def build_engine(dataset: QADataset, progress: bool = False):
    """The corpus's ``SearchEngine``, building its index first when it is not cached."""
    from agent_gym.core.search import SearchEngine

    docs = lambda: ((str(i), f"{d.title}. {d.text}") for i, d in enumerate(dataset.documents))  # noqa: E731
    # one indexing thread is fastest for a small corpus (a thread per file has its own buffers)
    threads = 1 if len(dataset.documents) < 50_000 else None
    return SearchEngine.open_or_build(index_dir_for(dataset), docs, threads=threads, progress=progress)
