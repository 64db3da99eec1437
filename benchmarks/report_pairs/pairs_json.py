import ast
import json
import re
import sys

rows = []
for line in open("/tmp/tgap16-quick-pairs.log"):
    m = re.match(r"(\d) (\w+) wall ([\d.]+) load_before ([\d.]+) ([\d.]+) ([\d.]+) (\{.*\}) charts_from_cache (\d+)", line)
    if m:
        rows.append({"pair": int(m[1]), "arm": {"main": "main@33db27b", "branch": "report-speed"}[m[2]],
                     "wall_s": round(float(m[3]), 2), "load_avg_before": [float(m[4]), float(m[5]), float(m[6])],
                     "phases_s": ast.literal_eval(m[7]), "charts_from_cache": int(m[8])})
out = {"what": "cached `tgap report --quick` (same cached quick fit for both arms: fit code hash frozen by a "
               "harness, /tmp/tgap16_prof.py), arms alternating main, report-speed; run 0 of each arm is the "
               "first cached run after the cold one",
       "command": "PYTHONPATH=<arm> python harness.py  (== python -m analysis.cli report --quick --out ... "
                  "--forensics-out ... --godt-dir ../shared/data/godt, TGAP_CACHE_DIR shared)",
       "runs": rows}
for arm in ("main@33db27b", "report-speed"):
    w = sorted(r["wall_s"] for r in rows if r["arm"] == arm)
    out[arm] = {"min": w[0], "median": w[len(w)//2], "max": w[-1], "n": len(w)}
json.dump(out, open(sys.argv[1], "w"), indent=2)
print(json.dumps({k: out[k] for k in ("main@33db27b", "report-speed")}))
