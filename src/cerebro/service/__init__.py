"""The Cerebro service: one HTTP API (datasets, an experiment registry, analyses run as jobs,
organisations, roles, an audit log) over one database – SQLite by default, PostgreSQL in
production.

A face like the CLI: it runs analyses only through the registry (`cerebro.core.spec.parse_spec`,
`cerebro.core.registry.get_method`) and returns the same versioned JSON (`Result.to_dict()`). No
family imports it. Its dependencies are the optional extra `service` (FastAPI, uvicorn,
SQLAlchemy 2, Alembic, psycopg 3, python-multipart); see docs/service.md.
"""
