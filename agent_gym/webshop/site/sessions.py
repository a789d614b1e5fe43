"""Visitor sessions of the site: bounded in number, evicted when idle, never shared.

Session ids are random (``secrets.token_urlsafe``), so one visitor cannot guess another's;
the store holds at most ``max_sessions`` (the least recently used goes first) and drops
sessions idle for more than ``idle_seconds``. The original server kept every session
forever.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from agent_gym.webshop.shop import ShopSession

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_APP_STORES_LOCK = threading.Lock()


@dataclass
class Visit:
    sid: str
    task_id: int
    shop: ShopSession
    last_seen: float = field(default_factory=time.monotonic)
    steps: int = 0
    error: str | None = None  # the site's message about the last action, if it was refused
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SessionStore:
    """Visits by id: at most ``max_sessions`` (least recently used first out), dropped after
    ``idle_seconds`` without a request, or ``done_seconds`` once the visit has bought (its
    done page stays viewable that long), so memory stays flat under a stream of visitors."""

    SWEEP_EVERY = 128  # inserts between full sweeps for finished visits

    def __init__(self, max_sessions: int = 10_000, idle_seconds: float = 1800.0, done_seconds: float = 120.0):
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.done_seconds = done_seconds
        self._visits: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._inserts = 0

    def create(self, task_id: int, shop: ShopSession) -> Visit:
        return self.insert(Visit(sid=secrets.token_urlsafe(18), task_id=task_id, shop=shop))

    def insert(self, visit):
        with self._lock:
            self._evict()
            self._visits[visit.sid] = visit
            while len(self._visits) > self.max_sessions:
                self._visits.popitem(last=False)
        return visit

    @staticmethod
    def valid_id(sid) -> bool:
        """Ids this store hands out (others are never looked up)."""
        return isinstance(sid, str) and SESSION_ID.match(sid) is not None

    def get(self, sid):
        if not self.valid_id(sid):
            return None
        with self._lock:
            visit = self._visits.get(sid)
            if visit is None:
                return None
            if self._expired(visit, time.monotonic()):
                del self._visits[sid]
                return None
            visit.last_seen = time.monotonic()
            self._visits.move_to_end(sid)
            return visit

    def close(self, sid: str) -> bool:
        with self._lock:
            return self._visits.pop(sid, None) is not None

    @staticmethod
    def _finished(visit) -> bool:
        shop = getattr(visit, "shop", None)
        return shop is not None and shop.page == "done"

    def _expired(self, visit, now: float) -> bool:
        idle = now - visit.last_seen
        return idle > self.idle_seconds or (idle > self.done_seconds and self._finished(visit))

    def _evict(self) -> None:
        now = time.monotonic()
        # least recently used first: stop at the first visit still within the idle limit
        while self._visits:
            sid, visit = next(iter(self._visits.items()))
            if now - visit.last_seen <= self.idle_seconds:
                break
            del self._visits[sid]
        self._inserts += 1
        if self._inserts % self.SWEEP_EVERY == 0:
            for sid in [sid for sid, v in self._visits.items() if self._expired(v, now)]:
                del self._visits[sid]

    @classmethod
    def of_app(cls, key: str) -> "SessionStore":
        """The current Flask app's store of this class under ``key`` (made on first use with
        the site's limits), for the machine APIs that keep their envs beside the site's visits."""
        from flask import current_app

        config = current_app.extensions["agent_gym"]
        with _APP_STORES_LOCK:
            if key not in config:
                site = config["store"]
                config[key] = cls(max_sessions=site.max_sessions, idle_seconds=site.idle_seconds)
            return config[key]

    def __len__(self) -> int:
        return len(self._visits)
