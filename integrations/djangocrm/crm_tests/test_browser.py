"""One complaint registered and handled through the CRM's pages in a real headless Chromium
(Debian's ``chromium``, driven by Playwright): signed in on the CRM's login page as a sales
manager, from the contact's page to the complaint's page and its action buttons. The page is
photographed, and so is the contact's page with the complaint in its list;
``CK_DJANGOCRM_SCREENSHOTS=folder`` also keeps both pictures there (docs/images/djangocrm-*.png
were taken so).

Skipped without chromium, unless COMPLAINTKIT_REQUIRE_BROWSER=1 (CI), where it fails."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from PIL import Image

from complaintkit import Status
from complaintkit_djangocrm.desks import opened
from complaintkit_djangocrm.models import CrmComplaint

from .conftest import MANAGER, PASSWORD, require_browser

pytestmark = pytest.mark.browser

#: Run as root, offline, with nothing kept between runs.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEXT = "洗衣机5月3日送货，第一次使用就漏水，地板泡坏了。要求换货并赔偿地板。"


def test_a_complaint_is_registered_and_handled_through_the_crm_pages_in_chromium(
    live_server: Any, manager: Any, customer: Any, tmp_path: Path
) -> None:
    chromium = require_browser()
    from playwright.sync_api import sync_playwright

    _company, contact = customer
    contact_page = reverse("site:crm_contact_change", args=[contact.pk])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(f"{live_server.url}{reverse('site:login')}?next={contact_page}")
            page.fill("#id_username", MANAGER)
            page.fill("#id_password", PASSWORD)
            page.press("#id_password", "Enter")
            page.wait_for_url(f"**{contact_page}")

            page.click("#ck-register-complaint")
            assert page.input_value("#id_name") == "Wei Li"
            assert page.input_value("#id_phone") == "+86 138 0013 8000"
            assert page.inner_text("#ck-customer-id") == str(contact.pk)
            page.fill("#id_title", "Washing machine leaks · 洗衣机漏水")
            page.fill("#id_text", TEXT)
            page.select_option("#id_remedy_sought", "replacement")
            page.click("input[name=_register]")
            page.wait_for_selector("#ck-status")
            assert page.inner_text("#ck-status") == "received · 已受理"

            for action in ("acknowledge", "assess", "investigate"):
                page.click(f"form[data-action={action}] input[type=submit]")
                page.wait_for_selector(f"form[data-action={action}]", state="detached")
            page.fill("form[data-action=propose] input[name=solution]", "换新机，赔偿地板 800 元")
            page.click("form[data-action=propose] input[type=submit]")
            page.wait_for_selector("form[data-action=accept]")

            assert page.inner_text("#ck-status") == "solution proposed · 已提出方案"
            actors = page.locator("#ck-history td.ck-actor").all_inner_texts()
            assert actors and set(actors) == {MANAGER}
            assert len(actors) >= 5  # received, acknowledge, assess, investigate, propose
            buttons = page.locator("#ck-actions input[type=submit]").evaluate_all(
                "els => els.map(e => e.value)"
            )
            assert buttons == ["Customer accepted", "Customer declined", "Withdrawn by customer"]
            labels = page.inner_text("#ck-labels")
            assert "Cause · 投诉原因" in labels

            shot = tmp_path / "djangocrm-complaint.png"
            page.screenshot(path=str(shot), full_page=True)

            page.click("#ck-contact")
            page.wait_for_selector("#ck-complaints")
            panel = page.inner_text("#ck-complaints")
            assert "solution proposed · 已提出方案" in panel
            assert "Washing machine leaks · 洗衣机漏水" in panel
            page.screenshot(path=str(tmp_path / "djangocrm-contact.png"), full_page=True)
        finally:
            browser.close()

    link = CrmComplaint.objects.get(contact=contact)
    _host, store = opened()
    stored = store.get(link.reference)
    assert stored.status is Status.SOLUTION_PROPOSED
    assert {e.actor for e in stored.history} == {MANAGER}

    with Image.open(shot) as image:
        width, height = image.size
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert width == 1280 and height >= 900
    assert colours is not None and len(colours) > 50  # a drawn page, not a blank one
    keep = os.environ.get("CK_DJANGOCRM_SCREENSHOTS")
    if keep:
        for name in ("djangocrm-complaint.png", "djangocrm-contact.png"):
            shutil.copyfile(tmp_path / name, Path(keep) / name)
