"""A person makes an API token in the browser, a bot uses it, and revoking it cuts the bot off.

The bot is the reference client (`python -m chatbot.client`) in a process of its own,
against the same real Daphne the browser uses.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from accounts.models import ApiToken
from chatbot.models import Feedback
from tests.conftest import ROOT
from tests.e2e.test_chat_page import sign_in
from tests.support.corpus import HANDBOOK_VACATION, ingest_text

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vacation_policy(handbook):
    return ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)


def test_a_token_made_in_the_browser_serves_the_reference_client_until_it_is_revoked(
    vacation_policy, live_url, page, dave
):
    sign_in(page, live_url, "dave", "pw-dave")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Slack bridge")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").inner_text()
    assert token.startswith("dct_")
    # Shown once: a reload shows the row, not the secret.
    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.locator("table.tokens")).to_contain_text("Slack bridge")
    expect(page.locator("table.tokens")).to_contain_text("never")  # not used yet

    ws_url = live_url.replace("http://", "ws://") + "/ws/chat/"
    bot = subprocess.run(
        [sys.executable, "-m", "chatbot.client", "--url", ws_url, "--token", token],
        input="How many vacation days do full-time employees get?\n/down Say who it is for\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert bot.returncode == 0, bot.stderr
    assert "28" in bot.stdout and "Vacation and leave" in bot.stdout  # the answer, its source
    assert "feedback saved" in bot.stdout
    rated = Feedback.objects.get()
    assert (rated.user, rated.rating, rated.comment) == (dave, "down", "Say who it is for")

    page.reload()
    expect(page.locator("table.tokens tbody tr").first).not_to_contain_text("never")

    with connect(ws_url, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        assert json.loads(socket.recv(timeout=30))["type"] == "hello"
        page.get_by_role("button", name="Revoke Slack bridge").click()
        expect(page.locator("table.tokens")).to_contain_text("No tokens yet.")
        # The bot's open socket is told and closed, without asking anything.
        refused = json.loads(socket.recv(timeout=30))
        assert (refused["type"], refused["code"]) == ("error", "unauthorized")
    assert not ApiToken.objects.exists()
