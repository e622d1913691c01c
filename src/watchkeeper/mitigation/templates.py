"""Retraining templates: reusable recipes that build an unfitted scikit-learn pipeline.

A template has an id (`family.name`, as `models[].retrain.template` names it), a version (part
of every version's lineage), default parameters and a small hyper-parameter space for the
budgeted search. `TEMPLATES` is the built-in catalogue; any other id is an import path
(`mypackage.templates.wide_forest`) to a `Template`, or to a callable
`build(params, columns, task) -> estimator` (its `space` and `defaults` attributes, if any,
are used), so teams can bring their own without touching watchkeeper.

Templates are resolved inside the training sandbox, so even a template that crashes on import
cannot hurt the serving process.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from watchkeeper.core.enums import Task
from watchkeeper.core.errors import InputError
from watchkeeper.mitigation.data import Columns

Build = Callable[[Mapping[str, Any], Columns, Task], Any]


@dataclass(frozen=True, slots=True)
class Template:
    id: str
    version: str
    description: str
    build: Build
    defaults: Mapping[str, Any] = field(default_factory=dict)
    space: Mapping[str, list[Any]] = field(default_factory=dict)


def as_float(x: Any) -> np.ndarray:
    """Numeric columns arrive in an object matrix; a module-level function keeps it picklable."""
    return np.asarray(x, dtype=float)


def preprocessor(columns: Columns, *, scale: bool) -> ColumnTransformer:
    """Median-impute (with missing indicators) and optionally scale numeric columns; one-hot
    categorical ones, ignoring categories first seen in production."""
    numeric: list[tuple[str, Any]] = [("float", FunctionTransformer(as_float)),
                                      ("impute", SimpleImputer(strategy="median",
                                                               add_indicator=True))]
    if scale:
        numeric.append(("scale", StandardScaler()))
    parts: list[tuple[str, Any, list[int]]] = []
    n_num = len(columns.numeric)
    if n_num:
        parts.append(("numeric", Pipeline(numeric), list(range(n_num))))
    if columns.categorical:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore", min_frequency=5,
                                                   sparse_output=False),
                      list(range(n_num, n_num + len(columns.categorical)))))
    return ColumnTransformer(parts)


def _gradient_boosting(params: Mapping[str, Any], columns: Columns, task: Task) -> Pipeline:
    cls = (HistGradientBoostingRegressor if task == Task.REGRESSION
           else HistGradientBoostingClassifier)
    model = cls(learning_rate=params["learning_rate"], max_leaf_nodes=params["max_leaf_nodes"],
                max_iter=params["max_iter"], l2_regularization=params["l2_regularization"],
                early_stopping=False, random_state=params.get("seed", 0))
    return Pipeline([("prep", preprocessor(columns, scale=False)), ("model", model)])


def _logistic(params: Mapping[str, Any], columns: Columns, task: Task) -> Pipeline:
    if task == Task.REGRESSION:
        model: Any = Ridge(alpha=1.0 / params["C"])
    else:
        model = LogisticRegression(C=params["C"], max_iter=2000)
    return Pipeline([("prep", preprocessor(columns, scale=True)), ("model", model)])


def _random_forest(params: Mapping[str, Any], columns: Columns, task: Task) -> Pipeline:
    cls = RandomForestRegressor if task == Task.REGRESSION else RandomForestClassifier
    model = cls(n_estimators=params["n_estimators"], max_depth=params["max_depth"],
                min_samples_leaf=params["min_samples_leaf"], n_jobs=1,
                random_state=params.get("seed", 0))
    return Pipeline([("prep", preprocessor(columns, scale=False)), ("model", model)])


TEMPLATES: dict[str, Template] = {
    "sklearn.gradient_boosting": Template(
        "sklearn.gradient_boosting", "1", "histogram gradient boosting (handles NaN, fast)",
        _gradient_boosting,
        defaults={"learning_rate": 0.1, "max_leaf_nodes": 15, "max_iter": 150,
                  "l2_regularization": 0.0},
        space={"learning_rate": [0.03, 0.05, 0.1, 0.2], "max_leaf_nodes": [7, 15, 31],
               "max_iter": [100, 200, 300], "l2_regularization": [0.0, 0.1, 1.0]},
    ),
    "sklearn.logistic": Template(
        "sklearn.logistic", "1", "logistic regression (ridge for regression) on scaled inputs",
        _logistic, defaults={"C": 1.0}, space={"C": [0.01, 0.1, 0.3, 1.0, 3.0, 10.0]},
    ),
    "sklearn.random_forest": Template(
        "sklearn.random_forest", "1", "random forest", _random_forest,
        defaults={"n_estimators": 150, "max_depth": None, "min_samples_leaf": 5},
        space={"n_estimators": [100, 200], "max_depth": [None, 6, 12],
               "min_samples_leaf": [1, 5, 20]},
    ),
}


def resolve(template_id: str) -> Template:
    """The catalogue entry, else the object at the import path `module.attribute`."""
    if template_id in TEMPLATES:
        return TEMPLATES[template_id]
    module_name, _, attr = template_id.rpartition(".")
    known = ", ".join(TEMPLATES)
    if not module_name:
        raise InputError(f"unknown template {template_id!r}", field="retrain.template",
                         expected=f"one of {known}, or an import path module.attribute")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"template {template_id!r} is neither built in nor importable ({exc})",
                         field="retrain.template",
                         expected=f"one of {known}, or an import path module.attribute") from None
    if isinstance(obj, Template):
        return obj
    if callable(obj):
        return Template(template_id, str(getattr(obj, "version", "1")),
                        (obj.__doc__ or "").strip().split("\n")[0], obj,
                        defaults=dict(getattr(obj, "defaults", {})),
                        space=dict(getattr(obj, "space", {})))
    raise InputError(f"{template_id!r} is a {type(obj).__name__}, not a template",
                     field="retrain.template", expected="a Template or a build callable")
