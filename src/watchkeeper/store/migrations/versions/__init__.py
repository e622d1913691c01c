"""One Alembic branch per stage, each starting from 0001_foundation."""
