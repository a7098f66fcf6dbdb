"""Build hook for the optional C extension; everything else is in pyproject.toml.

`scanners._hot` (the raw detectors' hot path) needs a C compiler and the Python headers (Debian:
gcc and python3-dev). Without them the build warns, skips it, and `scanners.hot` uses its
pure-Python twin, which gives the same findings.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("scanners._hot", ["scanners/_hot.c"], optional=True, extra_compile_args=["-O2"])
    ]
)
