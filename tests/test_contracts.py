"""Small contract tests: public API lists, error trees, help and README for every command."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import click
import pytest

import asset_pipeline.errors
import scanners
import scanners.errors
import wipe
import wipe.errors
from asset_pipeline.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("package", [wipe, scanners])
def test_all_lists_the_public_names(package) -> None:
    public = {n for n in dir(package) if not n.startswith("_") and n != "annotations"}
    public -= {n for n in public if inspect.ismodule(getattr(package, n))}
    public -= {"importlib", "Any"}
    assert set(package.__all__) == public
    for name in package.__all__:  # every lazily exported name resolves
        assert getattr(package, name) is not None


def test_lazy_exports_are_the_real_objects() -> None:
    from wipe.guard import check_writable

    assert wipe.check_writable is check_writable
    with pytest.raises(AttributeError):
        _ = wipe.no_such_name


@pytest.mark.parametrize(
    ("module", "base"),
    [
        (wipe.errors, wipe.errors.WipeError),
        (scanners.errors, scanners.errors.ScanError),
        (asset_pipeline.errors, asset_pipeline.errors.PipelineError),
    ],
)
def test_every_error_subclasses_its_package_base(module, base) -> None:
    errors = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == module.__name__
    ]
    assert errors
    for error in errors:
        assert issubclass(error, base), error
        assert error.__doc__, f"{error.__name__} has no docstring"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the root group loads its commands on demand
        command = group.get_command(ctx, name)
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from _commands(command, path)


ALL_COMMANDS = list(_commands(cli))


def test_every_command_is_found() -> None:
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert {"drives", "wipe", "process", "watch", "resume", "cert verify", "batch report"} <= names


@pytest.mark.parametrize(
    ("path", "command"), ALL_COMMANDS, ids=[" ".join(p) for p, _ in ALL_COMMANDS]
)
def test_every_command_has_help_and_is_in_the_readme(path, command) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert command.help, f"{' '.join(path)} has no docstring"
    if not isinstance(command, click.Group):
        assert "Example:" in command.help, f"{' '.join(path)} has no Example block"
    readme = (ROOT / "README.md").read_text()
    assert f"asset-pipeline {' '.join(path)}" in readme, f"{' '.join(path)} is not in the README"


def test_listing_commands_have_json() -> None:
    for path, command in ALL_COMMANDS:
        if path[-1] in ("list", "show", "drives"):
            assert any(p.name == "as_json" for p in command.params), " ".join(path)


def test_libraries_never_import_the_station() -> None:
    for package in ("scanners", "wipe"):
        for source in (ROOT / package).rglob("*.py"):
            text = source.read_text()
            assert "import asset_pipeline" not in text, source
            assert "from asset_pipeline" not in text, source


def test_cli_modules_import() -> None:
    for source in (ROOT / "asset_pipeline" / "cli").glob("*.py"):
        importlib.import_module(
            f"asset_pipeline.cli.{source.stem}"
            if source.stem != "__init__"
            else "asset_pipeline.cli"
        )
