"""docs/policy.md documents every field and every catalogue name the schema accepts."""

from __future__ import annotations

import typing
from pathlib import Path

from pydantic import BaseModel

from watchkeeper.core.enums import FeatureType
from watchkeeper.policy import ACTIONS, CHANNEL_TYPES, METRICS, Policy, drift_methods_for

DOC = (Path(__file__).parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")


def all_models(cls: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    if cls in seen:
        return seen
    seen.add(cls)
    for field in cls.model_fields.values():
        stack = [field.annotation]
        while stack:
            ann = stack.pop()
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                all_models(ann, seen)
            stack.extend(typing.get_args(ann))
    return seen


def test_every_field_of_every_section_is_documented() -> None:
    models = all_models(Policy, set())
    assert len(models) > 40
    missing = [
        f"{cls.__name__}.{field.alias or name}"
        for cls in models
        for name, field in cls.model_fields.items()
        if name != "type" and f"| `{field.alias or name}` |" not in DOC
    ]
    assert missing == []


def test_every_catalogue_name_is_documented() -> None:
    names = [*ACTIONS, *CHANNEL_TYPES, *(m for ms in METRICS.values() for m in ms),
             *drift_methods_for(FeatureType.NUMERIC), *drift_methods_for(FeatureType.CATEGORICAL)]
    assert [n for n in names if n not in DOC] == []
