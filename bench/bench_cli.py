"""CLI start-up and command wall time, as a user sees it: each ``minseal`` command run as a fresh process
(median of N), beside a bare ``python -c pass`` and a process that only imports pyHanko's validator (the floor
for a verifier written on pyHanko), in the same run.

    .venv/bin/python bench/bench_cli.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MINSEAL = [sys.executable, "-m", "api.cli"]
VILLAGE, TOWNSHIP = "130634100201", "130634100"


def wall(cmd: list[str], env: dict[str, str], repeat: int, *, ok: tuple[int, ...] = (0,)) -> float:
    """Median wall seconds of ``cmd`` as a new process (one warm-up run: the page cache, not our code)."""
    samples = []
    for i in range(repeat + 1):
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        took = time.perf_counter() - start
        if done.returncode not in ok:
            raise SystemExit(f"{' '.join(cmd)} → {done.returncode}\n{done.stderr}")
        if i:
            samples.append(took)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MINSEAL_")}
        env.update(MINSEAL_DATA_DIR=str(root / "var"), MINSEAL_KEYS_DIR=str(root / "keys"), MINSEAL_SEAL_LEVEL="B-T")
        subprocess.run([*MINSEAL, "init-demo"], cwd=REPO, env=env, check=True, capture_output=True)
        sample = REPO / "templates" / "dibao_application" / "sample.json"
        form, v1, v2 = root / "form.pdf", root / "v1.pdf", root / "v2.pdf"
        subprocess.run([*MINSEAL, "render", "dibao_application", "--data", str(sample), "-o", str(form)],
                       cwd=REPO, env=env, check=True, capture_output=True)
        subprocess.run([*MINSEAL, "seal", str(form), "--office", VILLAGE, "-o", str(v1)],
                       cwd=REPO, env=env, check=True, capture_output=True)
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], (0,)),
            ("python: import pyHanko validation", [sys.executable, "-c", "import pyhanko.sign.validation"], (0,)),
            ("minseal --help", [*MINSEAL, "--help"], (0,)),
            ("minseal verify (missing file)", [*MINSEAL, "verify", str(root / "none.pdf")], (3,)),
            ("minseal verify (1 seal)", [*MINSEAL, "verify", str(v1)], (0,)),
            ("minseal seal (village, certify)", [*MINSEAL, "seal", str(form), "--office", VILLAGE, "-o",
                                                 str(root / "a.pdf")], (0,)),
            ("minseal seal (township, countersign)", [*MINSEAL, "seal", str(v1), "--office", TOWNSHIP, "-o",
                                                      str(v2)], (0,)),
            ("minseal render (form)", [*MINSEAL, "render", "dibao_application", "--data", str(sample), "-o",
                                       str(root / "r.pdf")], (0,)),
        ]
        base = None
        print(f"{'command (fresh process, B-T)':<42}{'median s':>10}{'vs python':>12}")
        for label, cmd, ok in rows:
            seconds = wall(cmd, env, args.repeat, ok=ok)
            base = base or seconds
            print(f"{label:<42}{seconds:>10.3f}{seconds / base:>11.1f}×")


if __name__ == "__main__":
    main()
