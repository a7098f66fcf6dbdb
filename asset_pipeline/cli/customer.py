"""`asset-pipeline customer add|list`."""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Customer, batches


def customer_row(customer: Customer) -> dict[str, object]:
    """The fields shown for a customer (table and JSON)."""
    return {
        "id": customer.id,
        "name": customer.name,
        "org_number": customer.org_number,
        "contact": customer.contact,
        "created_at": customer.created_at,
    }


@click.group()
def customer() -> None:
    """Customers: the controllers whose devices the station handles."""


@customer.command("add")
@click.argument("name")
@click.option("--org-number", default="", help="Organisationsnummer, e.g. 556036-0793.")
@click.option("--contact", default="", help="Contact person or address at the customer.")
@json_option
@click.pass_obj
def add(station: Station, name: str, org_number: str, contact: str, as_json: bool) -> None:
    """Add a customer (names are unique).

    \b
    Example:
        asset-pipeline customer add "Kommunen AB" --org-number 212000-0142
    """
    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="NAME")
    with station.session() as session:
        row = customer_row(batches.add_customer(session, name.strip(), org_number, contact))
    emit(row, as_json)


@customer.command("list")
@json_option
@click.pass_obj
def list_(station: Station, as_json: bool) -> None:
    """List customers.

    \b
    Example:
        asset-pipeline customer list --json
    """
    with station.session() as session:
        rows = [customer_row(c) for c in batches.list_customers(session)]
    emit(rows, as_json, columns=("id", "name", "org_number", "contact"), title="Customers")


COMMANDS = [customer]
