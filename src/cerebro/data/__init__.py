"""Loading user data (CSV / Parquet / JSON) and checking the columns an analysis needs."""

from cerebro.data.load import load_table, require_columns

__all__ = ["load_table", "require_columns"]
