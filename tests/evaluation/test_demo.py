"""`watchkeeper demo`, the README's main job, played to the end as fast as the machine goes:
the scripted scenes become incidents with the remedy their cause calls for, and the run ends
with MTTD and MTTR per incident.

What the gates decide about a retrained candidate, and so how long a drift incident lasts
(and whether a later scene joins it), may vary with the sketches' randomness; what is checked
here does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.evaluation.demo import MODEL, SCRIPT, START, run
from watchkeeper.incidents import service as incidents
from watchkeeper.mitigation import service as mitigation
from watchkeeper.store import Store

pytestmark = pytest.mark.slow
SCENE = {s.name: s for s in SCRIPT}


def hour_of(at) -> float:  # type: ignore[no-untyped-def]
    return (at - START).total_seconds() / 3600


def test_scenes_become_incidents_with_the_remedy_of_their_cause(tmp_path: Path) -> None:
    said: list[str] = []
    result = run(folder=tmp_path, speed=0, say=said.append)
    with Store.open(result.db_url) as store, store.session(read_only=True) as s:
        rows = sorted(incidents.list_incidents(s, model=MODEL, states=None, limit=100),
                      key=lambda r: r.opened_at)
        runs = {r.id: mitigation.list_runs(s, incident_id=r.id) for r in rows}
    actions = {i: {run.action for run in rs} for i, rs in runs.items()}

    def opened_in(scene: str, family: str):  # type: ignore[no-untyped-def]
        sc = SCENE[scene]
        found = [r for r in rows if r.family == family
                 and sc.start <= hour_of(r.opened_at) <= sc.end + 2]
        assert found, (scene, [(r.family, hour_of(r.opened_at)) for r in rows])
        return found[0]

    pipeline = opened_in("feature pipeline break", "data_quality")
    assert "quarantine" in actions[pipeline.id] and "retrain" not in actions[pipeline.id]
    assert pipeline.state == "resolved"
    # another input drifting while the pipeline incident is open is its own problem
    covariate = opened_in("covariate drift", "drift")
    assert "retrain" in actions[covariate.id]
    latency = opened_in("latency spike", "latency")
    assert "retrain" not in actions[latency.id] and latency.state == "resolved"
    # the critical failure is critical (T3) for whichever incident it lands in; a kill switch
    # is thrown in the run (once per incident: one thrown and restored earlier in the same
    # incident is not thrown again)
    failure = SCENE["critical failure"]
    covering = [r for r in rows if hour_of(r.opened_at) <= failure.end
                and (r.resolved_at is None or hour_of(r.resolved_at) >= failure.start)]
    assert any(r.max_tier == 3 for r in covering), [(r.family, r.max_tier) for r in covering]
    assert any(run.action == "kill_switch" for rs in runs.values() for run in rs)
    # the ending: MTTD and MTTR per incident
    table = said[said.index("\n[bold]Incidents[/bold]") + 1:]
    assert len([line for line in table if "MTTD" in line and "MTTR" in line]) == len(rows)
    assert all(i.mttd_s is not None for i in result.incidents)
