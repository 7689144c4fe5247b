"""The speed and memory benchmark (benchmarks/bench.py) and what it measures with."""
