"""`asset-pipeline device validate`: a second person accepts or rejects a sanitized device."""

from __future__ import annotations

import click

from asset_pipeline.cli.output import emit, json_option
from asset_pipeline.flow import validation
from asset_pipeline.station.context import Station


@click.group()
def device() -> None:
    """Devices in the pipeline."""


@device.command("validate")
@click.argument("device_id", type=click.IntRange(min=1))
@click.option(
    "--operator", "validator", required=True, help="The validating operator (registered)."
)
@click.option("--accept", "decision", flag_value="accept", help="Accept: issue the certificate.")
@click.option("--reject", "decision", flag_value="reject", help="Reject: the device fails.")
@click.option("--reason", default="", help="Why (required with --reject; no personal data).")
@json_option
@click.pass_obj
def validate(
    station: Station, device_id: int, validator: str, decision: str | None, reason: str,
    as_json: bool,
) -> None:  # fmt: skip
    """Accept or reject a device whose agreement asks for second-person validation.

    The device waits in post_scanned after a passed wipe, verification and a clean post-scan.
    The validator must be a registered operator other than the one who performed the
    sanitization; accepting issues the certificate with both people named on it. A device of
    a batch closed meanwhile (`batch close --force`) gets no certificate: it ends failed with
    the close reason (exit 1).

    \b
    Example:
        asset-pipeline device validate 12 --operator "Lena Holm" --accept
        asset-pipeline device validate 13 --operator "Lena Holm" --reject --reason "label torn"
    """
    if decision is None:
        raise click.UsageError("say --accept or --reject")
    station.operator_override = validator  # every event of this decision names the validator
    outcome = validation.validate(station, device_id, validator, decision, reason)
    emit(
        {
            "device_id": outcome.device_id,
            "decision": outcome.decision,
            "validated_by": outcome.validated_by,
            "state": outcome.state,
            "certificate_id": outcome.certificate_id,
            "certificate_pdf": outcome.certificate_pdf,
        },
        as_json,
    )
    if decision == "accept" and outcome.certificate_id is None:  # its batch was closed
        raise click.ClickException(f"device {device_id} {outcome.state}: {outcome.reason}")


COMMANDS = [device]
