"""The ``agent-gym`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _catalog(args, rebuild: bool = False):
    from agent_gym.webshop import Catalog

    if args.catalog:
        return Catalog.from_folder(args.catalog, seed=args.catalog_seed, rebuild=rebuild)
    return Catalog.synthetic(args.products, seed=args.catalog_seed, rebuild=rebuild)


def cmd_build(args) -> int:
    from agent_gym.core import checksums
    from agent_gym.webshop import CatalogError

    t0 = time.perf_counter()
    try:
        catalog = _catalog(args, rebuild=args.rebuild)
        t1 = time.perf_counter()
        catalog.search_engine()
        t2 = time.perf_counter()
        if args.verify:  # every byte, where opening reads sizes and (for big files) samples
            n_files, n_bytes = checksums.verify(catalog.folder, full=True)
    except (checksums.CorruptFileError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"catalog: {catalog.folder} ({len(catalog)} products; built/opened in {t1 - t0:.1f} s)")
    print(f"index:   {catalog.index_dir} (ready in {t2 - t1:.1f} s)")
    for kind in ("human", "synthetic"):
        sizes = ", ".join(f"{s} {catalog.num_goals(kind, s)}" for s in ("test", "eval", "train"))
        print(f"{kind} goals: {sizes}")
    if args.verify:
        print(f"verified: {n_files} files, {n_bytes / 1e6:.1f} MB, match the checksums recorded when they were built")
    return 0


def _key_values(items, option: str) -> dict:
    """``["k=v", ...]`` -> ``{k: v}``, values read as JSON when they parse (numbers, lists...)."""
    kwargs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"{option} takes key=value, got {item!r}")
        try:
            kwargs[key] = json.loads(value)
        except json.JSONDecodeError:
            kwargs[key] = value
    return kwargs


def _env_kwargs(args) -> dict:
    kwargs = {}
    if args.catalog or args.products != 10_000 or args.catalog_seed != 0:
        kwargs["catalog"] = _catalog(args)
    for key in ("goals", "observation_mode", "max_steps"):
        value = getattr(args, key, None)
        if value is not None:
            kwargs[key] = value
    kwargs.update(_key_values(getattr(args, "env_arg", None), "--env-arg"))
    return kwargs


def _agent_kwargs(args) -> dict:
    kwargs = _key_values(args.agent_arg, "--agent-arg")
    for key in ("base_url", "model", "api_key"):
        value = getattr(args, key, None)
        if value is not None:
            kwargs[key] = value
    return kwargs


def _print_results(results: dict) -> None:
    c = results["components"]
    print(f"\n{results['agent']} on {results['env_id']} ({results['split']}, {results['episodes']}/{results['n']} episodes)")
    parts = f"  score {results['score']:.1f}   success {results['success_rate']:.1f}%"
    if "WebShop" in results["env_id"]:  # the WebShop paper's Table 2 components
        parts += f"   att {c['attribute']:.1f}  opt {c['option']:.1f}  type {c['type']:.1f}  price {c['price']:.1f}"
    print(parts)
    print(f"  mean steps {results['mean_steps']:.2f}   invalid actions {100 * results['invalid_action_rate']:.1f}%   "
          f"env {results['env_time_s']:.1f} s   agent {results['agent_time_s']:.1f} s")
    if results.get("steps_per_success") is not None or results.get("tokens_per_step") is not None:
        succ, tok = results.get("steps_per_success"), results.get("tokens_per_step")
        print(f"  steps/success {'-' if succ is None else f'{succ:.2f}'}   "
              f"tokens/step {'-' if tok is None else f'{tok:.1f}'}")
    llm = results.get("llm")
    if llm:
        print(f"  requests {llm['requests']} (retries {llm['retries']})   parse failures {llm['parse_failures']}   "
              f"fallbacks {llm['fallbacks']}   tokens {llm['prompt_tokens']} prompt / {llm['completion_tokens']} completion")
    if results.get("agent_errors"):
        print(f"  agent errors: {len(results['agent_errors'])} (first: {results['agent_errors'][0]})")
    if results.get("skipped_episodes"):
        print(f"  {results['skipped_episodes']} episodes skipped after agent errors count as failed; "
              "rerun the same command to retry them")


def cmd_eval(args) -> int:
    from agent_gym.eval.runner import AgentFailure, EvalConfig, EvalInterrupted, RunMismatchError, evaluate

    config = EvalConfig(env_id=args.env, agent=args.agent, split=args.split, n=args.n, seed=args.seed,
                        workers=args.workers, output=args.output, env_kwargs=_env_kwargs(args),
                        agent_kwargs=_agent_kwargs(args), on_agent_error=args.on_agent_error)
    try:
        results = evaluate(config)
    except EvalInterrupted as exc:
        _print_results(exc.results)
        print("interrupted: the finished episodes and results.json are saved; rerun the same command to continue",
              file=sys.stderr)
        return 130
    except (AgentFailure, RunMismatchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_results(results)
    if args.output:
        print(f"  wrote {args.output}/results.json and {args.output}/trajectories.jsonl")
    return 0


def cmd_demos(args) -> int:
    from agent_gym.eval.demos import make_demos
    from agent_gym.eval.runner import AgentFailure, EvalConfig, RunMismatchError

    config = EvalConfig(env_id=args.env, agent=args.agent, split=args.split, n=args.n, seed=args.seed,
                        workers=args.workers, output=args.output, env_kwargs=_env_kwargs(args))
    try:
        results = make_demos(config, only_won=not args.all)
    except (AgentFailure, RunMismatchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    _print_results(results)
    print(f"  wrote {results['chat_episodes']} conversations to {results['chat_path']}"
          f" and the trajectory records to {args.output}/trajectories.jsonl")
    return 0


def _serve_env_id(name: str) -> str:
    """``webshop`` / ``KeyDoor-v0`` / ``agent_gym/KeyDoor-v0`` -> the registered id."""
    if name.lower() == "webshop":
        return "agent_gym/WebShop-v0"
    return name if "/" in name else f"agent_gym/{name}"


def cmd_serve_openenv(args) -> int:
    from agent_gym.registration import ENV_IDS

    env_id = _serve_env_id(args.site)
    if env_id not in ENV_IDS:
        print(f"error: unknown env {args.site!r}: one of {', '.join(sorted(ENV_IDS))}", file=sys.stderr)
        return 2
    try:
        from agent_gym.integrations.openenv import serve
    except ImportError as exc:
        print(f"error: --openenv needs openenv-core ({exc}): pip install 'agent-gym[openenv]'", file=sys.stderr)
        return 1
    kwargs = {"split": args.split, **_key_values(args.env_arg, "--env-arg")}
    if env_id == "agent_gym/WebShop-v0":
        kwargs.setdefault("goals", args.goals or "human")
        kwargs.setdefault("catalog", _catalog(args))
        kwargs["catalog"].search_engine()
    print(f"OpenEnv server for {env_id} on http://{args.host}:{args.port}  (WebSocket sessions at /ws, "
          f"at most {args.max_concurrent_envs} at once; {kwargs})", flush=True)
    serve(env_id, host=args.host, port=args.port, max_concurrent_envs=args.max_concurrent_envs, **kwargs)
    return 0


def cmd_serve(args) -> int:
    from agent_gym.webshop.site.app import serve

    if args.openenv:
        if args.agentgym:
            print("error: --openenv and --agentgym are different servers: choose one", file=sys.stderr)
            return 2
        return cmd_serve_openenv(args)
    if args.site.lower() != "webshop":
        print(f"error: only webshop is served as a web site; serve {args.site} with --openenv", file=sys.stderr)
        return 2
    # AgentGym's API plays synthetic goals: with --agentgym the site follows unless told otherwise
    args.goals = args.goals or ("synthetic" if args.agentgym else "human")
    catalog = _catalog(args)
    catalog.search_engine()
    print(f"WebShop on http://{args.host}:{args.port}/  (split {args.split}, {args.goals} goals, {catalog})", flush=True)
    if args.agentgym:
        print(f"AgentGym's WebShop API on http://{args.host}:{args.port}/agentgym  "
              f"({catalog.num_goals('synthetic')} synthetic goals; env_server_base for WebshopEnvClient)", flush=True)
    if args.record:
        print(f"recording human logs to {args.record}/human_logs/ and trajectories to {args.record}/trajectories.jsonl",
              flush=True)
    serve(host=args.host, port=args.port, catalog=catalog, split=args.split, goals=args.goals,
          show_attrs=args.show_attrs, done_seconds=args.done_seconds, record_dir=args.record, agentgym=args.agentgym,
          record_max_bytes=args.record_max_mb << 20)
    return 0


def cmd_convert_human_logs(args) -> int:
    import warnings

    from agent_gym.webshop.human_logs import HumanLogWarning, convert_to_file

    if not Path(args.logs).exists():
        print(f"error: {args.logs} does not exist", file=sys.stderr)
        return 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HumanLogWarning)  # printed below instead
        stats = convert_to_file([args.logs], args.output)
    for problem in stats.problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"files {stats.files}   sessions {stats.sessions}   actions {stats.actions}   "
          f"purchases {stats.purchases}   skipped lines {stats.skipped_lines}")
    print(f"wrote {args.output}")
    return 0


def cmd_leaderboard(args) -> int:
    from agent_gym.eval.leaderboard import load_results, markdown, rows_for, update_readme, write_leaderboard

    try:
        files = write_leaderboard(args.results, args.output, published=not args.no_published)
        table = markdown(rows_for(load_results(args.results), published=not args.no_published))
        print(table)
        if args.readme:
            update_readme(args.readme, table)
            print(f"updated the leaderboard in {args.readme}")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("wrote " + ", ".join(str(p) for p in files.values()))
    return 0


def cmd_demo(args) -> int:
    from agent_gym.eval.leaderboard import markdown, rows_for
    from agent_gym.eval.runner import EvalConfig, evaluate

    catalog = _catalog(args)
    print(f"catalog: {catalog}; opening the search index (built on first use) ...", flush=True)
    catalog.search_engine()
    all_results = []
    for agent in args.agents.split(","):
        config = EvalConfig(agent=agent, split=args.split, n=args.n, seed=0, workers=4,
                            output=str(Path(args.output) / catalog.folder.name / agent) if args.output else None,
                            env_kwargs={"catalog": catalog, "goals": args.goals})
        all_results.append(evaluate(config))
    print()
    print(markdown(rows_for(all_results)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="agent-gym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def catalog_args(p):
        p.add_argument("--catalog", help="folder with the original WebShop files (default: the synthetic catalog)")
        p.add_argument("--products", type=int, default=10_000, help="size of the synthetic catalog (default 10000)")
        p.add_argument("--catalog-seed", type=int, default=0, help="catalog seed (default 0)")

    def env_args(p):
        """What gym.make takes, for the commands that run episodes."""
        catalog_args(p)
        p.add_argument("--goals", choices=("human", "synthetic"))
        p.add_argument("--observation-mode", choices=("text", "text_rich", "html", "url"))
        p.add_argument("--max-steps", type=int)
        p.add_argument("--env-arg", action="append", metavar="KEY=VALUE",
                       help="any other argument of gym.make (JSON values), e.g. --env-arg level=GoToLocal")

    p = sub.add_parser("build", help="build (or open) a catalog and its search index")
    catalog_args(p)
    p.add_argument("--verify", action="store_true", help="check every byte against the checksums recorded at build time")
    p.add_argument("--rebuild", action="store_true", help="build the catalog and its index again (e.g. when corrupt)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("demo", help="build the default catalog and index, run the baselines, print the leaderboard")
    catalog_args(p)
    p.add_argument("--split", default="test", choices=("train", "eval", "test"))
    p.add_argument("--goals", default="human", choices=("human", "synthetic"))
    p.add_argument("-n", "--n", type=int, default=500, help="number of tasks (default: the 500 test tasks)")
    p.add_argument("--agents", default="random,rule,oracle", help="comma-separated baselines (default random,rule,oracle)")
    p.add_argument("--output", default="results/demo", help="where results go (default results/demo)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("eval", help="evaluate an agent: trajectories + results JSON, resumable")
    p.add_argument("--env", default="agent_gym/WebShop-v0")
    p.add_argument("--agent", default="rule", help="a baseline name (random, rule, oracle, react, hf) or module:object")
    p.add_argument("--agent-arg", action="append", metavar="KEY=VALUE", help="constructor argument of the agent (JSON values)")
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (react agent; default $OPENAI_BASE_URL)")
    p.add_argument("--model", help="model name (react: default $OPENAI_MODEL) or path (hf)")
    p.add_argument("--api-key", help="API key (react; default $OPENAI_API_KEY)")
    p.add_argument("--split", default="test", choices=("train", "eval", "test"))
    p.add_argument("-n", "--n", type=int, default=None, help="first N tasks of the split (default all)")
    p.add_argument("--seed", type=int, default=0, help="episode seed (default 0)")
    p.add_argument("--workers", type=int, default=8, help="environments stepped together (default 8)")
    p.add_argument("--output", help="folder for trajectories.jsonl and results.json (enables resume)")
    p.add_argument("--on-agent-error", default="stop", choices=("stop", "skip"),
                   help="when the agent raises: stop (keep finished episodes) or skip the episode")
    env_args(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("demos", help="expert demonstrations: oracle trajectories and chat JSONL for SFT")
    p.add_argument("--env", default="agent_gym/WebShop-v0")
    p.add_argument("--agent", default="oracle", help="the expert (default oracle)")
    p.add_argument("--split", default="train", choices=("train", "eval", "test"))
    p.add_argument("-n", "--n", type=int, default=None, help="first N tasks of the split (default all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--output", required=True, help="folder for trajectories.jsonl, chat.jsonl and results.json")
    p.add_argument("--all", action="store_true", help="also write conversations of episodes that did not succeed")
    env_args(p)
    p.set_defaults(func=cmd_demos)

    p = sub.add_parser("serve", help="serve WebShop as a web site (+ --agentgym), or any env over OpenEnv (--openenv)")
    p.add_argument("site", metavar="ENV", help="webshop, or with --openenv any env id (KeyDoor-v0, agent_gym/ALFWorld-v0, ...)")
    p.add_argument("--openenv", action="store_true",
                   help="serve ENV as an OpenEnv environment (WebSocket sessions; needs agent-gym[openenv])")
    p.add_argument("--max-concurrent-envs", type=int, default=8, help="OpenEnv sessions at once (default 8)")
    p.add_argument("--env-arg", action="append", metavar="KEY=VALUE", help="with --openenv: an argument of gym.make")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3000)
    p.add_argument("--split", default="test", choices=("train", "eval", "test"))
    p.add_argument("--goals", choices=("human", "synthetic"), help="the site's goals (default human; synthetic with --agentgym)")
    p.add_argument("--agentgym", action="store_true",
                   help="also serve AgentGym's WebShop server API under /agentgym (synthetic goals, see docs/integrations.md)")
    p.add_argument("--show-attrs", action="store_true", help="offer the Attributes sub page")
    p.add_argument("--done-seconds", type=float, default=120.0,
                   help="how long a finished visit's done page stays available (default 120)")
    p.add_argument("--record", metavar="DIR", help="write human logs (DIR/human_logs/) and trajectories of visits")
    p.add_argument("--record-max-mb", type=int, default=1024,
                   help="stop recording once DIR holds this many MB (default 1024; at most 100,000 visit logs)")
    catalog_args(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("convert-human-logs", help="convert the original WebShop's human logs into trajectory records")
    p.add_argument("logs", help="a folder of *.jsonl human logs (or one log file)")
    p.add_argument("--output", default="human_trajectories.jsonl", help="default: human_trajectories.jsonl")
    p.set_defaults(func=cmd_convert_human_logs)

    p = sub.add_parser("leaderboard", help="render results JSONs as a markdown table, an HTML page and a plot")
    p.add_argument("results", nargs="+", help="results.json files or run folders")
    p.add_argument("--output", default="results/leaderboard", help="folder for leaderboard.md/.html/.png")
    p.add_argument("--no-published", action="store_true", help="leave out the WebShop paper's published rows")
    p.add_argument("--readme", help="also write the table between the leaderboard markers of this file")
    p.set_defaults(func=cmd_leaderboard)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
