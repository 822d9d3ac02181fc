"""Browser: the exam office unlocks a batch, the coordinator sees a partial transmission,
validates and follows the delivery report (R-VAL-3, R-VAL-6, R-VAL-9)."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_unlock_then_validate(page, browser_login, world, standins, worker, tmp_path):
    browser_login(world["officer"])
    page.goto("/validation/FRA-ECRIT/lots/")
    row = page.get_by_test_id("batch-L-0002")
    expect(row).to_have_attribute("data-locked", "true")
    page.get_by_test_id("unlock-L-0002").click()
    expect(page.get_by_test_id("batch-L-0002")).to_have_attribute("data-locked", "false")
    page.screenshot(path=str(tmp_path / "batches.png"), full_page=True)
    page.get_by_role("button", name="Se déconnecter").click()

    browser_login(world["coordinator"])
    page.goto("/validation/FRA-ECRIT/")
    expect(page.get_by_test_id("mode-badge")).to_have_text("Transmission partielle")
    expect(page.locator('[data-reason="unlocked_batch"]')).to_contain_text("2")
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
    page.get_by_test_id("confirm").click()
    page.wait_for_url(re.compile(r"/validation/transmissions/\d+/$"))
    worker.run()  # the task worker delivers; the report, polling, shows the end by itself
    expect(page.get_by_test_id("status")).to_have_text("Transmission terminée", timeout=10000)
    results = page.get_by_test_id("system-results")
    expect(results.locator('[data-count="delivered"]')).to_have_text("2")
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert standins.marks().keys() == {"0000000001", "0000000002"}
