"""Identifiers: sortable by creation time, so logs and tables read in order."""

from __future__ import annotations

import os
import time


def new_id(prefix: str = "") -> str:
    """A 26-character time-ordered id (48-bit ms timestamp + 80 random bits, Crockford base32)."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(alphabet[rem])
    body = "".join(reversed(chars))
    return f"{prefix}_{body}" if prefix else body
