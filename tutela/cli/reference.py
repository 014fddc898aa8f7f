"""The CLI reference page, generated from the commands themselves so it cannot drift.

``python -m tutela.cli.reference > docs/cli.md`` rewrites the page; a test
checks that the committed page equals this output.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from enum import Enum
from typing import Any

import typer

from tutela.cli import app

__all__ = ["commands", "render"]


# Typer may carry its own copy of Click, so commands are handled by what they
# offer (``list_commands``, ``param_type_name``) rather than by Click's classes.
Command = Any


def commands() -> Iterator[tuple[str, Command]]:
    """Every leaf command as (full name, command), depth first, sorted by name."""
    root = typer.main.get_command(app)

    def walk(prefix: str, command: Command) -> Iterator[tuple[str, Command]]:
        if hasattr(command, "list_commands"):
            ctx = command.context_class(command)
            for name in sorted(command.list_commands(ctx)):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(f"{prefix} {name}", sub)
        else:
            yield prefix, command

    yield from walk("tutela", root)


def _param_row(param: Any) -> str:
    if param.param_type_name == "option":
        names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        help_text = param.help or ""
        if isinstance(param.default, Enum):
            choices = ", ".join(f"`{m.value}`" for m in type(param.default))
            help_text += f" One of: {choices}."
        if param.envvar:
            help_text += f" Environment: `{param.envvar}`."
        if param.default not in (None, False, ()) and not param.is_flag:
            default = getattr(param.default, "value", param.default)
            help_text += f" Default: `{default}`."
        return f"| {names} | {help_text.strip()} |"
    label = (param.metavar or param.name or "").upper()
    help_text = getattr(param, "help", None) or ""
    return f"| `{label}` | {help_text} |"


def render() -> str:
    """The whole reference as Markdown."""
    out = [
        "# CLI reference",
        "",
        "Generated from the commands by `python -m tutela.cli.reference > docs/cli.md`;",
        "a test fails when this page and the commands disagree.",
        "",
        "Exit codes follow one rule everywhere: 0 success, 1 the command worked and",
        "found something that should fail a CI gate (an error-level finding,",
        "undeclared personal data), 2 the input could not be read or used.",
        "",
    ]
    for name, command in commands():
        out.append(f"## `{name}`")
        out.append("")
        out.append(inspect.cleandoc(command.help or ""))
        out.append("")
        ctx = command.context_class(command, info_name=name)
        pieces = re.sub(
            r"\{(\w+)\}", lambda m: m[1].upper(), " ".join(command.collect_usage_pieces(ctx))
        )
        out.append(f"Usage: `{name} {pieces}`")
        params = [p for p in command.params if p.name not in ("help",)]
        if params:
            out.extend(["", "| parameter | meaning |", "|---|---|"])
            out.extend(_param_row(p) for p in params)
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render(), end="")
