"""Every streaming detector's docstring example runs and holds (and so does the scorer's)."""

from __future__ import annotations

import doctest
import importlib

import pytest

from watchkeeper.detectors.stream import DETECTORS

MODULES = [
    *sorted({cls.__module__ for cls in DETECTORS.values()}),
    "watchkeeper.evaluation.changepoints",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if name != "watchkeeper.evaluation.changepoints":
        assert result.attempted >= 4, "each detector documents an example"


def test_every_detector_documents_its_measured_false_alarms() -> None:
    for cls in DETECTORS.values():
        assert "false alarm" in (cls.__doc__ or ""), cls.__name__
