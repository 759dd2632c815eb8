"""Take the screenshots of docs/user-guide.md from a running demo (`make run`).

    .venv/bin/python scripts/docs_screenshots.py [http://edu.localhost:8000]

Logs in as the Kampala supervisor of the demo org `edu`, starts Attendance for
Kampala, opens Send message…, the message log, the inbox and a conversation, and
saves small PNGs in docs/images/. It changes the demo's data (a new poll date).
"""

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

BASE = (
    sys.argv[1]
    if len(sys.argv) > 1
    else f"http://edu.localhost:{os.environ.get('WEB_PORT', '8000')}"
)
OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
USER, PASSWORD = "kampala@edu.example.com", "tracpro-demo"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def shot(page, name: str) -> None:
    page.screenshot(path=OUT / f"{name}.png")
    print(f"docs/images/{name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1000, "height": 640})
        page.goto(f"{BASE}/users/login/")
        page.get_by_label("Email").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        page.get_by_role("link", name="Start Attendance").click()
        expect(page.locator("#audience-count")).to_contain_text("contacts")
        shot(page, "start-poll")
        page.get_by_role("button", name="Start the poll").click()
        expect(page.locator("#start-status .message-status")).to_contain_text(
            "Started", timeout=30_000
        )
        shot(page, "poll-date-started")

        page.locator("#content").get_by_role("link", name="Participation").click()
        page.get_by_role("link", name="Send message…").click()
        page.get_by_label("Message").fill("Please send today's attendance figures.")
        shot(page, "send-message")

        page.goto(f"{BASE}/message/")
        shot(page, "message-log")
        page.goto(f"{BASE}/inboxmessage/")
        shot(page, "inbox")
        page.locator(".list-group-item a").first.click()
        expect(page).to_have_url(re.compile(r"/inboxmessage/conversation/\d+/"))
        shot(page, "conversation")
        browser.close()


if __name__ == "__main__":
    main()
