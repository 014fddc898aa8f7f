"""``tutela demo``: James PRO's sample product database, to try requests on real tables."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError

from tutela.cli.options import fail, safe_url
from tutela.errors import TutelaError
from tutela.ledger.database import driver_message

__all__ = ["app", "seed_command"]

app = typer.Typer(
    help="The sample product database of the James PRO example.", no_args_is_help=True
)

DEMO_POLICY = Path("examples/james-pro/policy.yaml")


@app.command("seed")
def seed_command(
    database: str = typer.Option(
        ...,
        "--database",
        help="The product database to fill (sqlite:///FILE, postgresql://..., "
        "mysql+pymysql://...). "
        "The sample's tables are replaced.",
    ),
    rows: int = typer.Option(200, "--rows", min=2, help="Users to create; other tables scale."),
    policy: Path = typer.Option(
        DEMO_POLICY, "--policy", help="The policy declaring the tables.", show_default=True
    ),
    truth: Path | None = typer.Option(
        None,
        "--truth",
        help="Where to write the ground truth (JSON) [default: beside a SQLite file, "
        "else ./james-pro.truth.json].",
    ),
    seed: int = typer.Option(2018, "--seed", help="The same seed gives the same data."),
    languages: str = typer.Option(
        "sv,nl,fr,cs,en", "--languages", help="Languages of the people, comma-separated."
    ),
) -> None:
    """Create the tables the policy declares and fill them with realistic people, teams,
    boards, cards, comments, invoices... in Swedish, Dutch, French, Czech and English;
    write which rows belong to whom."""
    if importlib.util.find_spec("faker") is None:
        fail("the sample data needs Faker: pip install 'tutela[demo]' (or pip install Faker)")
    from tutela.demo import default_truth_path
    from tutela.demo import seed as fill
    from tutela.policy import load

    target = truth or default_truth_path(database)
    started = time.perf_counter()
    try:
        loaded = load(policy)
        columns = (
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task("preparing", total=None)

            def advance(table: str, count: int, total: int) -> None:
                bar.update(task, description=table, advance=count, total=total)

            result = fill(
                loaded,
                database,
                rows,
                seed=seed,
                languages=tuple(lang.strip() for lang in languages.split(",") if lang.strip()),
                progress=advance,
            )
        result.write(target)
    except TutelaError as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        fail(f"the database {safe_url(database)} failed: {driver_message(exc)}")
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror}")
    elapsed = time.perf_counter() - started
    total = sum(result.tables.values())
    typer.echo(
        f"Seeded {safe_url(database)}: {rows} users, {total} rows in {len(result.tables)} "
        f"tables ({elapsed:.1f} s)."
    )
    typer.echo(f"Ground truth (whose each row is): {target}")
