"""The `cerebro` command line: one module per command family; faces only translate."""
