"""Training in the sandbox with real misbehaving templates, and the budgeted search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from watchkeeper.core.enums import Task
from watchkeeper.mitigation import sandbox, training
from watchkeeper.mitigation.training import TrainJob

from .simulation import columns, matrix, population

BAD = """\
import os, signal, time
import numpy as np

def crash(params, columns, task):
    os.kill(os.getpid(), signal.SIGSEGV)

def hang(params, columns, task):
    time.sleep(600)

def hog(params, columns, task):
    blocks = []
    while True:
        blocks.append(np.ones(50_000_000))  # 400 MB at a time, touched

def broken(params, columns, task):
    raise ValueError("this template has a bug")
"""


@pytest.fixture
def bad_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "wk_bad_templates.py").write_text(BAD)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "wk_bad_templates"


def job(template: str, n: int = 600, budget: int = 1, **kw: object) -> TrainJob:
    pop = population(n, seed=3)
    return TrainJob(template=template, task=Task.BINARY_CLASSIFICATION, columns=columns(),
                    x=matrix(pop), y=pop["label"], hpo_budget=budget, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "status", "words"), [
    ("crash", "crashed", "SIGSEGV"),
    ("broken", "error", "this template has a bug"),
])
def test_a_dying_or_failing_template_becomes_a_clear_result(bad_templates: str, name: str,
                                                            status: str, words: str) -> None:
    result = sandbox.run(training.train, job(f"{bad_templates}.{name}"), timeout_s=120,
                         memory_mb=512)
    assert result.status == status and words in result.message and result.value is None


def test_a_hanging_template_is_stopped_at_the_wall_time_limit(bad_templates: str) -> None:
    result = sandbox.run(training.train, job(f"{bad_templates}.hang"), timeout_s=8,
                         memory_mb=512)
    assert result.status == "timeout" and "wall-time limit of 8 s" in result.message


def test_a_memory_hog_hits_the_memory_limit(bad_templates: str) -> None:
    result = sandbox.run(training.train, job(f"{bad_templates}.hog"), timeout_s=120,
                         memory_mb=600)
    assert result.status == "out_of_memory", result
    assert result.peak_rss_mb is None or result.peak_rss_mb < 2000


def test_search_is_budgeted_seeded_and_runs_in_the_sandbox() -> None:
    result = sandbox.run(training.train, job("sklearn.gradient_boosting", n=600, budget=3,
                                             seed=7), timeout_s=300, memory_mb=1024)
    assert result.ok, result.message
    out = result.value
    assert len(out.trials) == 3 and out.trials[0]["params"]["max_iter"] == 150  # defaults first
    again = training.train(job("sklearn.gradient_boosting", n=600, budget=3, seed=7))
    assert [t["params"] for t in again.trials] == [t["params"] for t in out.trials]
    assert 0 < out.threshold < 1 and out.validation["f1"] > 0.2
    pop = population(300, seed=11)
    assert np.all(np.isfinite(out.estimator.predict_proba(matrix(pop))))


@pytest.mark.parametrize("template", ["sklearn.logistic", "sklearn.random_forest"])
def test_every_builtin_template_trains_with_cv(template: str) -> None:
    out = training.train(job(template, n=500, budget=2, method="cv", folds=3))
    assert out.validation["n_validation"] == 500 and out.template == template


def test_too_little_or_one_class_data_is_refused_by_name() -> None:
    from watchkeeper.core.errors import InputError

    with pytest.raises(InputError, match="only 10 labelled rows"):
        training.train(job("sklearn.logistic", n=10))
    one_class = job("sklearn.logistic", n=100)
    one_class.y = np.zeros(100, dtype=int)
    with pytest.raises(InputError, match="one class only"):
        training.train(one_class)
