"""`retention:` how long stored data is kept. The audit trail is never purged."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from watchkeeper.policy.common import Duration, Section


class RetentionPolicy(Section):
    events: Duration = Field(timedelta(days=90), description="Raw prediction and label events.")
    profiles: Duration = Field(timedelta(days=400), description="Window profiles (a year and a "
                               "month, for seasonal baselines).")
    quarantine: Duration = Field(timedelta(days=30), description="Rejected rows and reports.")
    notifications: Duration = Field(timedelta(days=180), description="Sent notifications.")
