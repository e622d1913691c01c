"""`watchkeeper init` writes a starter policy and reference data; `watchkeeper validate` checks
a policy and its reference files, printing every problem at once."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from watchkeeper.cli.options import DbOption, resolve_policy_path
from watchkeeper.core.errors import PolicyError
from watchkeeper.policy import starter_policy_text

STARTER_POLICY = "watchkeeper.yaml"
STARTER_REFERENCE = Path("data") / "credit_reference.parquet"


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        directory: Path = typer.Argument(Path("."), help="Where to write (created if missing)."),
        force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
        rows: int = typer.Option(5000, min=100, help="Rows of generated reference data."),
        seed: int = typer.Option(7, help="Random seed of the generated data."),
    ) -> None:
        """Write a commented starter watchkeeper.yaml and a generated credit-risk reference
        dataset (data/credit_reference.parquet)."""
        if directory.exists() and not directory.is_dir():
            typer.echo(f"{directory} is a file; give a folder to write the starter files in",
                       err=True)
            raise typer.Exit(1)
        policy_path = directory / STARTER_POLICY
        data_path = directory / STARTER_REFERENCE
        existing = [p for p in (policy_path, data_path) if p.exists()]
        if existing and not force:
            names = ", ".join(str(p) for p in existing)
            typer.echo(f"refusing to overwrite {names}; use --force to replace", err=True)
            raise typer.Exit(1)
        data_path.parent.mkdir(parents=True, exist_ok=True)
        policy_path.write_text(starter_policy_text(), encoding="utf-8")
        write_credit_reference(data_path, rows=rows, seed=seed)
        typer.echo(f"wrote {policy_path} and {data_path} ({rows:,} rows)")
        typer.echo(f"next: watchkeeper validate {policy_path}")

    @app.command()
    def validate(
        file: str | None = typer.Argument(
            None, help="Policy file (default: $WATCHKEEPER_POLICY or ./watchkeeper.yaml)."
        ),
    ) -> None:
        """Check a policy and its reference data; print every problem (exit 1) or a summary."""
        from watchkeeper.policy import load_policy
        from watchkeeper.policy.reference_data import reference_problems

        path = resolve_policy_path(file)
        try:
            policy = load_policy(path)
        except PolicyError as exc:
            _print_problems(path, exc.problems)
            raise typer.Exit(1) from None
        problems = reference_problems(policy)
        if problems:
            _print_problems(path, problems)
            raise typer.Exit(1)
        names = ", ".join(policy.model_names()[:5])
        more = f", +{len(policy.models) - 5} more" if len(policy.models) > 5 else ""
        t = policy.scoring.tiers
        n_models = len(policy.models)
        typer.echo(
            f"{path}: valid. {n_models} model{'s' if n_models != 1 else ''} ({names}{more}); "
            f"tiers T1 >= {t.T1:g}, T2 >= {t.T2:g}, T3 >= {t.T3:g}; "
            f"{len(policy.channels)} channels ({', '.join(policy.channels) or 'none'})"
        )
        for note in _unset_env(policy):
            typer.echo(f"note: {note}")


    policy_app = typer.Typer(help="Policy versions kept in the database.")
    app.add_typer(policy_app, name="policy")

    @policy_app.command("apply")
    def apply(
        file: str = typer.Argument(..., help="The policy file to put in force."),
        comment: str = typer.Option("", "--comment", help="Why; kept with the version."),
        actor: str = typer.Option(os.environ.get("USER", "cli"), "--actor"),
        db: str | None = DbOption,
    ) -> None:
        """Validate FILE and store it as the new policy version (audited as policy.applied).
        A running service picks it up through POST /v1/policy/apply or a restart."""
        from watchkeeper.core.clock import SYSTEM_CLOCK
        from watchkeeper.core.settings import Settings
        from watchkeeper.engine import policy_service
        from watchkeeper.policy import read_policy_text
        from watchkeeper.store import Store

        path = Path(file)
        try:
            text = read_policy_text(path)
        except PolicyError as exc:
            _print_problems(file, exc.problems)
            raise typer.Exit(1) from None
        store = Store.open(Settings.resolve(db).db_url)
        try:
            with store.session() as s:
                policy, version = policy_service.apply(
                    s, text, actor=actor, now=SYSTEM_CLOCK.now(), comment=comment,
                    base_dir=path.resolve().parent, source=file)
        except PolicyError as exc:
            _print_problems(file, exc.problems)
            raise typer.Exit(1) from None
        finally:
            store.close()
        typer.echo(f"{file}: applied as policy version {version} "
                   f"({len(policy.models)} models, sha256 {policy_service.sha256(text)[:12]})")


# Past this many, more lines help nobody: the first ones (in file order) show the pattern.
MAX_SHOWN_PROBLEMS = 200


def _print_problems(path: str, problems: list[str]) -> None:
    typer.echo(f"{path}: {len(problems):,} problem{'s' if len(problems) != 1 else ''}", err=True)
    for p in problems[:MAX_SHOWN_PROBLEMS]:
        typer.echo(f"  {p}", err=True)
    if len(problems) > MAX_SHOWN_PROBLEMS:
        typer.echo(f"  ... and {len(problems) - MAX_SHOWN_PROBLEMS:,} more", err=True)


def _unset_env(policy: object) -> list[str]:
    """Channels whose secret variables are not set here: fine for validation on a laptop, but
    worth saying, since sending would fail."""
    notes = []
    for name, channel in getattr(policy, "channels", {}).items():
        for field, value in channel.model_dump().items():
            if field.endswith("_env") and value and value not in os.environ:
                notes.append(f"channels.{name}.{field}: ${value} is not set in this environment")
    return notes



def write_credit_reference(path: Path, rows: int = 5000, seed: int = 7) -> None:
    """Generated credit-risk applicants (sim/credit.py) as Parquet: features, the model's
    probability and prediction, and the label."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from watchkeeper.sim.credit import generate_credit

    columns = generate_credit(rows, seed=seed)
    columns.pop("true_probability")  # the hidden truth stays hidden; tests regenerate it
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(pa.table(columns), tmp)
    tmp.replace(path)  # never leave a half-written file under the real name
