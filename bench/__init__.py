"""Benchmarks of the gateway on both emulators and real Redis (`make bench`, `make bench-quick`).

Each scenario module measures one thing and answers a dict of figures, each beside its
reference (the ceiling, the other engine, the other connector, the other mode), so a ratio is
read off one run. `python -m bench` runs them, writes `bench/results/<timestamp>.json` and prints
a Markdown table; see docs/performance.md.
"""
