"""``labourwatch claims``: the known claims — list, import, export, add."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click
import yaml

from analysis.claims.model import Claim, ClaimDataError, Figure, claims_from_yaml_data, claims_to_yaml_data
from db import claims as claim_store
from labourwatch.config import read_claims
from labourwatch.context import AppContext, pass_app
from labourwatch.output import FORMATS, print_rows


def read_claims_file(path: Path) -> list[Claim]:
    """Claims from a YAML file in the known_claims.yaml format; a clean usage error when it is not."""
    try:
        return read_claims(path)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def sync_configured_claims(app: AppContext) -> claim_store.ImportResult | None:
    """Import the configured claims (insert or update by id); None when the config names no claims file.

    The file was read and checked when the config was loaded: a missing or broken one refuses the config."""
    loaded = app.config.known_claims
    if loaded is None:
        return None
    with app.database().write() as session:
        return claim_store.import_claims(session, loaded)


@click.group()
def claims() -> None:
    """Known claims that new reporting is matched against."""


@claims.command("list")
@click.option("--status", type=click.Choice(["active", "retired"]), default=None, help="Only claims of this status.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_app
def claims_list(app: AppContext, status: str | None, fmt: str) -> None:
    """Stored claims with their figures and sources."""
    with app.database().read() as session:
        rows = claims_to_yaml_data(claim_store.list_claims(session, status))["claims"]
    for row in rows:
        row.setdefault("status", "active")
        row["figures_text"] = "; ".join(f"{f.get('qualifier', 'exact')} {f['value']} {f['unit']}"
                                        for f in row["figures"])
    print_rows(rows, [("id", "id", None), ("status", "status", None), ("text", "text", 70),
                      ("figures_text", "figures", 40), ("source", "source", 40)], fmt)


@claims.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def claims_import(app: AppContext, file: Path) -> None:
    """Insert or update claims from a YAML file (known_claims.yaml format), matched by id."""
    loaded = read_claims_file(file)
    with app.database().write() as session:
        result = claim_store.import_claims(session, loaded)
    click.echo(f"{file}: {len(loaded)} claims — {result.added} added, {result.updated} updated, "
               f"{result.unchanged} unchanged")


@claims.command("export")
@click.option("--status", type=click.Choice(["active", "retired"]), default=None)
@pass_app
def claims_export(app: AppContext, status: str | None) -> None:
    """Write the stored claims as YAML (the import format) to stdout."""
    with app.database().read() as session:
        data = claims_to_yaml_data(claim_store.list_claims(session, status))
    yaml.safe_dump(data, sys.stdout, allow_unicode=True, sort_keys=False, width=120)


def _figure(text: str) -> Figure:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise click.BadParameter(f"{text!r}: write VALUE:UNIT or VALUE:UNIT:QUALIFIER, e.g. 50000:workers:more_than")
    value: float | int | str = parts[0]
    with contextlib.suppress(ValueError):  # a "YYYY-MM" date stays a string
        value = int(parts[0]) if parts[0].lstrip("-").isdigit() else float(parts[0])
    data = {"value": value, "unit": parts[1], "qualifier": parts[2] if len(parts) == 3 else "exact"}
    return claims_from_yaml_data({"claims": [{"id": "x", "text": "x", "figures": [data]}]})[0].figures[0]


@claims.command("add")
@click.option("--id", "claim_id", required=True, help="A new, unique claim id (e.g. K41).")
@click.option("--text", required=True, help="The claim, one sentence in our own words.")
@click.option("--subject", default="", help="A short label of what the claim is about.")
@click.option("--figure", "figures", multiple=True, metavar="VALUE:UNIT[:QUALIFIER]", help="Repeatable.")
@click.option("--source", default="", help="Outlet or body, and year.")
@click.option("--tag", "tags", multiple=True, help="Repeatable.")
@pass_app
def claims_add(app: AppContext, claim_id: str, text: str, subject: str, figures: tuple[str, ...], source: str,
               tags: tuple[str, ...]) -> None:
    """Add one claim."""
    try:
        claim = Claim(id=claim_id, text=text, subject=subject, figures=tuple(_figure(f) for f in figures),
                      source=source, tags=tags)
    except ClaimDataError as exc:
        raise click.UsageError(str(exc)) from exc
    with app.database().write() as session:
        if any(c.id == claim_id for c in claim_store.list_claims(session)):
            raise click.UsageError(f"claim {claim_id} exists already (edit it in a file and import it)")
        claim_store.import_claims(session, [claim])
    click.echo(f"added claim {claim_id}")
