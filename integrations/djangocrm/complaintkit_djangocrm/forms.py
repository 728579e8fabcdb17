"""The forms of the complaint pages. Their field names are the words of the request's
language; what they hold is checked again by complaintkit (Desk) before anything is stored."""

from __future__ import annotations

from typing import Any

from django import forms

from complaintkit import Channel, RemedyKind

from .presenting import both_enum
from .texts import lang, texts

__all__ = ["LabelForm", "RegisterComplaintForm", "TransitionForm"]


def _choices(enum_type: type[Channel] | type[RemedyKind]) -> list[tuple[str, str]]:
    return [(m.value, both_enum(m)) for m in enum_type]


class RegisterComplaintForm(forms.Form):
    """A new complaint: the complainant (filled from the contact or company) and what happened."""

    name = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=100, required=False)
    email = forms.CharField(max_length=200, required=False)
    title = forms.CharField(max_length=200, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 80}))
    channel = forms.ChoiceField(choices=_choices(Channel), initial=Channel.PHONE.value)
    product = forms.CharField(max_length=200, required=False)
    order = forms.CharField(max_length=200, required=False)
    remedy_sought = forms.ChoiceField(choices=[("", "—"), *_choices(RemedyKind)], required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        t = texts()
        for key, field in self.fields.items():
            field.label = t[key]
        self.fields["title"].help_text = t["optional"]


class TransitionForm(forms.Form):
    """One lifecycle action, with the reason, solution or satisfaction it may need."""

    action = forms.CharField(max_length=40)
    reason = forms.CharField(required=False, max_length=2000)
    solution = forms.CharField(required=False, max_length=4000)
    satisfaction = forms.TypedChoiceField(
        choices=[("", "—"), *((str(i), str(i)) for i in range(1, 6))],
        coerce=int,
        empty_value=None,
        required=False,
    )


class LabelForm(forms.Form):
    """A label set by hand: ``scheme:label``, and why."""

    label = forms.CharField(max_length=200)
    reason = forms.CharField(required=False, max_length=2000)

    def scheme_and_label(self) -> tuple[str, str]:
        """The chosen scheme and label (complaintkit refuses unknown ones by name)."""
        value: str = self.cleaned_data["label"]
        scheme, _, label = value.partition(":")
        if not label:
            message = (
                "选择一个分类（方案:标签）" if lang() == "zh" else "choose a label (scheme:label)"
            )
            raise forms.ValidationError(message)
        return scheme, label
