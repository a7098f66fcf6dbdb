"""Debian's Chromium driven by selenium, and the real `serve` command for it to open.

Nothing is downloaded: the browser and its driver are the Debian packages `chromium` and
`chromium-driver` (`.ci/run` installs them); the flags keep Chromium off the network (this
machine has none, and Chromium's background fetches would be refused many times a second).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,1600",
)


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return "Debian's chromium and chromium-driver are not installed (see .ci/run)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


@contextmanager
def chromium(profile: Path, downloads: Path) -> Iterator[object]:
    """A headless Chromium session with its own empty profile and download directory."""
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager look for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(data_dir: Path, *args: str) -> Iterator[str]:
    """`asset-pipeline serve ARGS` on the station in `data_dir`; yields its base URL."""
    port = free_port()
    env = {**os.environ, "ASSET_PIPELINE_HOME": str(data_dir)}
    env.pop("ASSET_PIPELINE_DB_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "asset_pipeline", "serve", "--port", str(port), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc)
        yield base
    finally:
        proc.terminate()  # uvicorn stops its worker processes too
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_up(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited: {proc.stderr.read().decode(errors='replace')}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("serve did not answer within 30 s")


def screenshot_checks(png: bytes) -> dict[str, float]:
    """How much of a screenshot is not background, and how much is the verdict's colours."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    raw = image.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    total = len(pixels)
    background = {(246, 247, 249), (255, 255, 255)}
    green = sum(1 for p in pixels if p == (230, 244, 234))  # .verdict.valid background
    red = sum(1 for p in pixels if p == (252, 232, 230))  # .verdict.invalid background
    return {
        "content": sum(1 for p in pixels if p not in background) / total,
        "colours": len(set(pixels)),
        "green": green / total,
        "red": red / total,
    }


def keep(png: bytes, name: str) -> Path:
    """Save a screenshot under $AP_SCREENSHOTS (to look at), else a temp dir; its path."""
    directory = Path(os.environ.get("AP_SCREENSHOTS", "/tmp/asset-pipeline-screenshots"))
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    path.write_bytes(png)
    return path


def wait_for_file(directory: Path, suffix: str, timeout: float = 20) -> Path:
    """The first completed download ending in `suffix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        if done:
            time.sleep(0.2)
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no {suffix} download in {directory}: {list(directory.iterdir())}")


def clear(directory: Path) -> None:
    """Empty a download directory."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
