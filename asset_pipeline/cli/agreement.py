"""`asset-pipeline agreement add|list`: the customers' data processing agreements."""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.station.context import Station
from asset_pipeline.storage import Agreement, batches


def agreement_row(agreement: Agreement) -> dict[str, object]:
    """The fields shown for an agreement (table and JSON)."""
    return {
        "id": agreement.id,
        "reference": agreement.reference,
        "customer": agreement.customer.name,
        "controller_name": agreement.controller_name,
        "controller_org_number": agreement.controller_org_number,
        "required_level": agreement.required_level,
        "discovery_instructed": agreement.discovery_instructed,
        "retention_years": agreement.retention_years,
        "validation": agreement.validation,
        "created_at": agreement.created_at,
    }


@click.group()
def agreement() -> None:
    """Data processing agreements (DPAs) that devices are handled under."""


@agreement.command("add")
@click.argument("reference")
@click.option("--customer", "customer_key", required=True, help="Customer id or name.")
@click.option(
    "--level",
    type=click.Choice(batches.LEVELS),
    required=True,
    help="Sanitization level the DPA requires (NIST SP 800-88).",
)
@click.option(
    "--discovery/--no-discovery",
    default=False,
    help="Whether the controller instructs a personal-data scan before the wipe.",
)
@click.option(
    "--retention-years",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    help="How long certificates and logs are kept.",
)
@click.option(
    "--validation",
    type=click.Choice(batches.VALIDATIONS),
    default="operator",
    show_default=True,
    help="Who accepts a sanitized device before its certificate: the operator who ran it, or "
    "a second, different operator (`device validate`).",
)
@click.option("--controller-name", default="", help="Controller (default: the customer).")
@click.option("--controller-org-number", default="", help="Controller's organisationsnummer.")
@json_option
@click.pass_obj
def add(
    station: Station,
    reference: str,
    customer_key: str,
    level: str,
    discovery: bool,
    retention_years: int,
    controller_name: str,
    controller_org_number: str,
    validation: str,
    as_json: bool,
) -> None:
    """Record a customer's DPA under its reference.

    \b
    Example:
        asset-pipeline agreement add DPA-2026-01 --customer "Kommunen AB" --level purge --discovery
    """
    with station.session() as session:
        customer = batches.find_customer(session, customer_key)
        row = agreement_row(
            batches.add_agreement(
                session,
                customer=customer,
                reference=reference,
                required_level=level,
                discovery_instructed=discovery,
                retention_years=retention_years,
                controller_name=controller_name,
                controller_org_number=controller_org_number,
                validation=validation,
            )
        )
    emit(row, as_json)


@agreement.command("list")
@click.option("--customer", "customer_key", default=None, help="Only this customer's (id or name).")
@json_option
@click.pass_obj
def list_(station: Station, customer_key: str | None, as_json: bool) -> None:
    """List agreements.

    \b
    Example:
        asset-pipeline agreement list --customer "Kommunen AB" --json
    """
    with station.session() as session:
        customer = batches.find_customer(session, customer_key) if customer_key else None
        rows = [agreement_row(a) for a in batches.list_agreements(session, customer)]
    emit(
        rows,
        as_json,
        columns=(
            "id",
            "reference",
            "customer",
            "required_level",
            "discovery_instructed",
            "retention_years",
            "validation",
        ),
        title="Agreements",
    )


COMMANDS = [agreement]
