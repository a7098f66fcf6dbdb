"""`asset-pipeline operator add|list`: the people named on certificates.

(The module is not called `operator.py`: that one holds the options shared by the commands an
operator runs at the station.)
"""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.evidence import audit
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Operator
from asset_pipeline.storage import operators as store


def operator_row(person: Operator) -> dict[str, object]:
    """The fields shown for an operator (table and JSON)."""
    return {
        "id": person.id,
        "name": person.name,
        "title": person.title,
        "contact": person.contact,
        "created_at": person.created_at,
    }


@click.group("operator")
def operator() -> None:
    """People who run and validate sanitizations (named on every certificate)."""


@operator.command("add")
@click.argument("name")
@click.option("--title", required=True, help="Job title, printed on certificates.")
@click.option("--contact", required=True, help="Work phone or e-mail, printed on certificates.")
@json_option
@click.pass_obj
def add(station: Station, name: str, title: str, contact: str, as_json: bool) -> None:
    """Register an operator; certificates name the operator who performed and who validated.

    \b
    Example:
        asset-pipeline operator add "Anna Berg" --title Tekniker --contact "+46 60 123 45 67"
    """
    try:
        with station.session() as session:
            person = store.add_operator(session, name, title=title, contact=contact)
            audit.append_event(
                session,
                station_id=station.config.station_id,
                operator=station.operator,
                event_type="operator.added",
                payload={"operator_id": person.id},
            )
            row = operator_row(person)
    except ValueError as e:
        raise click.BadParameter(str(e)) from e
    emit(row, as_json)


@operator.command("list")
@json_option
@click.pass_obj
def list_(station: Station, as_json: bool) -> None:
    """List the registered operators.

    \b
    Example:
        asset-pipeline operator list --json
    """
    with station.session() as session:
        rows = [operator_row(p) for p in store.list_operators(session)]
    emit(rows, as_json, columns=("id", "name", "title", "contact"), title="Operators")


COMMANDS = [operator]
