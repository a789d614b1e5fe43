"""The WebShop paper's rule baseline: search the instruction, buy the first result."""

from __future__ import annotations


class RuleAgent:
    name = "rule"

    def reset(self, instruction: str, info: dict) -> None:
        self.instruction = instruction

    def act(self, observation: str, info: dict) -> str:
        page = info.get("page")
        actions = info.get("available_actions", [])
        if page == "search":
            return f"search[{self.instruction}]"
        if page == "results":
            products = [a for a in actions if a.startswith("click[") and a not in
                        ("click[back to search]", "click[next >]", "click[< prev]")]
            return products[0] if products else "click[back to search]"
        return "click[buy now]"
