"""An admin drops files on a collection and watches them become ready without reloading."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from knowledge.models import Document

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DROP = """() => {
  const files = new DataTransfer();
  files.items.add(new File(["# Parking\\n\\nVisitors park on level -2.\\n"], "parking.md"));
  files.items.add(new File(["MZ\\u0000\\u0001"], "setup.exe"));
  const zone = document.querySelector(".dropzone");
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
}"""


def sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_dropped_files_show_live_progress_until_ready(
    live_url, page, celery_worker, alice, handbook
):
    sign_in(page, live_url, "alice", "pw-alice")
    page.goto(f"{live_url}/knowledge/")
    expect(page.locator("#live")).to_have_text("Live", timeout=30_000)

    page.evaluate(DROP)

    expect(page.locator(".outcomes")).to_contain_text("setup.exe: Unsupported file type (.exe).")
    document = Document.objects.get(original_name="parking.md")
    row = page.locator(f"#document-{document.pk}")
    expect(row.locator(".status")).to_have_text("Ready", timeout=120_000)
    expect(row.locator("progress")).to_have_attribute("value", "100")
    expect(row.locator(".chunks")).to_have_text("1")
    expect(page.locator(f"#collection-{handbook.pk} .document-count")).to_have_text("1")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    expect(page.locator(f"#collection-{handbook.pk} .document-count")).to_have_text("0")
