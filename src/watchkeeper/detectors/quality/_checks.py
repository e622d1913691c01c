"""Argument checks shared by the quality detectors (errors name the argument and what it needs)."""

from __future__ import annotations

import math

from watchkeeper.core.errors import InputError


def count(value: int, name: str) -> int:
    try:
        ok = not isinstance(value, bool) and int(value) == value and value >= 0
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InputError(f"got {value!r}", field=name, expected="a non-negative whole count")
    return int(value)


def part_of(part: int, whole: int, part_name: str, whole_name: str) -> None:
    if part > whole:
        raise InputError(
            f"{part_name}={part} exceeds {whole_name}={whole}",
            field=part_name,
            expected=f"at most {whole_name}",
        )


def fraction(value: float, name: str, *, allow_zero: bool = True) -> float:
    try:
        low_ok = value >= 0.0 if allow_zero else value > 0.0
        ok = math.isfinite(value) and low_ok and value <= 1.0
    except TypeError:
        ok = False
    if not ok:
        bounds = "[0, 1]" if allow_zero else "(0, 1]"
        raise InputError(f"got {value!r}", field=name, expected=f"a number in {bounds}")
    return float(value)


def positive(value: float, name: str) -> float:
    try:
        ok = math.isfinite(value) and value > 0
    except TypeError:
        ok = False
    if not ok:
        raise InputError(f"got {value!r}", field=name, expected="a positive finite number")
    return float(value)
