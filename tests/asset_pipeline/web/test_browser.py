"""The verification page in a real browser: Debian's Chromium driven by selenium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from asset_pipeline.evidence.pdf import QR_PATTERN, read_pdf
from asset_pipeline.evidence.verify import verify_bytes
from tests.asset_pipeline.web.browser import (
    browser_missing,
    chromium,
    clear,
    keep,
    screenshot_checks,
    served,
    wait_for_file,
)
from tests.asset_pipeline.web.conftest import Evidence, tamper_json, write

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")


@pytest.fixture
def site(evidence: Evidence) -> Iterator[str]:
    with served(evidence.station.data_dir) as base:
        yield base


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def browser(tmp_path: Path, downloads: Path) -> Iterator[object]:
    with chromium(tmp_path / "profile", downloads) as driver:
        yield driver


def _by(kind: str):  # noqa: ANN202
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def _submit(browser, button_id: str) -> None:
    """Click a form's button and wait for the answer page (the server may be slow under load).

    The old page is marked with a window property; the answer is the first complete document
    without it. While Chromium swaps documents it can answer a query about the old page with
    "Node ... does not belong to the document" (CI saw that from selenium's staleness_of), so any
    driver error during the swap means "not yet".
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    browser.execute_script("window.__awaiting_answer = true;")
    browser.find_element(_by("ID"), button_id).click()

    def answered(driver) -> bool:  # noqa: ANN001
        return bool(
            driver.execute_script(
                "return window.__awaiting_answer !== true && document.readyState === 'complete';"
            )
        )

    WebDriverWait(browser, 60, ignored_exceptions=(WebDriverException,)).until(answered)


def _upload(browser, site: str, path: Path) -> None:
    browser.get(site + "/")
    browser.find_element(_by("ID"), "file").send_keys(str(path))
    _submit(browser, "verify")
    assert browser.find_elements(_by("ID"), "verdict"), browser.page_source[:2000]


def _visible_text(browser, element_id: str) -> str:
    element = browser.find_element(_by("ID"), element_id)
    assert element.is_displayed()
    return element.text


def test_uploading_a_valid_certificate_shows_valid(browser, site: str, evidence: Evidence) -> None:
    _upload(browser, site, evidence.certificate.pdf_path)
    verdict = _visible_text(browser, "verdict")
    assert verdict.startswith("Giltigt / Valid")
    assert _visible_text(browser, "station").startswith(evidence.station.config.station_id)
    assert _visible_text(browser, "fingerprint") == evidence.station.key.fingerprint
    assert _visible_text(browser, "in-log") == "Ja / Yes"
    png = browser.get_screenshot_as_png()
    keep(png, "valid-upload")
    seen = screenshot_checks(png)
    assert seen["content"] > 0.05  # not a blank page
    assert seen["colours"] > 50  # text is anti-aliased: a rendered page has many
    assert seen["green"] > 0.005  # the green "valid" box is drawn
    assert seen["red"] == 0


def test_uploading_a_tampered_certificate_shows_not_valid_with_the_reason(
    browser, site: str, evidence: Evidence, tmp_path: Path
) -> None:
    forged = write(
        tmp_path / "forged.json", tamper_json(evidence.certificate.json_path.read_bytes())
    )
    _upload(browser, site, forged)
    assert _visible_text(browser, "verdict").startswith("Ej giltigt / Not valid")
    reason = _visible_text(browser, "reason")
    assert "Signaturen stämmer inte" in reason
    assert "The signature does not match" in reason
    png = browser.get_screenshot_as_png()
    keep(png, "tampered-upload")
    seen = screenshot_checks(png)
    assert seen["content"] > 0.05
    assert seen["red"] > 0.005
    assert seen["green"] == 0


def test_the_qr_code_link_opens_the_certificate(browser, site: str, evidence: Evidence) -> None:
    qr = read_pdf(evidence.certificate.pdf_path.read_bytes()).qr_texts
    link = _link_from_qr(qr, site)
    browser.get(link)
    assert _visible_text(browser, "verdict").startswith("Giltigt / Valid")
    assert evidence.certificate.cert_id in _visible_text(browser, "document-id")
    keep(browser.get_screenshot_as_png(), "qr-link")
    browser.get(link.replace("h=", "h=0"))
    assert "Hittades inte / Not found" in _visible_text(browser, "error")


def _link_from_qr(texts: tuple[str, ...], site: str) -> str:
    """The QR's link: the verification URL when one is configured, else built from its id/hash."""
    for text in texts:
        if text.startswith("http"):
            return site + text[text.index("/c/") :]
        match = QR_PATTERN.match(text)
        if match:
            return f"{site}/c/{match.group(1)}?h={match.group(2)}"
    raise AssertionError(f"no certificate QR code in {texts}")


def test_reports_download_with_the_token_and_nothing_without(
    browser, site: str, evidence: Evidence, downloads: Path
) -> None:
    browser.get(site + "/reports")
    browser.find_element(_by("ID"), "token").send_keys("0" * 32)
    _submit(browser, "open")
    assert "Hittades inte / Not found" in _visible_text(browser, "error")
    assert "Åre kommun" not in browser.page_source

    browser.get(site + "/reports")
    browser.find_element(_by("ID"), "token").send_keys(evidence.token)
    _submit(browser, "open")
    assert "Åre kommun" in browser.find_element(_by("TAG_NAME"), "h1").text
    assert _visible_text(browser, "totals").startswith("1: 1 raderade / sanitized")
    keep(browser.get_screenshot_as_png(), "batch-reports")
    key = evidence.station.key.public_key
    for fmt in ("pdf", "json"):
        clear(downloads)
        button = f"//button[@value='{evidence.report_id}.{fmt}']"
        browser.find_element(_by("XPATH"), button).click()
        got = wait_for_file(downloads, f".{fmt}")
        assert got.name == f"{evidence.report_id}.{fmt}"
        assert verify_bytes(got.read_bytes(), key).ok
