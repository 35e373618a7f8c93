"""Form fields the rule kinds share in the editor (see RuleKind.form_fields).

Each field cleans to the value its param holds (a dict of tags, a list of target ids), so
the default params_from_form and form_initial can map names one to one. Ranges and
cross-field rules stay in the kinds' validate_params, the one place params are checked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import CharField, F, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.forms.renderers import BaseRenderer
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.widgets import (
    UnfoldAdminCheckboxSelectMultipleWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanSwitchWidget,
)

from alerts.pickers import SearchSelectMultiple
from alerts.rules.kinds.base import SYMBOLS
from monitoring.models import ErrorIssue, Target
from monitoring.telemetry.selectors.names import metric_names

OPERATOR_WORDS = {"gt": "above", "ge": "at or above", "lt": "below", "le": "at or below", "eq": "equal to"}


class SuggestingTextInput(UnfoldAdminTextInputWidget):
    """A text box with a <datalist> of suggestions: free text stays possible (a metric not
    sent yet), known values are one click away."""

    def __init__(self, suggestions: list[tuple[str, str]], attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.suggestions = suggestions

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        list_id = f"{(attrs or {}).get('id') or name}-suggestions"
        box = super().render(name, value, {**(attrs or {}), "list": list_id, "autocomplete": "off"}, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', self.suggestions)
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


class TagsField(forms.CharField):
    """Tags as people type them, "route=/checkout, method=GET"; cleans to {"route": "/checkout", …}."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", UnfoldAdminTextInputWidget(attrs={"placeholder": "route=/checkout, method=GET"}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in value.items())
        return value

    def to_python(self, value: Any) -> dict[str, str]:  # type: ignore[override]
        if isinstance(value, dict):
            return value
        tags: dict[str, str] = {}
        for part in (value or "").split(","):
            if not part.strip():
                continue
            key, equals, tag_value = part.partition("=")
            if not equals or not key.strip() or not tag_value.strip():
                raise ValidationError(f"{part.strip()!r} is not key=value; write e.g. route=/checkout, method=GET")
            tags[key.strip()] = tag_value.strip()
        return tags


class PickedIdsField(forms.ModelMultipleChoiceField):
    """Targets or issues to watch, searched as typed (any number of them); none chosen cleans
    to None: every one in the scope. Chosen ids outside the scope are an error on the field."""

    def label_from_instance(self, obj: Any) -> str:
        return obj.picker_label

    def clean(self, value: Any) -> list[int] | None:  # type: ignore[override]
        chosen = super().clean(value)
        return sorted(t.pk for t in chosen) or None


def target_picker_url(*, project_id: int | None, kinds: tuple[str, ...] | None = None) -> str:
    query = urlencode({**({"project": project_id} if project_id else {}), **({"kind": kinds[0]} if kinds else {})})
    return reverse("admin:alerts_alertrule_targets") + (f"?{query}" if query else "")


def metric_field(*, project_id: int | None, **kwargs: Any) -> forms.CharField:
    known = [(name, f"{name} ({unit})" if unit else name) for name, unit in metric_names(project_id=project_id)]
    help_text = "Suggested from the metrics this project has sent." if known else "No metrics received yet."
    return forms.CharField(
        max_length=200,
        help_text=kwargs.pop("help_text", help_text),
        widget=SuggestingTextInput(known, attrs={"placeholder": "http.latency"}),
        **kwargs,
    )


def text_field(*, placeholder: str = "", **kwargs: Any) -> forms.CharField:
    attrs = {"placeholder": placeholder} if placeholder else {}
    return forms.CharField(widget=UnfoldAdminTextInputWidget(attrs=attrs), **kwargs)


def choice_field(choices: list[tuple[str, str]] | tuple[str, ...], **kwargs: Any) -> forms.ChoiceField:
    pairs = [(c, c) if isinstance(c, str) else c for c in choices]
    return forms.ChoiceField(choices=pairs, widget=UnfoldAdminSelectWidget(), **kwargs)


def operator_field(**kwargs: Any) -> forms.ChoiceField:
    return choice_field([(key, f"{SYMBOLS[key]} {words}") for key, words in OPERATOR_WORDS.items()], **kwargs)


