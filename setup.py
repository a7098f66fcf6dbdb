"""Build hook for the optional C extension; everything else is in pyproject.toml.

`scanners._hot` (the raw detectors' hot path) needs a C compiler and the Python headers (Debian:
gcc and python3-dev). Where OpenSSL's headers are installed too (libssl-dev), its keyed digest
uses OpenSSL's SHA-256 (the CPU's SHA instructions); else portable C rounds. Without a compiler
the build warns, skips the extension, and `scanners.hot` uses the pure-Python twin, which gives
the same findings.
"""

import ctypes.util
import sysconfig
from pathlib import Path

from setuptools import Extension, setup


def _installed(header: str, library: str) -> bool:
    """Whether the system has `header` (under an include directory) and the shared `library`."""
    include = Path(sysconfig.get_config_var("INCLUDEDIR") or "/usr/include")
    headers = any((d / header).exists() for d in (include, Path("/usr/include")))
    return headers and ctypes.util.find_library(library) is not None


OPENSSL = _installed("openssl/sha.h", "crypto")
# `scanners._hs`: hyperscan through the system's libhs (Debian: libhyperscan-dev), matches
# collected in C; without it the `hyperscan` binding scans, with a Python call a match.
HS = (
    [
        Extension(
            "scanners._hs",
            ["scanners/_hs.c"],
            optional=True,
            libraries=["hs"],
            extra_compile_args=["-O2"],
        )
    ]
    if _installed("hs/hs.h", "hs")
    else []
)
setup(
    ext_modules=[
        *HS,
        Extension(
            "scanners._hot",
            [
                "scanners/_hot.c",
                "scanners/_confirm.c",
                "scanners/_names.c",
                "scanners/_rows.c",
                "scanners/_tables.c",
            ],
            depends=["scanners/_hot.h"],
            optional=True,
            define_macros=[("HAVE_OPENSSL", "1"), ("OPENSSL_SUPPRESS_DEPRECATED", "1")]
            if OPENSSL
            else [],
            libraries=["crypto"] if OPENSSL else [],
            extra_compile_args=["-O2"],
        ),
    ]
)
