"""Policy as code: the pydantic schema of `watchkeeper.yaml`, split by section, and its loader.

    from watchkeeper.policy import load_policy
    policy = load_policy("watchkeeper.yaml")          # PolicyError lists every problem
    model = policy.model("credit-risk")               # NotFoundError names the known models
    settings = policy.signals_for("credit-risk")      # model overrides merged over defaults
"""

from watchkeeper.policy.catalogue import ACTIONS, METRICS, drift_methods, drift_methods_for
from watchkeeper.policy.channels import CHANNEL_TYPES, Channel
from watchkeeper.policy.common import Duration, format_duration, parse_duration
from watchkeeper.policy.loader import (
    format_path,
    load_policy,
    parse_policy,
    read_policy_text,
    starter_policy_text,
)
from watchkeeper.policy.models import Feature, Kpi, ModelPolicy, Window
from watchkeeper.policy.people import ONCALL_PREFIX, Person, RaciEntry, Rotation
from watchkeeper.policy.policy import Policy
from watchkeeper.policy.signals import SignalSettings, merge_signals

__all__ = [
    "ACTIONS",
    "CHANNEL_TYPES",
    "METRICS",
    "ONCALL_PREFIX",
    "Channel",
    "Duration",
    "Feature",
    "Kpi",
    "ModelPolicy",
    "Person",
    "Policy",
    "RaciEntry",
    "Rotation",
    "SignalSettings",
    "Window",
    "drift_methods",
    "drift_methods_for",
    "format_duration",
    "format_path",
    "load_policy",
    "merge_signals",
    "parse_duration",
    "parse_policy",
    "read_policy_text",
    "starter_policy_text",
]
