"""Recording the site's visitors: the original's human logs plus trajectory records.

``create_app(record_dir=DIR)`` makes the site write, for every visit:

* ``DIR/human_logs/<sid>.jsonl``: one line per page view in the original WebShop's human-log
  format, ``{page, url, goal, content, reward?, reward_info?}`` with the original's page names
  (``index``, ``search_results``, ``item_page``, ``item_sub_page``, ``done``) and the content
  the original logged for each page kind (so ``agent_gym.webshop.human_logs`` converts both);
* ``DIR/trajectories.jsonl``: one trajectory record per finished (bought) visit, with the
  explicit actions and the text observation before and after each one.

Invalid actions (a click on something not on the page) change nothing and are not recorded.
Each line is written whole under a lock, so concurrent visitors cannot interleave lines.

A public site's visitors could otherwise fill the disk: recording stops (with one warning in
the log; the site keeps serving) once ``DIR`` holds ``max_bytes`` (default 1 GiB) or
``max_files`` human-log files (default 100,000), counting what was there before.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from agent_gym.core.anchors import anchor_of
from agent_gym.core.trajectory import Trajectory
from agent_gym.webshop import pages
from agent_gym.webshop.shop import Outcome, ShopSession, parse_action

ENV_ID = "agent_gym/WebShop-v0"
DEFAULT_MAX_BYTES = 1 << 30
DEFAULT_MAX_FILES = 100_000

log = logging.getLogger(__name__)

# our page kinds -> the original's page names
ORIGINAL_PAGE = {"search": "index", "results": "search_results", "item": "item_page",
                 "item_sub": "item_sub_page", "done": "done"}


def human_log_line(shop: ShopSession, sid: str) -> dict[str, Any]:
    """The original's human-log record of the page ``shop`` is on."""
    line: dict[str, Any] = {"page": ORIGINAL_PAGE[shop.page], "url": pages.render_url(shop, sid), "goal": shop.goal}
    keywords = list(shop.keywords or [])
    if shop.page == "results":
        line["content"] = {"keywords": keywords, "search_result_asins": shop.page_results(), "page": shop.page_num}
    elif shop.page in ("item", "item_sub"):
        # the original logged these from the URL: keywords as str(list), page as a string
        line["content"] = {"keywords": str(keywords), "page": str(shop.page_num), "asin": shop.asin,
                           "options": dict(shop.options)}
    elif shop.page == "done":
        product = shop.product
        line["content"] = {"asin": shop.asin, "options": dict(shop.options),
                           "price": product.price if product is not None else None}
        line["reward"] = shop.reward
        line["reward_info"] = shop.reward_info
    return line


def canonical_action(action: str) -> str:
    """``search[...]``/``click[...]`` with the argument lower-cased, as the shop reads it."""
    name, arg = parse_action(action)
    return f"{name.strip()}[{arg.lower()}]" if arg is not None else action


class Recorder:
    def __init__(self, record_dir, split: str, goals: str = "human", env_id: str = ENV_ID,
                 max_bytes: int = DEFAULT_MAX_BYTES, max_files: int = DEFAULT_MAX_FILES):
        self.dir = Path(record_dir)
        self.logs_dir = self.dir / "human_logs"
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.trajectories_path = self.dir / "trajectories.jsonl"
        self.split, self.goals, self.env_id = split, goals, env_id
        self.max_bytes, self.max_files = int(max_bytes), int(max_files)
        self._lock = threading.Lock()
        # what the folder already holds counts against the caps (a restarted site resumes)
        files = [p for p in self.dir.rglob("*") if p.is_file()]
        self._bytes = sum(p.stat().st_size for p in files)
        self._log_files = sum(1 for p in self.logs_dir.glob("*.jsonl"))
        self.stopped = False

    def _append(self, path: Path, text: str) -> None:
        data = (text + "\n").encode("utf-8")
        with self._lock:
            new_file = path.parent == self.logs_dir and not path.exists()
            if self.stopped or self._bytes + len(data) > self.max_bytes or (
                    new_file and self._log_files >= self.max_files):
                if not self.stopped:
                    self.stopped = True
                    log.warning("recording stopped: %s holds %d bytes in %d visit logs, and the caps are %d bytes "
                                "and %d visit logs (the site goes on serving)", self.dir, self._bytes,
                                self._log_files, self.max_bytes, self.max_files)
                return
            with open(path, "ab") as f:
                f.write(data)
            self._bytes += len(data)
            self._log_files += new_file

    def page_view(self, visit) -> None:
        line = human_log_line(visit.shop, visit.sid)
        self._append(self.logs_dir / f"{visit.sid}.jsonl",
                     json.dumps(line, ensure_ascii=False, separators=(",", ":"), default=str))

    def act(self, visit, action: str) -> Outcome:
        """Apply ``action`` to the visit's shop, recording it when it was valid."""
        shop = visit.shop
        before = pages.render_text(shop)
        outcome = shop.act(action)
        if outcome.error:
            return outcome
        step: dict[str, Any] = {"action": canonical_action(action), "before": before,
                                "observation": pages.render_text(shop), "reward": outcome.reward,
                                "terminated": outcome.done,
                                "info": {"page": shop.page, "anchor": anchor_of(shop.state_key()),
                                         "invalid_action": False, "step": len(visit.log) + 1}}
        if outcome.done:
            step["info"].update(won=outcome.reward == 1.0, reward_info=dict(shop.reward_info))
        visit.log.append(step)
        if outcome.done:
            self._append(self.trajectories_path, self.trajectory(visit).to_json())
        return outcome

    def trajectory(self, visit) -> Trajectory:
        shop = visit.shop
        first = visit.log[0]["before"] if visit.log else pages.render_text(shop)
        traj = Trajectory(env_id=self.env_id, task_id=visit.task_id, split=self.split,
                          instruction=shop.goal.get("instruction_text", ""), observation=first, agent="human",
                          env_kwargs={"goals": self.goals, "show_attrs": shop.show_attrs},
                          initial_info={"page": "search", "anchor": anchor_of({"page": "search"})},
                          meta={"source": "site", "session_id": visit.sid})
        for s in visit.log:
            traj.add_step(s["action"], s["observation"], s["reward"], s["terminated"], False, s["info"])
        return traj
