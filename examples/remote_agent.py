"""A remote agent for the WebShop site's JSON API, using only the standard library.

It plays the WebShop paper's rule baseline on one task: search the instruction, click the
first product of the results, buy it, and prints the reward.

Usage::

    agent-gym serve webshop --port 3000          # in one terminal
    python examples/remote_agent.py --url http://127.0.0.1:3000 [--task 0]

The API (see ``agent_gym/webshop/site/api.py``): ``POST /api/create``,
``POST /api/<id>/reset``, ``POST /api/<id>/step``, ``GET /api/<id>/observation``,
``POST /api/<id>/close``; JSON in and out, the same observations, rewards and ``info`` as
``gym.make("agent_gym/WebShop-v0")`` in process.
"""

from __future__ import annotations

import argparse
import json
import re
import urllib.error
import urllib.request

PRODUCT = re.compile(r"^click\[b0[0-9a-z]+\]$")


def call(url: str, method: str = "POST", body: dict | None = None, timeout: float = 30.0) -> dict:
    """One JSON request; an HTTP error becomes a ``RuntimeError`` with the server's message."""
    data = None if method == "GET" else json.dumps(body or {}).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read().decode("utf-8")).get("message", "")
        except ValueError:
            message = ""
        raise RuntimeError(f"{method} {url}: HTTP {exc.code} {message}") from None


def rule_action(info: dict) -> str:
    """Search the instruction, then click the first product, then buy."""
    actions = info["available_actions"]
    if info.get("has_search_bar"):
        return f"search[{info['instruction']}]"
    if info["page"] == "results":
        products = [a for a in actions if PRODUCT.match(a)]
        if products:
            return products[0]
    return "click[buy now]"


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the site's base URL")
    parser.add_argument("--task", type=int, default=0, help="task id in the site's split")
    parser.add_argument("--max-steps", type=int, default=15)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    args = parser.parse_args(argv)
    api = args.url.rstrip("/") + "/api"

    sid = call(f"{api}/create", body={"observation_mode": "text", "max_steps": args.max_steps},
               timeout=args.timeout)["id"]
    try:
        state = call(f"{api}/{sid}/reset", body={"task_id": args.task}, timeout=args.timeout)
        print("instruction:", state["info"]["instruction"])
        reward, done = 0.0, False
        while not done:
            action = rule_action(state["info"])
            state = call(f"{api}/{sid}/step", body={"action": action}, timeout=args.timeout)
            reward, done = state["reward"], state["terminated"] or state["truncated"]
            print(f"{action} -> reward {reward}")
    finally:
        call(f"{api}/{sid}/close", timeout=args.timeout)
    print("reward:", reward)
    return reward


if __name__ == "__main__":
    main()
