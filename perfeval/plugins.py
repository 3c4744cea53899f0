"""Extensions installed as packages, found by entry point (importlib.metadata), never by file path.

Two groups, declared in the extension's own pyproject.toml:

```toml
[project.entry-points."perfeval.commands"]   # a subcommand: a module with register(subparsers) and run(args)
audit-sample = "perfeval_xj.sample"

[project.entry-points."perfeval.schemes"]    # an evaluation scheme, loaded by `--scheme NAME` / 评价方式 NAME
xj_county = "perfeval_xj:county_scheme"      # a .toml path, a TOML table (dict), a Scheme, or a function giving one
```

A built-in command or scheme is never replaced by a plugin of the same name. A command plugin that cannot be
loaded is skipped with a Chinese warning on standard error (the other commands keep working); a scheme plugin
that cannot be loaded is a `SchemeError` naming the plugin, since scoring with another scheme would be wrong.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points

COMMANDS = "perfeval.commands"
SCHEMES = "perfeval.schemes"


def installed(group: str) -> dict[str, EntryPoint]:
    """The entry points of `group`, by name (the first distribution found wins a repeated name), sorted.
    Looked up once per import path (scanning the installed distributions costs ~8 ms)."""
    return dict(_installed(group, tuple(sys.path)))


@lru_cache(maxsize=16)
def _installed(group: str, path: tuple[str, ...]) -> tuple[tuple[str, EntryPoint], ...]:
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=group):
        found.setdefault(point.name, point)
    return tuple(sorted(found.items()))


def describe(point: EntryPoint) -> str:
    """How an entry point is named in a message: 「name」（module:attr，来自 distribution）."""
    dist = getattr(point, "dist", None)
    origin = f"，来自 {dist.name}" if dist is not None and getattr(dist, "name", None) else ""
    return f"「{point.name}」（{point.value}{origin}）"
