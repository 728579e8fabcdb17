"""The complaint pages inside the CRM's admin sites.

* The CRM's contact and company admins (on the CRM site and on the admin site) are extended,
  not replaced: their change page gets a *Register complaint* button and the list of the
  record's complaints, their list an action of the same name, and a page
  ``…/<id>/register-complaint/`` with the complainant filled from the record.
* :class:`CrmComplaintAdmin` lists the complaints and shows one with its status, labels,
  deadlines and history, and the lifecycle's next allowed actions as buttons; every button
  posts to a view that calls complaintkit's :class:`~complaintkit.Desk` acting for the
  signed-in CRM user.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

import crm.admin  # noqa: F401  (the CRM registers its admins first; we extend them)
from crm.models import Company, Contact
from crm.site.crmadminsite import crm_site
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as FormError
from django.db.models import Model, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_POST

from complaintkit import (
    Channel,
    Complaint,
    ComplaintFilter,
    ComplaintkitError,
    NotFoundError,
    Party,
    RemedyKind,
    ValidationError,
    new_reference,
)

from .desks import desk_for, opened
from .forms import LabelForm, RegisterComplaintForm, TransitionForm
from .models import CrmComplaint
from .presenting import (
    complaint_rows,
    deadline_rows,
    history_rows,
    label_choices,
    label_rows,
    next_actions,
    summary,
)
from .texts import TEXTS, action_name, lang, texts

__all__ = ["ComplaintsOnCounterparty", "CrmComplaintAdmin", "party_of"]

_APP = CrmComplaint._meta.app_label
_MODEL = CrmComplaint._meta.model_name


def _first(value: str | None) -> str | None:
    """The first of a comma-separated list (the CRM keeps several e-mails in one field)."""
    first = (value or "").split(",")[0].strip()
    return first or None


def party_of(record: Model) -> Party:
    """The complainant as the CRM knows them: a contact (customer id = the contact's id) or a
    company (customer id ``company:<id>``, so the two never collide)."""
    if isinstance(record, Contact):
        return Party(
            name=record.full_name or None,
            phone=_first(record.phone) or _first(record.mobile) or _first(record.other_phone),
            email=_first(record.email) or _first(record.secondary_email),
            customer_id=str(record.pk),
        )
    if isinstance(record, Company):
        return Party(
            name=record.full_name or None,
            phone=_first(record.phone),
            email=_first(record.email),
            customer_id=f"company:{record.pk}",
        )
    raise TypeError(f"complaints are registered from contacts and companies, not {record!r}")


def _stored(references: Iterable[str]) -> dict[str, Complaint]:
    """The stored complaints of ``references``, read in one query."""
    wanted = frozenset(references)
    if not wanted:
        return {}
    _host, store = opened()
    return {c.reference: c for c in store.find(ComplaintFilter(references=wanted))}


def _complaint_url(site: admin.AdminSite, link: CrmComplaint) -> str:
    return reverse(f"{site.name}:{_APP}_{_MODEL}_change", args=[link.pk])


class ComplaintsOnCounterparty(admin.ModelAdmin):  # type: ignore[type-arg]
    """Mixed into the CRM's contact and company admins: register and list complaints."""

    change_form_template = "complaintkit_djangocrm/counterparty_change_form.html"

    def _links(self, record: Model) -> QuerySet[CrmComplaint]:
        if isinstance(record, Company):
            return CrmComplaint.objects.filter(Q(company=record) | Q(contact__company=record))
        return CrmComplaint.objects.filter(contact=record)

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_register_complaint"
        mine = [
            path(
                "<path:object_id>/register-complaint/",
                self.admin_site.admin_view(self.register_complaint_view),
                name=name,
            )
        ]
        return mine + list(super().get_urls())

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = dict(super().get_actions(request))
        if request.user.has_perm(f"{_APP}.add_{_MODEL}"):
            actions["register_complaint"] = (
                type(self).register_complaint_action,
                "register_complaint",
                TEXTS["register_complaint"].get(lang()),
            )
        return actions

    def register_complaint_action(
        self, request: HttpRequest, queryset: QuerySet[Any]
    ) -> HttpResponse | None:
        """The list's action: open the registration page of the one selected record."""
        if queryset.count() != 1:
            self.message_user(request, TEXTS["select_one"].get(lang()), messages.WARNING)
            return None
        record = queryset.get()
        return HttpResponseRedirect(self._register_url(record.pk))

    def _register_url(self, pk: Any) -> str:
        return reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}"
            "_register_complaint",
            args=[pk],
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        record = self.get_object(request, unquote(object_id))
        if record is not None and request.user.has_perm(f"{_APP}.view_{_MODEL}"):
            links = list(self._links(record).select_related("contact", "company")[:50])
            found = _stored(link.reference for link in links)
            extra["ck_t"] = texts()
            extra["ck_rows"] = [
                {
                    "reference": link.reference,
                    "url": _complaint_url(self.admin_site, link),
                    "contact": link.contact,
                    **(summary(found[link.reference]) if link.reference in found else {}),
                }
                for link in links
            ]
            if request.user.has_perm(f"{_APP}.add_{_MODEL}"):
                extra["ck_register_url"] = self._register_url(record.pk)
        return super().change_view(request, object_id, form_url, extra)

    def register_complaint_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The registration page: GET shows the form, POST stores the complaint."""
        record = self.get_object(request, unquote(object_id))
        if record is None:
            raise Http404(f"no {self.opts.verbose_name} with id {object_id}")
        if not (
            self.has_view_or_change_permission(request, record)
            and request.user.has_perm(f"{_APP}.add_{_MODEL}")
        ):
            raise PermissionDenied
        party = party_of(record)
        t = texts()
        form = RegisterComplaintForm(
            request.POST if request.method == "POST" else None,
            initial={"name": party.name, "phone": party.phone, "email": party.email},
        )
        if request.method == "POST" and form.is_valid():
            link = self._register(request, record, party, form)
            if link is not None:
                self.message_user(
                    request, t["registered"].format(reference=link.reference), messages.SUCCESS
                )
                return HttpResponseRedirect(_complaint_url(self.admin_site, link))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": record,
            "form": form,
            "party": party,
            "title": f"{t['register_complaint']}: {record}",
            "t": t,
        }
        return TemplateResponse(request, "complaintkit_djangocrm/register.html", context)

    def _register(
        self,
        request: HttpRequest,
        record: Model,
        party: Party,
        form: RegisterComplaintForm,
    ) -> CrmComplaint | None:
        """Store the complaint of the valid ``form`` and link it to ``record``; None (the
        form given complaintkit's error) when complaintkit refuses it."""
        if isinstance(request.user, AnonymousUser):
            raise PermissionDenied  # the admin sites let only signed-in staff this far
        contact = record if isinstance(record, Contact) else None
        company = record if isinstance(record, Company) else getattr(record, "company", None)
        data = form.cleaned_data
        desk = desk_for(request.user)
        now = desk.clock()
        custom: dict[str, Any] = {"crm": "djangocrm"}
        if contact is not None:
            custom["crm_contact_id"] = contact.pk
        if company is not None:
            custom["crm_company_id"] = company.pk
        complaint = Complaint(
            reference=new_reference(now),
            received_at=now,
            text=data["text"],
            title=data["title"] or None,
            channel=Channel(data["channel"]),
            complainant=Party(
                name=data["name"] or None,
                phone=data["phone"] or None,
                email=data["email"] or None,
                customer_id=party.customer_id,
            ),
            product=data["product"] or None,
            order=data["order"] or None,
            remedy_sought=RemedyKind(data["remedy_sought"]) if data["remedy_sought"] else None,
            custom=custom,
        )
        try:
            stored = desk.intake(complaint)
        except ValidationError as exc:
            form.add_error(None, str(exc))
            return None
        # Stored first, linked second: if the link fails the complaint is still in the store
        # (found by its customer id), never a link to nothing.
        return CrmComplaint.objects.create(
            reference=stored.reference,
            contact=contact,
            company=company,
            registered_by=request.user,
        )


class CrmComplaintAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The CRM's complaint list and complaint page."""

    list_display = (
        "reference",
        "ck_title",
        "ck_status",
        "ck_due",
        "contact",
        "company",
        "registered_by",
        "registered_at",
    )
    list_display_links = ("reference",)
    list_select_related = ("contact", "company", "registered_by")
    search_fields = ("reference", "contact__first_name", "contact__last_name", "company__full_name")
    date_hierarchy = "registered_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # complaints are registered from a contact or a company

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the history is append-only; a complaint is withdrawn or rejected instead

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        page = list(changelist.result_list)
        found = _stored(link.reference for link in page)
        for link in page:
            stored = found.get(link.reference)
            link.ck_summary = summary(stored) if stored else {}
        changelist.result_list = page
        return changelist

    @staticmethod
    def _summarised(link: CrmComplaint, key: str) -> str:
        """One field of the row's summary (empty when the complaint is not in the store)."""
        found: dict[str, str] = getattr(link, "ck_summary", {})
        return found.get(key, "")

    @admin.display(description="title · 标题")
    def ck_title(self, link: CrmComplaint) -> str:
        return self._summarised(link, "title")

    @admin.display(description="status · 状态")
    def ck_status(self, link: CrmComplaint) -> str:
        return self._summarised(link, "status")

    @admin.display(description="due · 截止时间")
    def ck_due(self, link: CrmComplaint) -> str:
        return self._summarised(link, "due_at")

    def get_urls(self) -> list[URLPattern]:
        def view(name: str, func: Callable[[HttpRequest, str], HttpResponse]) -> URLPattern:
            return path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(require_POST(func)),
                name=f"{_APP}_{_MODEL}_{name}",
            )

        mine = [
            view("transition", self.transition_view),
            view("label", self.label_view),
            view("classify", self.classify_view),
        ]
        return mine + list(super().get_urls())

    def _link(self, request: HttpRequest, object_id: str, *, change: bool) -> CrmComplaint:
        link = cast("CrmComplaint | None", self.get_object(request, unquote(object_id)))
        if link is None:
            raise Http404(f"no complaint with id {object_id}")
        allowed = (
            self.has_change_permission(request, link)
            if change
            else self.has_view_or_change_permission(request, link)
        )
        if not allowed:
            raise PermissionDenied
        return link

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        link = self._link(request, object_id, change=False)
        if request.method != "GET":
            return HttpResponseRedirect(request.path)
        t = texts()
        desk = desk_for(request.user)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": link,
            "title": f"{t['complaint'].capitalize()} {link.reference}",
            "t": t,
            "link": link,
            "can_change": self.has_change_permission(request, link),
            "contact_url": self._crm_url("contact", link.contact_id),
            "company_url": self._crm_url("company", link.company_id),
            **(extra_context or {}),
        }
        try:
            c = desk.get(link.reference)
        except NotFoundError:
            context["missing"] = t["not_in_store"].format(
                reference=link.reference, store=desk.store.url
            )
            return TemplateResponse(request, "complaintkit_djangocrm/complaint.html", context)
        schemes = desk.host.schemes()
        context.update(
            complaint=c,
            rows=complaint_rows(c, t),
            deadlines=deadline_rows(desk, c),
            labels=label_rows(c, schemes),
            label_choices=label_choices(schemes),
            actions=next_actions(c),
            history=history_rows(c),
            transition_url=self._action_url(link, "transition"),
            label_url=self._action_url(link, "label"),
            classify_url=self._action_url(link, "classify"),
        )
        return TemplateResponse(request, "complaintkit_djangocrm/complaint.html", context)

    def _crm_url(self, model: str, pk: int | None) -> str | None:
        if pk is None:
            return None
        return reverse(f"{self.admin_site.name}:crm_{model}_change", args=[pk])

    def _action_url(self, link: CrmComplaint, name: str) -> str:
        return reverse(f"{self.admin_site.name}:{_APP}_{_MODEL}_{name}", args=[link.pk])

    def _back(self, link: CrmComplaint) -> HttpResponseRedirect:
        return HttpResponseRedirect(_complaint_url(self.admin_site, link))

    def _form_error(self, request: HttpRequest, form: Any) -> None:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        self.message_user(request, problems, messages.ERROR)

    def transition_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """One lifecycle action (a button of *Next actions*) by the signed-in user."""
        link = self._link(request, object_id, change=True)
        form = TransitionForm(request.POST)
        if not form.is_valid():
            self._form_error(request, form)
            return self._back(link)
        data = form.cleaned_data
        try:
            desk_for(request.user).transition(
                link.reference,
                data["action"],
                reason=data["reason"] or None,
                solution=data["solution"] or None,
                satisfaction=data["satisfaction"],
            )
        except ComplaintkitError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            done = texts()["done"].format(
                reference=link.reference, action=action_name(data["action"])
            )
            self.message_user(request, done, messages.SUCCESS)
        return self._back(link)

    def label_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A label set by hand (automatic classification will not override it)."""
        link = self._link(request, object_id, change=True)
        form = LabelForm(request.POST)
        try:
            if not form.is_valid():
                self._form_error(request, form)
                return self._back(link)
            scheme, label = form.scheme_and_label()
            desk_for(request.user).label(
                link.reference, scheme, label, reason=form.cleaned_data["reason"] or None
            )
        except ComplaintkitError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        except FormError as exc:  # no label chosen
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(
                request, texts()["labelled"].format(reference=link.reference), messages.SUCCESS
            )
        return self._back(link)

    def classify_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Classify again with every scheme (labels set by hand are kept)."""
        link = self._link(request, object_id, change=True)
        try:
            desk_for(request.user).classify(link.reference)
        except ComplaintkitError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request, texts()["classified"].format(reference=link.reference), messages.SUCCESS
            )
        return self._back(link)


def _extend(site: admin.AdminSite, model: type[Model]) -> None:
    """Re-register ``model`` on ``site`` with its admin class and complaint handling mixed in."""
    if not site.is_registered(model):
        return
    current = type(site.get_model_admin(model))
    extended = type(current.__name__, (ComplaintsOnCounterparty, current), {"__module__": __name__})
    site.unregister(model)
    site.register(model, extended)


for _site in (crm_site, admin.site):
    _extend(_site, Contact)
    _extend(_site, Company)
    _site.register(CrmComplaint, CrmComplaintAdmin)
