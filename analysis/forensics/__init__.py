"""Forensic checks on reported series: curve fits, a multi-country benchmark, ratios, consistency.

Modules, each small: ``fits`` (quadratic / one-parameter quadratic / linear / exponential fits of a
series, annual and cumulative), ``benchmark`` (the same fits on every GODT country, and the rank of a
target series among them), ``ratios`` (transplants per donor, kidney:liver, DCD share per
country-year, and China's percentile), ``consistency`` (source disagreements, repeated values, sums
that do not add up) and ``run`` (``run_forensics``: all of it, written to ``forensics.csv`` and
charts via ``charts`` and ``output``; ``tgap forensics`` from the shell). Conventions
and results are in docs/forensics.md.
"""
