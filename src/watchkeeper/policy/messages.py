"""`messages:` what notifications may say, and to whom without approval."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from watchkeeper.core.enums import Role
from watchkeeper.policy.common import Section, listify


class MessagesPolicy(Section):
    pii_fields: Annotated[list[str], BeforeValidator(listify)] = Field(
        default_factory=list, description="Fields redacted from every message (added to the "
        "features marked pii: true)."
    )
    external_audiences_need_approval: bool = Field(
        True, description="Messages to customer, regulator or partner channels wait for an "
        "approver."
    )
    approver_roles: Annotated[list[Role], BeforeValidator(listify)] = Field(
        default_factory=lambda: [Role.APPROVER, Role.ADMIN],
        description="Access roles that may approve external messages.",
    )
    dashboard_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL used for links in messages."
    )
