"""Alembic environment and versions: the only way Stockpot's schema is created or changed."""
