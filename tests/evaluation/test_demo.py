"""`watchkeeper demo`, the README's main job, played to the end as fast as the machine goes:
every scripted scene becomes its own incident with the remedy its cause calls for, and the
run ends with MTTD and MTTR per incident."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.evaluation.demo import MODEL, SCRIPT, run
from watchkeeper.incidents import service as incidents
from watchkeeper.mitigation import service as mitigation
from watchkeeper.store import Store

pytestmark = pytest.mark.slow


def test_each_scene_is_one_incident_with_the_remedy_of_its_cause(tmp_path: Path) -> None:
    said: list[str] = []
    result = run(folder=tmp_path, speed=0, say=said.append)
    with Store.open(result.db_url) as store, store.session(read_only=True) as s:
        rows = sorted(incidents.list_incidents(s, model=MODEL, states=None, limit=100),
                      key=lambda r: r.opened_at)
        families = [r.family for r in rows]
        actions = {r.id: {run.action for run in mitigation.list_runs(s, incident_id=r.id)}
                   for r in rows}
    # one incident per scene, opened while its scene plays, in the script's order
    assert families == ["data_quality", "drift", "drift", "latency", "drift"], families
    for row, scene in zip(rows, SCRIPT, strict=True):
        hour = (row.opened_at - rows[0].opened_at).total_seconds() / 3600 + SCRIPT[0].start
        assert scene.start <= hour < scene.end + 2, (scene.name, hour)
    pipeline, covariate, concept, latency, failure = rows
    assert "quarantine" in actions[pipeline.id] and "retrain" not in actions[pipeline.id]
    assert "retrain" in actions[covariate.id] and "retrain" in actions[concept.id]
    assert "retrain" not in actions[latency.id]
    assert "kill_switch" in actions[failure.id]
    assert all(r.state == "resolved" for r in rows[:4]), [r.state for r in rows]
    # the ending: MTTD and MTTR per incident
    table = said[said.index("\n[bold]Incidents[/bold]") + 1:]
    assert len([line for line in table if "MTTD" in line and "MTTR" in line]) == len(rows)
    assert all(i.mttd_s is not None for i in result.incidents)
