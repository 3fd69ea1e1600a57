"""Benchmarks run by `make bench`; each writes bench/results/<name>.json (see bench/report.py)."""
