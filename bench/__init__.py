"""cookiegate benchmarks: ``python -m bench`` (goals of issue 6) and ``bench/bench_consent_log.py``."""
