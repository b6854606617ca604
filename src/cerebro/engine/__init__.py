"""Sufficient statistics computed where the data lives (DuckDB today; warehouses later)."""
