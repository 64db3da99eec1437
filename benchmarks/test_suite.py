"""Wall time of the test suite and its slowest tests (not a test).

    .venv/bin/python benchmarks/test_suite.py [--out FILE] [-- extra pytest args]

Runs `python -m pytest -q -n $TEST_WORKERS --durations=0` (TEST_WORKERS default 2, as in the
Makefile; 0 runs without xdist) from the project root as `make test` does and
writes benchmarks/results/test_suite.json (wall seconds, pass/fail counts, the 60 slowest test
phases, and seconds per test file summed over every phase pytest timed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    own = sys.argv[1:sys.argv.index("--")] if "--" in sys.argv else sys.argv[1:]
    extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    out_path = Path(own[own.index("--out") + 1]) if "--out" in own else ROOT / "benchmarks" / "results" / "test_suite.json"
    workers = os.environ.get("TEST_WORKERS", "2")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", workers,
           "--durations=0", "--durations-min=0.05", *extra]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    text = out.stdout
    slow = [{"seconds": float(m.group(1)), "phase": m.group(2), "test": m.group(3)}
            for m in re.finditer(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)", text, re.M)]
    summary = text.strip().splitlines()[-1] if text.strip() else ""
    per_file: dict[str, float] = {}
    for s in slow:
        f = s["test"].split("::")[0]
        per_file[f] = per_file.get(f, 0.0) + s["seconds"]
    result = {"command": " ".join(cmd), "returncode": out.returncode, "wall_s": round(wall, 1),
              "summary": summary, "slowest": slow[:60], "cpus": os.cpu_count(),
              "per_file_s": dict(sorted(((f, round(v, 1)) for f, v in per_file.items()), key=lambda kv: -kv[1]))}
    path = out_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("slowest", "per_file_s")}, indent=2))
    for f, v in list(result["per_file_s"].items())[:15]:
        print(f"{v:8.1f}s {f}")
    for s in slow[:10]:
        print(f"{s['seconds']:8.1f}s {s['phase']:8} {s['test']}")


if __name__ == "__main__":
    main()
