"""BM25 search over a Lucene index: the original WebShop's ranking, docids in rank order.

WebShop searches its products with it (docids are asins), the QA envs their corpora.

The original searched with pyserini's ``LuceneSearcher(index).search(query, k=50)``; here the
same Anserini class behind it (``io.anserini.search.SimpleSearcher``) is reached directly
through :mod:`agent_gym.core.lucene`: BM25 with k1=0.9, b=0.4, the default English analyzer
(Porter stemming, Lucene's English stopwords), a bag-of-words query (no query syntax: quotes,
``AND``, ``field:``, ``*``, ``~``, ``^``... are ordinary characters that the analyzer drops or
splits on, so no query string is a syntax error), and score ties broken by docid.

The original built the query as ``' '.join(keywords.split(' '))``, which is the identity on
every string, so the query is passed through unchanged. It lower-cased the keywords before
(``action_arg.lower()``); that is the caller's job, as in the original (the analyzer
lower-cases too, so it only matters for the few characters Python and Java case-fold
differently).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from operator import index as _as_int
from pathlib import Path

from agent_gym.core import checksums, lucene
from agent_gym.core.cache import build_lock, remove_stale

DEFAULT_K = 50
DEFAULT_CACHE_SIZE = 1024
# Lucene refuses queries of more than 1,024 clauses (one per distinct analyzed term), and
# the original raised on them. We allow far more; beyond this (a query of megabytes) the
# search returns no hits rather than raising or exhausting the heap.
MAX_QUERY_TERMS = 1 << 16


class SearchEngine:
    """BM25 search over a Lucene index built by :func:`agent_gym.core.lucene.build_index`.

    ``search`` returns a new list of docids (asins) each call; identical ``(query, k)`` calls
    are answered from an LRU cache of ``cache_size`` entries (0 disables it), since agents
    repeat searches.

    Thread safety: one engine may be shared by threads; calls are serialised by a lock
    (pyjnius holds the GIL during Java calls, so threads would not search in parallel anyway).
    For parallel search use processes, each with its own engine (and JVM). An engine, like
    its process's JVM, cannot be used in a ``fork()``-ed child: that raises instead of hanging.
    """

    def __init__(self, index_dir: str | os.PathLike, *, cache_size: int = DEFAULT_CACHE_SIZE):
        self.index_dir = Path(index_dir)
        if not self.index_dir.is_dir() or not any(self.index_dir.glob("segments_*")):
            raise FileNotFoundError(f"no Lucene index at {self.index_dir}")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self.cache_size = int(cache_size)
        self._cache: OrderedDict[tuple[str, int], tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

        index_searcher = lucene.autoclass("org.apache.lucene.search.IndexSearcher")
        if index_searcher.getMaxClauseCount() < MAX_QUERY_TERMS:
            index_searcher.setMaxClauseCount(MAX_QUERY_TERMS)  # JVM-wide, only ever raised
        searcher = lucene.autoclass(lucene.SEARCHER_CLASS)(str(self.index_dir))
        searcher.set_bm25(0.9, 0.4)  # SimpleSearcher's (and the original's) default, made explicit
        self._searcher = searcher
        self.num_docs: int = int(searcher.get_total_num_docs())

    @classmethod
    def open_or_build(cls, index_dir: str | os.PathLike, documents: Callable[[], Iterable[tuple[str, str]]], *,
                      threads: int | None = None, cache_size: int = DEFAULT_CACHE_SIZE,
                      progress: bool = True, rebuild: str | None = None) -> "SearchEngine":
        """The engine over ``index_dir``, first building the index of ``documents()`` (an
        iterable of ``(docid, text)``, only called when the index is missing) under the
        folder's build lock, so concurrent processes build it once.

        The index files' checksums are recorded in the parent folder's manifest when built
        and checked here before the index is opened (``agent_gym.core.checksums``; ``rebuild``
        is the command the error tells a user to run). Temporaries of killed builds go.
        """
        index_dir = Path(index_dir)
        folder, prefix = index_dir.parent, index_dir.name + "/"
        with build_lock(folder):
            remove_stale(folder, (f".{index_dir.name}.building-*", f"{checksums.MANIFEST}.tmp-*"))
            if not index_dir.is_dir() or not any(index_dir.glob("segments_*")):
                checksums.forget(folder, prefix)
                lucene.build_index(documents(), index_dir, progress=progress,
                                   threads=threads or lucene.DEFAULT_BUILD_THREADS)
            if checksums.recorded(folder, prefix):
                checksums.verify(folder, prefix)
            else:  # just built, or built before checksums were recorded
                names = sorted(p.relative_to(folder).as_posix() for p in index_dir.rglob("*")
                               if p.is_file() and p.name != "write.lock")
                checksums.record(folder, names, rebuild=rebuild)
        return cls(index_dir, cache_size=cache_size)

    def search(self, query: str, k: int = DEFAULT_K) -> list[str]:
        """The docids of the top ``k`` hits for ``query``, best first. Never raises on content."""
        if not isinstance(query, str):
            raise TypeError(f"query must be a str, not {type(query).__name__}")
        k = _as_int(k)
        key = (query, k)
        if os.getpid() != self._pid:  # checked before the lock, which a fork may leave held
            lucene._check_same_process()
            raise RuntimeError("this SearchEngine was created in another process (before a fork)")
        with self._lock:
            if self._searcher is None:
                raise RuntimeError("search on a closed SearchEngine")
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return list(hit)
            result = self._search(query, k)
            if self.cache_size:
                self._cache[key] = result
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
            return list(result)

    def _search(self, query: str, k: int) -> tuple[str, ...]:
        # Lucene needs 1 <= k; beyond the collection size k only costs memory.
        k = min(k, self.num_docs)
        if k <= 0 or not query.strip():
            return ()
        try:
            query.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: pyjnius cannot pass them to Java
            query = query.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        try:
            hits = self._searcher.search(query, k)
        except lucene.start_jvm().JavaException as e:
            if "TooManyClauses" in str(e):
                return ()
            raise
        return tuple(h.docid for h in hits)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """Release the index (idempotent). Searching afterwards raises."""
        with self._lock:
            searcher, self._searcher = self._searcher, None
            self._cache.clear()
            if searcher is not None and os.getpid() == self._pid:
                searcher.close()

    def __enter__(self) -> "SearchEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._searcher is None else f"{self.num_docs} docs"
        return f"SearchEngine({str(self.index_dir)!r}, {state})"
