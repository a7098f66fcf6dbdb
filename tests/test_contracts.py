"""Small contract tests: public API lists, error trees, help and README for every command."""

from __future__ import annotations

import ast
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
    public = {n for n in vars(package) if not n.startswith("_") and n != "annotations"}
    public |= set(getattr(package, "_HOMES", ()))  # names a package imports on first use
    public -= {n for n in public if inspect.ismodule(getattr(package, n))}
    assert sorted(package.__all__) == sorted(public)
    for name in package.__all__:
        assert getattr(package, name) is not None


def test_exports_are_the_real_objects() -> None:
    from scanners.scan import scan
    from wipe.guard import check_writable
    from wipe.overwrite import overwrite

    assert wipe.check_writable is check_writable
    assert wipe.overwrite is overwrite  # a function, though a submodule has the same name
    assert scanners.scan is scan
    with pytest.raises(AttributeError):
        _ = wipe.no_such_name


def _imports(source: Path) -> list[str]:
    """Every module a source file imports (absolute names; relative imports are refused)."""
    tree = ast.parse(source.read_text(), filename=str(source))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{source}: relative import"
            found.append(node.module or "")
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("scanners", ("wipe", "asset_pipeline")), ("wipe", ("scanners", "asset_pipeline"))],
)
def test_libraries_import_neither_each_other_nor_the_station(package, forbidden) -> None:
    for source in (ROOT / package).rglob("*.py"):
        for module in _imports(source):
            assert module.split(".")[0] not in forbidden, f"{source} imports {module}"


def test_the_station_uses_only_the_libraries_exported_names() -> None:
    # `scanners.text` (Presidio + spaCy) is public but kept out of `scanners` so that the raw
    # path does not load it; everything else comes through the package's own names.
    allowed = {"scanners", "wipe", "scanners.text"}
    for source in (ROOT / "asset_pipeline").rglob("*.py"):
        for module in _imports(source):
            if module.split(".")[0] in ("scanners", "wipe"):
                assert module in allowed, f"{source} imports {module}"


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


def test_cli_modules_import() -> None:
    for source in (ROOT / "asset_pipeline" / "cli").glob("*.py"):
        importlib.import_module(
            f"asset_pipeline.cli.{source.stem}"
            if source.stem != "__init__"
            else "asset_pipeline.cli"
        )
