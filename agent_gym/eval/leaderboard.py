"""The leaderboard: results JSONs rendered as a markdown table, a static HTML page and a plot."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

# Yao et al. (2022), WebShop, Table 2: test split of the original 1.18M-product catalog.
PUBLISHED = [
    {"agent": "rule (published)", "score": 45.6, "success_rate": 9.6},
    {"agent": "IL (published)", "score": 59.9, "success_rate": 29.1},
    {"agent": "IL+RL (published)", "score": 62.4, "success_rate": 28.7},
    {"agent": "human expert (published)", "score": 82.1, "success_rate": 59.6},
]
PUBLISHED_NOTE = "published: Yao et al. (2022), Table 2, on the original 1.18M-product catalog"


def load_results(paths) -> list[dict[str, Any]]:
    rows = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            path = path / "results.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not a results file ({exc})") from None
        if "score" not in data or "agent" not in data:
            raise ValueError(f"{path}: not a results file (no score or agent)")
        data["_path"] = str(path)
        rows.append(data)
    return rows


def _catalog_label(r: dict) -> str:
    kw = r.get("env_kwargs") or {}
    cat = r.get("catalog") or {}
    if cat.get("source") == "webshop":
        label = f"original files, {cat.get('n_products', 0):,} products"
    elif cat:
        label = f"{cat.get('source')} {cat.get('n_products', 0):,}"
    else:
        label = Path(str(kw.get("catalog"))).name if kw.get("catalog") else "default"
    goals = kw.get("goals") or "human"
    return f"{label}, {goals} goals" if goals else label


def rows_for(results: list[dict], published: bool = True) -> list[dict]:
    rows = []
    for r in sorted(results, key=lambda r: (r.get("env_id", ""), _catalog_label(r), -r["score"])):
        c = r.get("components", {}) if "WebShop" in r.get("env_id", "") else {}
        rows.append({
            "env": r.get("env_id", "").split("/")[-1], "catalog": _catalog_label(r), "agent": r["agent"],
            "split": r.get("split", ""), "episodes": r.get("episodes", ""), "score": r["score"],
            "success_rate": r["success_rate"], "attribute": c.get("attribute"), "option": c.get("option"),
            "type": c.get("type"), "price": c.get("price"), "mean_steps": r.get("mean_steps"),
            "steps_per_success": r.get("steps_per_success"), "tokens_per_step": r.get("tokens_per_step"),
        })
    if published:
        for p in PUBLISHED:
            rows.append({"env": "WebShop-v0", "catalog": "original 1.18M", "split": "test", "episodes": 500, **p})
    return rows


COLUMNS = [("env", "env"), ("catalog", "catalog"), ("agent", "agent"), ("split", "split"), ("episodes", "episodes"),
           ("score", "score"), ("success_rate", "success %"), ("attribute", "att"), ("option", "opt"),
           ("type", "type"), ("price", "price"), ("mean_steps", "steps"), ("steps_per_success", "steps/success"),
           ("tokens_per_step", "tokens/step")]
NUMERIC = frozenset({"episodes", "score", "success_rate", "attribute", "option", "type", "price", "mean_steps",
                     "steps_per_success", "tokens_per_step"})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def markdown(rows: list[dict]) -> str:
    head = "| " + " | ".join(t for _, t in COLUMNS) + " |"
    sep = "|" + "|".join("---:" if k in NUMERIC else "---" for k, _ in COLUMNS) + "|"
    body = ["| " + " | ".join(_cell(r.get(k)).replace("|", "\\|") for k, _ in COLUMNS) + " |" for r in rows]
    note = f"\nRows marked (published): {PUBLISHED_NOTE}." if any("(published)" in str(r["agent"]) for r in rows) else ""
    return "\n".join([head, sep, *body]) + "\n" + note


def html_page(rows: list[dict], plot_file: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in COLUMNS)
    body = "".join(
        "<tr" + (' class="published"' if "(published)" in str(r["agent"]) else "") + ">"
        + "".join(f"<td>{html.escape(_cell(r.get(k)))}</td>" for k, _ in COLUMNS) + "</tr>" for r in rows)
    img = f'<img src="{html.escape(plot_file)}" alt="score and success rate per agent">' if plot_file else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>agent_gym leaderboard</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ padding: .3rem .7rem; border-bottom: 1px solid #ddd; text-align: right; }}
th:nth-child(-n+4), td:nth-child(-n+4) {{ text-align: left; }} tr.published {{ color: #777; font-style: italic; }}
img {{ max-width: 900px; margin-top: 1.5rem; }}
</style></head><body>
<h1>agent_gym leaderboard</h1>
<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
<p>Score = 100 x mean reward; success = share of episodes with reward 1; att/opt/type/price as in
Table 2 of the WebShop paper; steps = steps per task, steps/success = steps per successful episode,
tokens/step = tokens the agent generated per step (LLM agents; empty when the agent reports none). Italic rows: {html.escape(PUBLISHED_NOTE)}.</p>
{img}
</body></html>
"""


def plot(rows: list[dict], path: Path) -> bool:
    """Bar chart of score and success rate per agent; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    labels = [f"{r['agent']}\n{r['catalog']}" for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(rows)), 4.5))
    ax.bar([i - 0.2 for i in x], [r["score"] for r in rows], width=0.4, label="score")
    ax.bar([i + 0.2 for i in x], [r["success_rate"] for r in rows], width=0.4, label="success rate (%)")
    ax.set_xticks(list(x))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(0, 100)
    ax.legend()
    ax.set_title("agent_gym leaderboard")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write_leaderboard(result_paths, output: str | Path, published: bool = True) -> dict[str, Path]:
    rows = rows_for(load_results(result_paths), published=published)
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    files = {"markdown": out / "leaderboard.md", "html": out / "leaderboard.html"}
    files["markdown"].write_text(markdown(rows))
    has_plot = plot(rows, out / "leaderboard.png")
    if has_plot:
        files["plot"] = out / "leaderboard.png"
    files["html"].write_text(html_page(rows, "leaderboard.png" if has_plot else None))
    return files


README_START = "<!-- leaderboard:start (written by agent-gym leaderboard --readme) -->"
README_END = "<!-- leaderboard:end -->"


def update_readme(readme: str | Path, table: str) -> None:
    """Replace the text between the leaderboard markers of a README with ``table``."""
    readme = Path(readme)
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no leaderboard markers ({README_START} ... {README_END})")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{table.strip()}\n{README_END}{tail}")
