"""Errors that cross stage boundaries. Each says what was wrong, where, and what was expected."""

from __future__ import annotations


class WatchkeeperError(Exception):
    """Base of every error watchkeeper raises on purpose."""


class InputError(WatchkeeperError, ValueError):
    """Bad input from a user: names the place (field, row, file) and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        file: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.field = field
        self.row = row
        self.file = file
        self.expected = expected
        where = ", ".join(
            part
            for part in (
                f"file {file}" if file else "",
                f"row {row}" if row is not None else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        text = f"{where}: {message}" if where else message
        if expected:
            text += f"; expected {expected}"
        super().__init__(text)


class PolicyError(WatchkeeperError):
    """A policy file has problems; `problems` lists every one as 'yaml.path: message (line N)'."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + f"{len(problems)} problem(s)\n" + "\n".join(problems))


class NotFoundError(WatchkeeperError, LookupError):
    """A named thing (model, incident, version, ...) does not exist."""


class ConflictError(WatchkeeperError):
    """The request conflicts with current state (e.g. an illegal lifecycle transition)."""


class PermissionDenied(WatchkeeperError):
    """The actor may not do this; the message names the role that would be needed."""
