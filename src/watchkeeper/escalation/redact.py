"""PII removal for messages and evidence bundles: `redact(mapping, pii_fields)` replaces the
values of the named fields at any depth and scrubs those values from every other string.

The implementation lives in `watchkeeper.core.redact`, so that the incidents stage's evidence
bundles (a lower layer) redact exactly the same way.
"""

from __future__ import annotations

from watchkeeper.core.redact import REDACTED, pii_values, scrub_text
from watchkeeper.core.redact import redact_everywhere as redact

__all__ = ["REDACTED", "pii_values", "redact", "scrub_text"]
