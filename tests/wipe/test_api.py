"""The wipe error tree as documented, and the sanitizer registry's promises.

`__all__` itself is checked for every library in tests/test_contracts.py.
"""

from __future__ import annotations

import inspect

import pytest

import wipe
import wipe.errors
from wipe.firmware import SANITIZERS, all_methods
from wipe.plan import MEDIA


@pytest.mark.parametrize(
    "cls",
    [c for c in vars(wipe.errors).values() if inspect.isclass(c) and issubclass(c, Exception)],
)
def test_every_error_subclasses_wipe_error(cls: type) -> None:
    assert issubclass(cls, wipe.WipeError)
    assert cls.__doc__
    assert cls.__name__ in wipe.errors.__doc__


def test_methods_are_unique_and_well_formed() -> None:
    names = [m.name for m in all_methods()]
    assert len(names) == len(set(names))
    for method in all_methods():
        assert method.name.startswith(method.family + "-")
        assert set(method.purge_on) <= set(MEDIA)
        assert method.expected in ("zeros", "ones", "changed", "any")


@pytest.mark.parametrize("cls", SANITIZERS)
def test_every_sanitizer_fills_the_hooks(cls: type) -> None:
    for hook in ("_capabilities", "_start", "_status", "handles"):
        assert hook in vars(cls)  # defined by the sanitizer itself, not inherited
    assert cls.METHODS
    assert all(m.family == cls.family for m in cls.METHODS)


def test_sanitizer_choice_by_transport() -> None:
    assert type(wipe.sanitizer_for("/dev/nvme0n1", "nvme")).__name__ == "NvmeSanitizer"
    assert type(wipe.sanitizer_for("/dev/sda", "sata")).__name__ == "AtaSanitizer"
    assert type(wipe.sanitizer_for("/dev/sdb", "sas")).__name__ == "ScsiSanitizer"
    for transport in ("loop", "virtio", "usb", "mmc", "image"):
        assert wipe.sanitizer_for("/dev/x", transport) is None
