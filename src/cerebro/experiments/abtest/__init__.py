"""The A/B/n test: every variant against the control on each outcome (frequentist, Bayesian,
sequential), from rows, files (moments in DuckDB) or per-arm summaries."""
