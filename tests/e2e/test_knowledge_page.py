"""The Knowledge page in a real browser: an admin drops files and watches them become ready
without reloading, creates, renames and deletes collections, and the page fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from knowledge.models import Collection, Document
from knowledge.uploads import document_upload
from tests.support import files

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
    # The upload's "parking.md: queued" line goes once the row says Ready; the refusal stays.
    expect(page.locator(".outcomes li", has_text="parking.md")).to_have_count(0)
    expect(page.locator(".outcomes")).to_contain_text("setup.exe")

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    expect(page.locator(f"#collection-{handbook.pk} .document-count")).to_have_text("0")


def console_errors(page) -> list[str]:
    """Every console error (htmx logs its swap errors there) and uncaught page error. The
    browser's own request for /favicon.ico (the site has none, a 404) is not the page's."""
    errors: list[str] = []

    def console(message) -> None:
        where = message.location.get("url", "")
        if message.type == "error" and not where.endswith("/favicon.ico"):
            errors.append(f"{message.text} at {where}")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_creating_a_collection_next_to_others_logs_no_console_error(
    live_url, page, alice, handbook
):
    errors = console_errors(page)
    sign_in(page, live_url, "alice", "pw-alice")
    page.goto(f"{live_url}/knowledge/")
    expect(page.locator("#live")).to_have_text("Live", timeout=30_000)

    page.locator(".new-collection summary").click()
    page.fill("#collection-form input[name=name]", "Runbooks")
    page.get_by_role("button", name="Create collection").click()

    expect(page.locator(".collection h2", has_text="Runbooks")).to_have_count(1)
    created = Collection.objects.get(name="Runbooks")
    expect(page.locator(f"#collection-{created.pk} h2")).to_have_text("Runbooks")
    expect(page.locator("#no-collections")).to_be_hidden()
    assert errors == []


def test_a_collection_is_renamed_and_deleted_after_a_confirm_that_says_what_goes(
    live_url, page, alice, handbook, tmp_path
):
    with files.write_markdown(tmp_path / "a.md").open("rb") as content:
        document_upload(collection=handbook, content=content, original_name="a.md", enqueue=False)
    errors = console_errors(page)
    sign_in(page, live_url, "alice", "pw-alice")
    page.goto(f"{live_url}/knowledge/")
    card = page.locator(f"#collection-{handbook.pk}")

    card.locator(".collection-settings summary").click()
    card.locator(".rename input[name=name]").fill("Staff handbook")
    card.get_by_role("button", name="Rename").click()
    expect(card.locator("h2")).to_have_text("Staff handbook")
    assert Collection.objects.get(pk=handbook.pk).name == "Staff handbook"

    card.locator(".collection-settings summary").click()
    confirms: list[str] = []

    def answer(dialog) -> None:
        confirms.append(dialog.message)
        dialog.accept()

    page.once("dialog", answer)
    card.get_by_role("button", name="Delete collection").click()
    expect(card).to_have_count(0)
    expect(page.locator("#no-collections")).to_be_visible()
    assert not Collection.objects.filter(pk=handbook.pk).exists()
    assert not Document.objects.exists()
    (message,) = confirms
    for what in (
        "Staff handbook",
        "1 document(s)",
        "files",
        "chunks",
        "cached",
        "cannot be undone",
    ):
        assert what in message, what
    assert errors == []


def test_the_knowledge_page_fits_a_phone(live_url, page, alice, handbook, hr, tmp_path):
    with files.write_markdown(tmp_path / "a.md").open("rb") as content:
        document_upload(
            collection=hr,
            content=content,
            original_name="a-rather-long-file-name-for-a-phone-screen.md",
            enqueue=False,
        )
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_url, "alice", "pw-alice")
    page.goto(f"{live_url}/knowledge/")
    expect(page.locator("#live")).to_have_text("Live", timeout=30_000)

    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1] == 390, f"the page scrolls sideways: {widths}"
    sign_out = page.get_by_role("button", name="Sign out")
    box = sign_out.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    sign_out.click()
    expect(page).to_have_url(f"{live_url}/accounts/login/")
