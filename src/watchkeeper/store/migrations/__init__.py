"""Alembic migrations, shipped in the package and configured in code (see store/engine.py)."""
