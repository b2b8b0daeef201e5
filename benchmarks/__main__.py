"""``python -m benchmarks [NAME] [OPTIONS]``: run one benchmark module by name, or all of them."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")
    )
    if argv and not argv[0].startswith("-"):
        chosen, options = [argv[0]], argv[1:]
        if chosen[0] not in names:
            print(f"unknown benchmark {chosen[0]!r}; known: {', '.join(names)}", file=sys.stderr)
            return 2
    else:
        chosen, options = names, argv
    for name in chosen:
        module = importlib.import_module(f"benchmarks.{name}")
        module.main(options)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
