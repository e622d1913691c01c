"""Building blocks shared by every policy section: the strict base model, durations, names,
tier keys, and the way a validator reports several problems with exact YAML paths at once."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from watchkeeper.core.enums import Tier


class Section(BaseModel):
    """Base of every policy model: unknown keys are errors (typos are caught), values are
    immutable once loaded, YAML spellings (aliases) and Python names both work, and NaN or
    infinity are refused."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        allow_inf_nan=False,  # `.nan` would silently pass every min/max comparison
    )


# --- several problems at once ---------------------------------------------------------------

Loc = tuple[str | int, ...]


def problem(loc: Loc, message: str, value: Any = None) -> InitErrorDetails:
    """One problem at `loc` (relative to the model being validated)."""
    # The message is passed as a context value, so braces in user text are never formatted.
    return InitErrorDetails(
        type=PydanticCustomError("policy", "{message}", {"message": message}),
        loc=loc,
        input=value,
    )


def raise_problems(title: str, problems: Sequence[InitErrorDetails]) -> None:
    """Raise all problems together. Pydantic prefixes each location with the path of the
    model that raised, so a section reports `models[0].kpis[1].metric`, not just `metric`."""
    if problems:
        raise ValidationError.from_exception_data(title, list(problems))


def custom_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("policy", "{message}", {"message": message})


def one_of(options: Iterable[object]) -> str:
    return ", ".join(str(o) for o in options) or "(none defined)"


# --- durations --------------------------------------------------------------------------------

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$")
_UNIT = {
    "ms": timedelta(milliseconds=1),
    "s": timedelta(seconds=1),
    "m": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "d": timedelta(days=1),
    "w": timedelta(weeks=1),
}
DURATION_HINT = "a number and a unit: ms, s, m, h, d or w (e.g. 90s, 30m, 4h, 1d)"


def parse_duration(value: object) -> timedelta:
    """`90s`, `30m`, `4h`, `1d`, `2w` (or a timedelta) -> timedelta. Bare numbers are refused:
    `ack_within: 30` could mean seconds or minutes, and guessing wrong pages people."""
    if isinstance(value, timedelta):
        td = value
    elif isinstance(value, str) and (m := _DURATION.match(value.strip())):
        td = float(m.group(1)) * _UNIT[m.group(2)]
    else:
        raise custom_error(f"invalid duration {value!r}; expected {DURATION_HINT}")
    if td <= timedelta(0):
        raise custom_error(f"duration {value!r} must be positive")
    return td


def format_duration(td: timedelta) -> str:
    """The shortest exact spelling: 5400s -> '90m', 86400s -> '1d'."""
    ms = round(td.total_seconds() * 1000)
    for unit, size in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000),
                       ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]


# --- names ------------------------------------------------------------------------------------

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")
# Names of people, roles, channels, rotations: letters (any script), digits, '_', '-', '.';
# no ':' because `oncall:<rotation>` uses it, no spaces so they read well in CLI output.
_NAME = re.compile(r"^\w[\w.-]*$")


def _slug(value: object) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise custom_error(
            f"invalid name {value!r}; expected a lowercase slug of a-z, 0-9, '-' and '_' "
            "starting and ending with a letter or digit (e.g. credit-risk)"
        )
    return value


def _name(value: object) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise custom_error(
            f"invalid name {value!r}; expected letters, digits, '_', '-' or '.' "
            "(no spaces or ':')"
        )
    return value


Slug = Annotated[str, BeforeValidator(_slug)]
Name = Annotated[str, BeforeValidator(_name)]

_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _env_name(value: object) -> str:
    if not isinstance(value, str) or not _ENV.match(value):
        raise custom_error(
            f"{value!r} is not an environment variable name; write the NAME of the variable "
            "that holds the value (e.g. OPS_SLACK_URL), never the secret itself"
        )
    return value


EnvName = Annotated[str, BeforeValidator(_env_name)]


# --- tiers ------------------------------------------------------------------------------------

ACTIVE_TIERS = (Tier.T1, Tier.T2, Tier.T3)


def _tier(value: object) -> Tier:
    if isinstance(value, Tier) and value in ACTIVE_TIERS:
        return value
    if isinstance(value, str) and value.upper() in ("T1", "T2", "T3"):
        return Tier[value.upper()]
    hint = " (T0 means healthy and needs no entry)" if str(value).upper() == "T0" else ""
    raise custom_error(f"unknown tier {value!r}; expected one of T1, T2, T3{hint}")


TierKey = Annotated[
    Tier, BeforeValidator(_tier), PlainSerializer(lambda t: t.name, return_type=str)
]


def listify(value: object) -> object:
    """`x` -> `[x]`, so a single name may be written without brackets."""
    return [value] if isinstance(value, str) else value
