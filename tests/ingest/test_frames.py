"""The SDK's in-memory inputs become the same Arrow table whatever library they come from."""

from __future__ import annotations

import warnings

import pandas as pd
import pyarrow as pa

from watchkeeper.ingest.sources.frames import to_arrow


def test_time_zone_aware_pandas_columns_convert_exactly_and_quietly() -> None:
    # pyarrow's own conversion reads such columns through Series.values, which pandas 3.1
    # deprecates: every SDK call would warn.
    frame = pd.DataFrame({
        "event_id": ["a", "b", "c"],
        "timestamp": pd.to_datetime(["2026-03-29 01:30", None, "2026-03-29 03:30"])
        .tz_localize("Europe/Berlin"),
        "x": [1.0, 2.0, 3.0],
        "sent": pd.date_range("2026-01-01", periods=3, tz="UTC", unit="ms"),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = to_arrow(frame)
    assert table.column_names == ["event_id", "timestamp", "x", "sent"]
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="Europe/Berlin")
    assert table.schema.field("sent").type == pa.timestamp("ms", tz="UTC")
    assert table.column("timestamp").null_count == 1
    instants = [v.timestamp() if v else None for v in table.column("timestamp").to_pylist()]
    assert instants == [1774744200.0, None, 1774747800.0]  # 00:30 and 01:30 UTC (DST starts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert table.equals(pa.Table.from_pandas(frame, preserve_index=False))
