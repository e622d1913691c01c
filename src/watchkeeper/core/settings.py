"""Where things live. One place decides the database URL and the data directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB_URL = "sqlite:///./watchkeeper.db"


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str
    data_dir: Path  # event log (Parquet), model artifacts, reports

    @classmethod
    def resolve(cls, db_url: str | None = None, data_dir: str | Path | None = None) -> Settings:
        url = db_url or os.environ.get("WATCHKEEPER_DB") or DEFAULT_DB_URL
        directory = data_dir or os.environ.get("WATCHKEEPER_DATA_DIR") or default_data_dir(url)
        return cls(db_url=url, data_dir=Path(directory))


def default_data_dir(db_url: str) -> Path:
    """Next to a SQLite file (`x.db` -> `x-data/`); ./watchkeeper-data for server databases."""
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        db_path = Path(db_url.removeprefix("sqlite:///"))
        return db_path.with_name(db_path.stem + "-data")
    return Path("watchkeeper-data")
