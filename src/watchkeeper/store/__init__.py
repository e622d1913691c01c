"""Layer 2: the database. `Store.open(url)` gives an engine, transactional sessions and
migrations; tables live in `store.tables.<stage>` on the one `store.base.Base`."""

from __future__ import annotations

from watchkeeper.store.engine import Store, normalise_url

__all__ = ["Store", "normalise_url"]