class NumberInput(UnfoldAdminTextInputWidget):
    """A number as people write it: 2000, not the float's 2000.0."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super().format_value(value)


def number_field(*, unit: str = "", **kwargs: Any) -> forms.FloatField:
    attrs = {"suffix": unit} if unit else {}
    return forms.FloatField(widget=NumberInput(attrs={**attrs, "inputmode": "decimal"}), **kwargs)


def whole_field(*, unit: str = "", **kwargs: Any) -> forms.IntegerField:
    attrs = {"suffix": unit} if unit else {}
    return forms.IntegerField(widget=UnfoldAdminTextInputWidget(attrs={**attrs, "inputmode": "numeric"}), **kwargs)


def window_field(**kwargs: Any) -> forms.IntegerField:
    kwargs.setdefault("label", "Window")
    return whole_field(unit="minutes", **kwargs)


def switch_field(**kwargs: Any) -> forms.BooleanField:
    return forms.BooleanField(required=False, widget=UnfoldBooleanSwitchWidget(), **kwargs)


def checkboxes_field(choices: tuple[str, ...], **kwargs: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=[(c, c.replace("_", " ")) for c in choices],
        widget=UnfoldAdminCheckboxSelectMultipleWidget(),
        **kwargs,
    )


def target_scope_fields(*, project_id: int | None, kinds: tuple[str, ...] | None = None) -> dict[str, forms.Field]:
    """The target picker (scoped to the rule's project, searched on the server) and the tag
    that narrows it."""
    what = "heartbeats" if kinds == ("heartbeat",) else "targets"
    return {
        "target_ids": PickedIdsField(
            label=what.capitalize(),
            queryset=pickable_targets(project_id=project_id, kinds=kinds),
            required=False,
            widget=SearchSelectMultiple(
                target_picker_url(project_id=project_id, kinds=kinds), placeholder=f"Type to search the {what}"
            ),
            help_text=f"None chosen: every one of the project's {what}.",
        ),
        "tag": forms.CharField(
            required=False,
            max_length=50,
            widget=UnfoldAdminTextInputWidget(attrs={"placeholder": "production"}),
            help_text=f"Only {what} carrying this tag.",
        ),
    }


def issue_picker_field(*, project_id: int | None) -> PickedIdsField:
    url = reverse("admin:alerts_alertrule_issues") + (f"?project={project_id}" if project_id else "")
    return PickedIdsField(
        label="Only these issues",
        queryset=pickable_issues(project_id=project_id),
        required=False,
        widget=SearchSelectMultiple(url, placeholder="Type to search the issues"),
        help_text="None chosen: any issue of the project.",
    )


def pickable_issues(*, project_id: int | None) -> QuerySet[ErrorIssue]:
    """The issues a rule on `project_id` may name, most recently seen first, labelled by title
    (and project when rules span projects)."""
    issues = ErrorIssue.objects.order_by("-last_seen", "-pk")
    if project_id is not None:
        issues = issues.filter(project_id=project_id)
    label = (
        F("title")
        if project_id is not None
        else Concat("title", Value(" ("), "project__slug", Value(")"), output_field=CharField())
    )
    return issues.annotate(picker_label=Cast(label, CharField())).only("pk", "title")


def pickable_targets(*, project_id: int | None, kinds: tuple[str, ...] | None = None) -> QuerySet[Target]:
    """What a rule on `project_id` (every project when None) may pick, labelled as the picker
    shows it: the name, with the project when rules span projects."""
    targets = Target.objects.order_by("name", "pk")
    if project_id is not None:
        targets = targets.filter(project_id=project_id)
    if kinds is not None:
        targets = targets.filter(kind__in=kinds)
    label = (
        F("name")
        if project_id is not None
        else Concat("name", Value(" ("), "project__slug", Value(")"), output_field=CharField())
    )
    return targets.annotate(picker_label=label).only("pk", "name")


__all__ = [
    "TagsField",
    "checkboxes_field",
    "choice_field",
    "issue_picker_field",
    "metric_field",
    "pickable_issues",
    "pickable_targets",
    "number_field",
    "operator_field",
    "switch_field",
    "text_field",
    "target_scope_fields",
    "whole_field",
    "window_field",
]
