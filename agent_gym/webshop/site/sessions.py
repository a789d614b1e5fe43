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


@dataclass
class Visit:
    sid: str
    task_id: int
    shop: ShopSession
    last_seen: float = field(default_factory=time.monotonic)
    steps: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SessionStore:
    def __init__(self, max_sessions: int = 10_000, idle_seconds: float = 1800.0):
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._visits: OrderedDict[str, Visit] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, task_id: int, shop: ShopSession) -> Visit:
        visit = Visit(sid=secrets.token_urlsafe(18), task_id=task_id, shop=shop)
        with self._lock:
            self._evict_idle()
            self._visits[visit.sid] = visit
            while len(self._visits) > self.max_sessions:
                self._visits.popitem(last=False)
        return visit

    def get(self, sid: str) -> Visit | None:
        if not isinstance(sid, str) or not SESSION_ID.match(sid):
            return None
        with self._lock:
            visit = self._visits.get(sid)
            if visit is None:
                return None
            if time.monotonic() - visit.last_seen > self.idle_seconds:
                del self._visits[sid]
                return None
            visit.last_seen = time.monotonic()
            self._visits.move_to_end(sid)
            return visit

    def close(self, sid: str) -> bool:
        with self._lock:
            return self._visits.pop(sid, None) is not None

    def _evict_idle(self) -> None:
        now = time.monotonic()
        while self._visits:
            sid, visit = next(iter(self._visits.items()))
            if now - visit.last_seen <= self.idle_seconds:
                break
            del self._visits[sid]

    def __len__(self) -> int:
        return len(self._visits)
