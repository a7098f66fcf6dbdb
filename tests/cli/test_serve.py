"""`asset-pipeline serve`: what it refuses in one line, and its worker processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.asset_pipeline.web.browser import free_port, served


def _serve(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(home)}
    env.pop("ASSET_PIPELINE_DB_URL", None)
    return subprocess.run([sys.executable, "-m", "asset_pipeline", "serve", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=timeout)  # fmt: skip


def test_serve_without_a_database_creates_none(tmp_path: Path) -> None:
    result = _serve(tmp_path / "nothing")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: no station database at sqlite:///{tmp_path / 'nothing' / 'station.db'}\n"
    )
    assert not (tmp_path / "nothing").exists()


def test_serve_on_a_port_in_use_says_so(station, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _serve(station.data_dir, "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert result.stderr.count("\n") == 1


def test_serve_with_two_worker_processes_answers(station) -> None:
    with served(station.data_dir, "--workers", "2") as base:
        for _ in range(4):
            with urllib.request.urlopen(base + "/", timeout=10) as page:
                assert page.status == 200
                assert "Verifiera" in page.read().decode()
    assert free_port()
