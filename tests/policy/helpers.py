"""A small valid policy that tests modify, so each test shows only what it changes."""

from __future__ import annotations

MINIMAL = """\
version: 1
models:
  - name: scoring-model
    task: binary_classification
    owner: alice
    reference: ref.parquet
    schema:
      features:
        x: {type: numeric, min: 0}
        c: {type: categorical, categories: [a, b]}
      prediction: probability
      label: binary
    window: {every: 1h}
    kpis: [{metric: f1, min: 0.5}]
people:
  alice: {email: alice@example.com}
  bob: {email: bob@example.com}
roles: {owner: alice, oncall_role: oncall:ops}
oncall: {ops: {members: [alice, bob]}}
raci:
  T1: {responsible: [owner], accountable: owner}
escalation: {T1: {ack_within: 4h}}
channels: {ops: {type: console}}
routes: {T1: [ops]}
playbooks: {T1: [notify]}
"""


def model_entry(name: str, owner: str = "alice") -> str:
    """One more `models:` item in the same shape as MINIMAL's."""
    return (
        f"  - name: {name}\n"
        "    task: regression\n"
        f"    owner: {owner}\n"
        "    reference: ref.parquet\n"
        "    schema: {features: {x: {type: numeric}}, prediction: value, label: numeric}\n"
        "    window: {events: 5000}\n"
    )
