"""One command line for every trainer: an option per field of its config dataclass.

``--config file.json`` is read first; options given on the command line override it; unknown
fields in the file are refused by name. Booleans take ``--x`` / ``--no-x``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from typing import Any


def build_parser(config_cls, prog: str, description: str, aliases: dict[str, list[str]] | None = None):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", help=f"JSON file of {config_cls.__name__} fields; options given here override it")
    aliases = aliases or {}
    for f in dataclasses.fields(config_cls):
        names = [f"--{f.name.replace('_', '-')}"] + aliases.get(f.name, [])
        if "_" in f.name:
            names.append(f"--{f.name}")
        default = f.default if f.default is not dataclasses.MISSING else None
        help_text = f"{f.metadata.get('help', '')} (default: {default!r})".replace("%", "%%")
        type_name = f.type if isinstance(f.type, str) else f.type.__name__  # str under `from __future__`
        if type_name == "bool":
            parser.add_argument(*names, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)
        else:
            kind = {"int": int, "float": float}.get(type_name, str)
            parser.add_argument(*names, dest=f.name, type=kind, default=None, help=help_text)
    return parser


def config_from_args(config_cls, argv: list[str] | None = None, prog: str = "", description: str = "",
                     aliases: dict[str, list[str]] | None = None):
    args = build_parser(config_cls, prog, description, aliases).parse_args(argv)
    values: dict[str, Any] = {}
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            values.update(json.load(f))
        unknown = set(values) - {f.name for f in dataclasses.fields(config_cls)}
        if unknown:
            raise SystemExit(f"unknown {config_cls.__name__} fields in {args.config}: {sorted(unknown)}")
    values.update({k: v for k, v in vars(args).items() if k != "config" and v is not None})
    return config_cls(**values)


def run(config_cls, train, argv: list[str] | None, module: str, doc: str) -> int:
    """A trainer's command line, ``python -m <module>``: a ``config_cls`` from ``argv`` (``--output``
    for ``output_dir``; ``doc``'s first line as the description), then ``train(config)``, whose
    result is printed as one JSON line (the last line of stdout; by the main process only)."""
    config = config_from_args(config_cls, argv, prog=f"python -m {module}", description=doc.split("\n")[0],
                              aliases={"output_dir": ["--output"]})
    result = train(config)
    if int(os.environ.get("RANK", "0")) == 0:  # under a multi-process launcher: the main process says it
        print(json.dumps(result), flush=True)
    close_process_group()
    return 0


def close_process_group() -> None:
    """After a multi-process run: every process waits for the others, then the process group is
    destroyed, so that no communication thread is still running when the interpreter exits
    (which aborts the process: "terminate called without an active exception")."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def opt(default, help: str):
    """A config field with its command-line help."""
    return dataclasses.field(default=default, metadata={"help": help})
