"""Reference profiles are keyed by the content of the reference file, not its name or mtime, so
a changed file is profiled again and an unchanged one never is."""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_fingerprint(path: str | Path) -> str:
    """sha256 of the file's bytes, as 'sha256:<hex>'."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()
