"""Wall time of the test suite and its slowest tests (not a test).

    .venv/bin/python benchmarks/test_suite.py [-- extra pytest args]

Runs `python -m pytest -q --durations=20` from the project root exactly as `make test` does and
writes benchmarks/results/test_suite.json (wall seconds, pass/fail counts, the 20 slowest tests).
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
    extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=20", *extra]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    text = out.stdout
    slow = [{"seconds": float(m.group(1)), "phase": m.group(2), "test": m.group(3)}
            for m in re.finditer(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)", text, re.M)]
    summary = text.strip().splitlines()[-1] if text.strip() else ""
    result = {"command": " ".join(cmd), "returncode": out.returncode, "wall_s": round(wall, 1),
              "summary": summary, "slowest": slow, "cpus": os.cpu_count()}
    path = ROOT / "benchmarks" / "results" / "test_suite.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "slowest"}, indent=2))
    for s in slow[:10]:
        print(f"{s['seconds']:8.1f}s {s['phase']:8} {s['test']}")


if __name__ == "__main__":
    main()
