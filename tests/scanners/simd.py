"""Run Python code in a child process where scanners._hot takes a narrower SIMD path."""

from __future__ import annotations

import os
import subprocess
import sys

# Environment that keeps scanners._hot from its wider paths: AVX-512, then AVX2.
PATHS = {"avx2": {"ASSET_PIPELINE_NO_AVX512": "1"}, "sse2": {"ASSET_PIPELINE_NO_AVX2": "1"}}


def run_on(path: str, code: str) -> str:
    """What `code` prints, run with scanners._hot limited to `path` ("avx2" or "sse2")."""
    env = {**os.environ, **PATHS[path]}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()
