"""Cross-process determinism of the compiled log density and the sampler's start (not a test:
writes benchmarks/results/determinism.json).

    .venv/bin/python benchmarks/determinism.py [--runs 2] [--sampler nutpie] [--fastmath default|on|off]

Each run is a fresh process that builds the baseline model on the shipped data, compiles it for
the sampler (numba: minutes), and records fingerprints: the log density at the mode search's
starting point (repr, every digit) and a hash of its gradient, the same with the point copied to
eight byte alignments, and a hash of the mode found by L-BFGS with its log density. Identical
fingerprints in every run mean the sampler starts from the same point in every process, so the
same seed gives the same draws. ``--fastmath on|off`` sets PyTensor's ``numba__fastmath`` for the
runs; ``default`` leaves tgap's own setting (analysis.runtime.configure).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fingerprint(sampler: str) -> dict:
    from analysis.runtime import configure

    configure()
    import numpy as np
    import pytensor

    from analysis.cli_support import derived_dir_for, ensure_observations
    from analysis.model import fit as F
    from analysis.model.evidence import build_evidence
    from analysis.model.start import density, held_data
    from analysis.scenarios import load_scenario

    def h(a):
        return hashlib.sha256(np.ascontiguousarray(a, dtype="float64").tobytes()).hexdigest()[:12]

    raw = ROOT / "data" / "raw"
    obs = ensure_observations(raw, derived_dir_for(raw))
    sc = load_scenario("baseline")
    t0 = time.perf_counter()
    entry, inputs, _ = F._cached_model(build_evidence(obs, sc), sc)
    F.ensure_nutpie(entry, sampler)
    compile_s = time.perf_counter() - t0
    finder = entry[F.finder_key(sampler)]
    dens = density(entry[sampler].with_data(**held_data(entry[sampler], inputs)))
    x0 = finder.x0(entry["paths"])
    lp, g = dens(x0)
    aligned = set()
    for off in range(8):
        buf = np.zeros(x0.size + 16)
        start = ((-(buf.ctypes.data % 64)) // 8) % 8 + off
        y = buf[start:start + x0.size]
        y[:] = x0
        lp2, g2 = dens(y)
        aligned.add((repr(float(lp2)), h(g2)))
    mode = finder._flat(finder.find(inputs, entry["paths"], logp_dlogp=dens))
    return {"numba_fastmath": bool(pytensor.config.numba__fastmath), "compile_s": round(compile_s, 1),
            "logp_start": repr(float(lp)), "grad_start": h(g), "alignments_distinct": len(aligned),
            "mode": h(mode), "logp_mode": repr(float(dens(mode)[0]))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--sampler", default="nutpie", choices=["nutpie", "nutpie-jax"])
    ap.add_argument("--fastmath", default="default", choices=["default", "on", "off"])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "determinism.json")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(fingerprint(args.sampler)), flush=True)
        return
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if args.fastmath != "default":
        flag = f"numba__fastmath={args.fastmath == 'on'}"
        env["PYTENSOR_FLAGS"] = ",".join(f for f in (env.get("PYTENSOR_FLAGS", ""), flag) if f)
    runs, t0 = [], time.perf_counter()
    for i in range(args.runs):
        p = subprocess.run([sys.executable, __file__, "--child", "--sampler", args.sampler], env=env,
                           capture_output=True, text=True, cwd=ROOT)
        if p.returncode != 0:
            raise SystemExit(f"run {i} failed ({p.returncode}):\n{p.stderr[-3000:]}")
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
        print(json.dumps(runs[-1]), flush=True)
    keys = ("logp_start", "grad_start", "mode", "logp_mode")
    result = {"benchmark": "determinism", "date": time.strftime("%Y-%m-%d"),
              "command": "python benchmarks/determinism.py " + " ".join(sys.argv[1:]),
              "sampler": args.sampler, "fastmath": args.fastmath, "runs": runs,
              "identical_across_processes": {k: len({r[k] for r in runs}) == 1 for k in keys},
              "wall_s": round(time.perf_counter() - t0, 1), "load_avg_at_end": list(os.getloadavg()),
              "platform": platform.platform(), "python": platform.python_version()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result["identical_across_processes"]))


if __name__ == "__main__":
    main()
