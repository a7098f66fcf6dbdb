"""Run Python code in a child process where scanners._hot takes its SSE2 paths (no AVX2)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_without_avx2(code: str) -> str:
    """What `code` prints, run with ASSET_PIPELINE_NO_AVX2 set."""
    env = {**os.environ, "ASSET_PIPELINE_NO_AVX2": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()
