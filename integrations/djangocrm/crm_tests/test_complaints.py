"""Complaints registered and handled through DjangoCRM's own pages, with Django's test client
against the real CRM (its URLs, admin sites, permissions and database), and read back from
complaintkit's store in the same database."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from complaintkit import ComplaintFilter, Status
from complaintkit_djangocrm.desks import opened
from complaintkit_djangocrm.models import CrmComplaint

TEXT = "The washing machine delivered on 3 May leaks; 洗衣机漏水，要求换货。"


def _register(client: Client, url: str, **extra: str) -> Any:
    """Post the registration form as the browser does: its filled-in fields, and the text."""
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"text": TEXT, "title": "Leaking washing machine", "channel": "phone"})
    data.update(extra)
    return client.post(url, data)


def _register_url(model: str, pk: int) -> str:
    return reverse(f"site:crm_{model}_register_complaint", args=[pk])


def _registered(client: Client, manager: Any, contact: Any, **extra: str) -> CrmComplaint:
    """The manager signed in and a complaint registered from ``contact``: its CRM link."""
    client.force_login(manager)
    _register(client, _register_url("contact", contact.pk), **extra)
    return CrmComplaint.objects.get(contact=contact)


def _page(link: CrmComplaint) -> str:
    return reverse("site:complaintkit_djangocrm_crmcomplaint_change", args=[link.pk])


def _transition(client: Client, link: CrmComplaint, action: str, **extra: Any) -> Any:
    url = reverse("site:complaintkit_djangocrm_crmcomplaint_transition", args=[link.pk])
    return client.post(url, {"action": action, **extra}, follow=True)


def test_the_contact_page_offers_register_complaint_with_the_complainant_filled(
    client: Client, manager: Any, customer: Any
) -> None:
    _company, contact = customer
    client.force_login(manager)
    page = client.get(reverse("site:crm_contact_change", args=[contact.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="ck-register-complaint"' in html
    assert _register_url("contact", contact.pk) in html
    assert "No complaints yet." in html

    form = client.get(_register_url("contact", contact.pk))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="Wei Li"' in html
    assert 'value="+86 138 0013 8000"' in html
    assert 'value="li.wei@acme.example"' in html
    assert f'<div class="readonly" id="ck-customer-id">{contact.pk}</div>' in html


def test_a_complaint_registered_from_a_contact_is_stored_by_complaintkit_in_the_crm_database(
    client: Client, manager: Any, customer: Any
) -> None:
    company, contact = customer
    client.force_login(manager)
    response = _register(client, _register_url("contact", contact.pk), remedy_sought="replacement")
    link = CrmComplaint.objects.get(contact=contact)
    assert response.status_code == 302
    assert response["Location"] == _page(link)
    assert link.company == company
    assert link.registered_by == manager

    _host, store = opened()
    assert store.url.startswith(("sqlite://", "postgresql://"))
    stored = store.get(link.reference)
    assert stored.text == TEXT
    assert stored.complainant.name == "Wei Li"
    assert stored.complainant.phone == "+86 138 0013 8000"
    assert stored.complainant.email == "li.wei@acme.example"
    assert stored.complainant.customer_id == str(contact.pk)
    assert stored.custom["crm_contact_id"] == contact.pk
    assert stored.status is Status.RECEIVED
    assert stored.history[0].actor == manager.username
    # The complainant's earlier complaints are found by the contact id.
    found = list(store.find(ComplaintFilter(complainant=str(contact.pk))))
    assert [c.reference for c in found] == [link.reference]


def test_transitions_from_the_complaint_page_record_the_crm_user_as_actor(
    client: Client, manager: Any, customer: Any
) -> None:
    _company, contact = customer
    link = _registered(client, manager, contact)

    page = client.get(_page(link)).content.decode()
    assert 'id="ck-status">received · 已受理<' in page
    assert re.search(r'data-action="acknowledge"', page)
    assert 'data-action="close"' not in page  # not allowed from "received"
    deadlines = page.split('id="ck-deadlines"')[1].split("</table>")[0]
    assert "<td>acknowledge · 确认受理</td>" in deadlines
    assert "<td>open, within due · 处理中·未超时</td>" in deadlines

    page = _transition(client, link, "acknowledge").content.decode()
    assert f"Complaint {link.reference}: Acknowledge done." in page
    assert 'id="ck-status">acknowledged · 已确认<' in page
    assert 'data-action="assess"' in page and 'data-action="acknowledge"' not in page
    deadlines = page.split('id="ck-deadlines"')[1].split("</table>")[0]
    assert deadlines.count("<td>met · 已达成</td>") == 1  # acknowledge is met, resolve is not

    _transition(client, link, "assess")
    _transition(client, link, "investigate")
    page = _transition(client, link, "propose", solution="Replace the machine").content.decode()
    assert 'id="ck-status">solution proposed · 已提出方案<' in page

    _host, store = opened()
    stored = store.get(link.reference)
    assert stored.status is Status.SOLUTION_PROPOSED
    assert stored.solution == "Replace the machine"
    moves = [(e.actor, e.data.get("to")) for e in stored.history if "to" in e.data]
    assert ("Andrew.Manager.Global", "acknowledged") in moves
    assert ("Andrew.Manager.Global", "solution_proposed") in moves
    history = page.split('id="ck-history"')[1]
    assert '<td class="ck-actor">Andrew.Manager.Global</td><td>acknowledge</td>' in history
    assert "received → acknowledged" in history


def test_an_action_not_allowed_is_refused_with_complaintkits_words_and_changes_nothing(
    client: Client, manager: Any, customer: Any
) -> None:
    _company, contact = customer
    link = _registered(client, manager, contact)
    _host, store = opened()
    before = store.get(link.reference)

    page = _transition(client, link, "close").content.decode()
    assert (
        f'<li class="error">Cannot close complaint {link.reference}: it is received; allowed '
        "from here: acknowledge, assess, withdraw, reject</li>"
    ) in page
    page = _transition(client, link, "reject").content.decode()  # needs a reason
    assert f"Cannot reject complaint {link.reference}: a reason is required" in page
    assert store.get(link.reference).version == before.version


def test_a_label_set_by_hand_shows_its_english_and_chinese_names(
    client: Client, manager: Any, customer: Any
) -> None:
    _company, contact = customer
    link = _registered(client, manager, contact)
    url = reverse("site:complaintkit_djangocrm_crmcomplaint_label", args=[link.pk])
    page = client.post(url, {"label": "severity:serious", "reason": "safety"}, follow=True)
    html = page.content.decode()
    assert "label set." in html
    labels = html.split('id="ck-labels"')[1].split('id="ck-history"')[0]
    assert "<td>Severity · 严重程度</td><td>Serious complaint · 严重投诉</td>" in labels
    _host, store = opened()
    stored = store.get(link.reference)
    assert stored.labels["severity"].label == "serious"
    assert stored.history[-1].actor == manager.username


def test_a_complaint_registered_from_a_company_lists_on_its_page_and_in_the_crm_list(
    client: Client, manager: Any, customer: Any
) -> None:
    company, _contact = customer
    client.force_login(manager)
    form = client.get(_register_url("company", company.pk)).content.decode()
    assert 'value="Acme Trading 北京"' in form
    assert 'value="service@acme.example"' in form  # the first of the CRM's e-mail list
    _register(client, _register_url("company", company.pk), title="Invoice wrong")
    link = CrmComplaint.objects.get(company=company, contact=None)
    _host, store = opened()
    assert store.get(link.reference).complainant.customer_id == f"company:{company.pk}"

    page = client.get(reverse("site:crm_company_change", args=[company.pk])).content.decode()
    panel = page.split('id="ck-complaints"')[1]
    assert link.reference in panel and "Invoice wrong" in panel

    listing = client.get(reverse("site:complaintkit_djangocrm_crmcomplaint_changelist"))
    html = listing.content.decode()
    assert listing.status_code == 200
    assert link.reference in html and "received · 已受理" in html and "Invoice wrong" in html


def test_the_list_action_opens_the_registration_of_the_selected_contact(
    client: Client, manager: Any, customer: Any
) -> None:
    _company, contact = customer
    client.force_login(manager)
    response = client.post(
        reverse("site:crm_contact_changelist"),
        {"action": "register_complaint", "_selected_action": [str(contact.pk)]},
    )
    assert response.status_code == 302
    assert response["Location"] == _register_url("contact", contact.pk)


def test_a_crm_user_without_complaint_permissions_can_neither_register_nor_handle(
    client: Client, manager: Any, outsider: Any, customer: Any
) -> None:
    _company, contact = customer
    link = _registered(client, manager, contact)
    client.force_login(outsider)
    assert client.get(_register_url("contact", contact.pk)).status_code == 403
    response = client.post(
        reverse("site:complaintkit_djangocrm_crmcomplaint_transition", args=[link.pk]),
        {"action": "acknowledge"},
    )
    assert response.status_code == 403
    page = client.get(reverse("site:crm_contact_change", args=[contact.pk])).content.decode()
    assert "ck-register-complaint" not in page and "ck-complaints" not in page
    _host, store = opened()
    assert store.get(link.reference).status is Status.RECEIVED


def test_the_chinese_pages_speak_chinese(client: Client, manager: Any, customer: Any) -> None:
    _company, contact = customer
    link = _registered(client, manager, contact)
    url = _page(link).replace("/en/", "/zh-hans/", 1)
    html = client.get(url).content.decode()
    assert "下一步操作" in html and "处理记录" in html and "确认受理" in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_complaint_missing_from_the_store_is_said_so(
    client: Client, manager: Any, method: str
) -> None:
    link = CrmComplaint.objects.create(reference="CK-20260101-DEADBEEF", registered_by=manager)
    client.force_login(manager)
    response = getattr(client, method)(_page(link), follow=True)
    assert "Complaint CK-20260101-DEADBEEF is not in the complaint store" in (
        response.content.decode()
    )


def test_the_crm_admin_site_has_the_same_complaint_pages(
    client: Client, manager: Any, customer: Any
) -> None:
    from django.contrib.auth import get_user_model

    _company, contact = customer
    admin = get_user_model().objects.get(username="Adam.Admin")
    client.force_login(admin)
    page = client.get(reverse("admin:crm_contact_change", args=[contact.pk])).content.decode()
    assert reverse("admin:crm_contact_register_complaint", args=[contact.pk]) in page
    response = _register(client, reverse("admin:crm_contact_register_complaint", args=[contact.pk]))
    link = CrmComplaint.objects.get(contact=contact)
    assert response["Location"] == reverse(
        "admin:complaintkit_djangocrm_crmcomplaint_change", args=[link.pk]
    )
    _host, store = opened()
    assert store.get(link.reference).history[0].actor == "Adam.Admin"


def test_the_customers_words_stay_inert_on_the_crm_pages(
    client: Client, manager: Any, customer: Any
) -> None:
    _company, contact = customer
    words = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    link = _registered(client, manager, contact, title=words)
    for url in (_page(link), reverse("site:crm_contact_change", args=[contact.pk])):
        html = client.get(url).content.decode()
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img" in html
        assert '<script>alert("x")' not in html and "<img src=x" not in html
