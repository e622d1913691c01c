"""Versioned binary form of a WindowProfile.

Layout (version 1): b"WKPF" | u16 version | u32 header length | header (UTF-8 JSON) | sketch
bytes. The header lists every column profile's exact statistics and the byte lengths of its
sketches, in order; the sketches are DataSketches' own portable serialisations, so a profile
written here can be read by any DataSketches binding. A reader refuses versions it does not know.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

from datasketches import frequent_strings_sketch, hll_sketch, kll_doubles_sketch

from watchkeeper.profiles.categorical import CategoricalProfile
from watchkeeper.profiles.numeric import NumericProfile
from watchkeeper.profiles.window import ColumnProfile, WindowProfile

MAGIC = b"WKPF"
VERSION = 1
_HEAD = struct.Struct("<4sHI")
_SINGLES = ("prediction", "confidence", "latency", "label")


def dumps(profile: WindowProfile) -> bytes:
    blobs: list[bytes] = []
    entries: list[dict[str, Any]] = []

    def add(slot: str, name: str, prof: ColumnProfile) -> None:
        entry: dict[str, Any] = {
            "slot": slot,
            "name": name,
            "kind": prof.kind,
            "count": prof.count,
            "nulls": prof.nulls,
        }
        if isinstance(prof, NumericProfile):
            entry |= {
                "min": _num(prof.min),
                "max": _num(prof.max),
                "mean": prof.mean,
                "m2": prof.m2,
            }
            parts = [prof.sketch.serialize()]
        else:
            parts = [prof.items.serialize(), prof.hll.serialize_compact()]
        entry["sizes"] = [len(p) for p in parts]
        blobs.extend(parts)
        entries.append(entry)

    for name, prof in profile.features.items():
        add("feature", name, prof)
    for slot in _SINGLES:
        prof = getattr(profile, slot)
        if prof is not None:
            add(slot, "", prof)
    for name, prof in profile.segments.items():
        add("segment", name, prof)
    header = json.dumps({"n": profile.n, "columns": entries}, allow_nan=False).encode()
    return _HEAD.pack(MAGIC, VERSION, len(header)) + header + b"".join(blobs)


def loads(blob: bytes) -> WindowProfile:
    if len(blob) < _HEAD.size:
        raise ValueError("not a watchkeeper profile: too short")
    magic, version, header_len = _HEAD.unpack_from(blob)
    if magic != MAGIC:
        raise ValueError("not a watchkeeper profile: bad magic bytes")
    if version != VERSION:
        raise ValueError(
            f"profile format version {version} is not supported (this reads {VERSION})"
        )
    offset = _HEAD.size
    header = json.loads(blob[offset : offset + header_len])
    offset += header_len
    profile = WindowProfile(n=int(header["n"]))
    for entry in header["columns"]:
        parts = []
        for size in entry["sizes"]:
            parts.append(bytes(blob[offset : offset + size]))
            offset += size
        prof: ColumnProfile
        if entry["kind"] == "numeric":
            prof = NumericProfile(
                entry["count"],
                entry["nulls"],
                _float(entry["min"], math.inf),
                _float(entry["max"], -math.inf),
                entry["mean"],
                entry["m2"],
                kll_doubles_sketch.deserialize(parts[0]),
            )
        else:
            prof = CategoricalProfile(
                entry["count"],
                entry["nulls"],
                frequent_strings_sketch.deserialize(parts[0]),
                hll_sketch.deserialize(parts[1]),
            )
        slot = entry["slot"]
        if slot == "feature":
            profile.features[entry["name"]] = prof
        elif slot == "segment":
            profile.segments[entry["name"]] = prof  # type: ignore[assignment]
        else:
            setattr(profile, slot, prof)
    if offset != len(blob):
        raise ValueError("profile is corrupt: trailing or missing bytes")
    return profile


def _num(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _float(x: float | None, default: float) -> float:
    return default if x is None else float(x)
