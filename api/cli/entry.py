"""``minseal``'s entry point: the console script and ``python -m api.cli`` start here.

Why a module of its own: start-up time. A ``minseal verify`` process imports about 1,100 modules (pyHanko and what
it pulls in, about 900 of them), and CPython's cyclic garbage collector runs hundreds of times while they load,
although nothing they build is garbage: 10–20 % of the import time (docs/benchmarks.md). So the collector
is paused while the command's modules load — before ``api.cli.main`` is imported, which is why this cannot live
there — and what they built is then frozen (``gc.freeze``: kept out of every later collection), so the command
runs with the collector on, as usual, without walking the imported objects again. Only stdlib is imported here.
"""

from __future__ import annotations

import gc
import importlib
import sys

#: what a command imports only once it runs, loaded up front with the collector paused (the rest of the CLI is
#: imported by ``api.cli.main`` itself)
PRELOAD: dict[str, tuple[str, ...]] = {
    "verify": ("api.services.verification",),
    "seal": ("api.services.sealing",),
    "render": ("api.services.documents",),
}


def main(argv: list[str] | None = None) -> int:
    """Load the CLI with the collector paused, freeze what was loaded, then run the command."""
    args = sys.argv[1:] if argv is None else argv
    gc.disable()
    try:
        from api.cli import main as cli

        for module in PRELOAD.get(args[0] if args else "", ()):
            importlib.import_module(module)
    finally:
        gc.freeze()
        gc.enable()
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
