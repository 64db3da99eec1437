#!/bin/bash
# alternating cached quick reports: main's code vs report-speed, same cached fit (code hash frozen)
export TGAP_CACHE_DIR=/work/wt16/.cache MPLBACKEND=Agg
PY=/work/main/.venv/bin/python
# warm-up run of main (its first cached run writes nothing extra; branch is already warm)
for i in 0 1 2 3; do
  for arm in main branch; do
    if [ $arm = main ]; then P=/tmp/tgap16-main; S=benchmarks/report_pairs/harness_main.py; O=/tmp/tgap16-rm; else P=/work/wt16; S=benchmarks/report_pairs/harness.py; O=/tmp/tgap16-r; fi
    L=$(cut -d' ' -f1-3 /proc/loadavg)
    T0=$(date +%s.%N)
    PYTHONPATH=$P $PY $S > /tmp/tgap16-q-$arm-$i.out 2>&1 || echo "FAILED $arm $i"
    T1=$(date +%s.%N)
    echo "$i $arm wall $(echo "$T1 - $T0" | bc) load_before $L $($PY -c "import json;t=json.load(open('$O/manifest.json'))['timings'];print({k:t[k] for k in ('ingest_s','fit_s','forensics_s','leave_out_s','report_s')}, 'charts_from_cache', len(t.get('charts_from_cache',[])))")"
  done
done
