"""The rule editor's form: the chosen kind's params as fields, raw JSON behind "advanced".

A form class is built per kind (rule_form_class), with the fields the kind declares
(RuleKind.form_fields) added under a prefix. Whether the params come from those fields or
from the JSON box, they go through the kind's own validate_params, and each "name: why"
it raises is shown on the field of that name. A kind that declares no fields keeps the
JSON box as its only params editor.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldBooleanSwitchWidget

from alerts.models import AlertRule
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.kinds.base import RuleKind

PARAM_PREFIX = "param_"


def kind_choices() -> list[tuple[str, str]]:
    return [(key, kind.label) for key, kind in RULE_KINDS.items()]


class AlertRuleForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=kind_choices, widget=UnfoldAdminSelectWidget())
    params_as_json = forms.BooleanField(
        required=False,
        label="Edit the params as JSON",
        widget=UnfoldBooleanSwitchWidget(),
        help_text="On: the JSON below is saved and the fields above are ignored. Both are checked the same way.",
    )
    # Set on each kind's subclass by rule_form_class.
    rule_kind: ClassVar[type[RuleKind] | None] = None
    param_names: ClassVar[tuple[str, ...]] = ()

    class Meta:
        model = AlertRule
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Another kind, or a new rule's project (its pickers), reloads the form; a new rule
        # carries what is typed so far. A saved rule carries nothing: its page shows the rule.
        adding = self.instance.pk is None
        for name in ("kind", "project") if adding else ("kind",):
            mark(self, name, "data-reloads")
        for name in ("name", "severity", "summary") if adding else ():
            mark(self, name, "data-carry")
        kind = self.rule_kind
        if kind is None:
            return
        params = self.initial.get("params")
        if self.initial.get("kind") != kind.kind or not isinstance(params, dict):
            # Switched to another kind (?kind=): its own example, not the old kind's params.
            params = dict(kind.example)
            self.initial.update(kind=kind.kind, params=params)
        for name, value in kind.form_initial(params).items():
            if name in self.param_names:
                self.initial[PARAM_PREFIX + name] = value
        if "params" in self.fields:
            self.fields["params"].required = False
            self.fields["params"].label = "Params (JSON)"
            self.fields["params"].help_text = f"For example: {json.dumps(kind.example)}"

    def clean_labels(self):
        labels = self.cleaned_data["labels"]
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ValidationError('labels: an object of text labels, e.g. {"team": "payments"}')
        return labels

    def clean_group_by(self):
        group_by = self.cleaned_data["group_by"]
        if not isinstance(group_by, list) or not all(isinstance(v, str) and v for v in group_by):
            raise ValidationError('group_by: a list of label names, e.g. ["host"]')
        return group_by

    def clean(self):
        cleaned = super().clean()
        kind = RULE_KINDS.get(cleaned.get("kind"))
        if kind is None:
            return cleaned
        from_fields = (
            kind is self.rule_kind
            and not cleaned.get("params_as_json")
            # A post with none of the fields (a script sending the JSON alone) means the JSON.
            and any(self.add_prefix(PARAM_PREFIX + name) in self.data for name in self.param_names)
        )
        if from_fields:
            # The JSON box is not what is saved: its text, even unparsable, must not block the save.
            self._errors.pop("params", None)
            if any(PARAM_PREFIX + name in self._errors for name in self.param_names):
                return cleaned  # each field already says what is wrong with it
            raw = kind.params_from_form({name: cleaned.get(PARAM_PREFIX + name) for name in self.param_names})
        else:
            for name in self.param_names:  # the fields are not what is saved
                self._errors.pop(PARAM_PREFIX + name, None)
            if "params" not in cleaned:
                return cleaned  # the JSON did not parse; the params field says so
            raw = cleaned["params"] if cleaned["params"] is not None else {}
        try:
            cleaned["params"] = kind.validate_params(raw)
        except ValidationError as exc:
            said = exc.message_dict.get("params", []) if hasattr(exc, "error_dict") else exc.messages
            for message in said:
                name, _, why = message.partition(": ")
                if from_fields and name in self.param_names:
                    self.add_error(PARAM_PREFIX + name, why)
                else:
                    self.add_error("params", message)
            return cleaned
        if kind.needs_project(cleaned["params"]) and not cleaned.get("project"):
            self.add_error("project", f"{kind.label} reads one project's data: choose the project.")
        return cleaned


def mark(form: forms.BaseForm, name: str, attribute: str) -> None:
    """Set a data- attribute on a field's rendered input. The admin wraps relation widgets
    (the "+" and "✎" links), and a wrapper copied for this form shares the attrs of the
    original inner widget, not of its own copy: set them on the inner widget."""
    if name in form.fields:
        widget = form.fields[name].widget
        inner: forms.Widget = getattr(widget, "widget", None) or widget
        inner.attrs[attribute] = "1"


def rule_form_class(kind: type[RuleKind], *, project_id: int | None) -> type[AlertRuleForm]:
    """The editor's form for `kind`, with its params fields (pickers scoped to `project_id`)."""
    fields = kind.form_fields(project_id=project_id) or {}
    declared: dict[str, Any] = {}
    for name, field in fields.items():
        if field.label is None:
            field.label = name.removesuffix("_minutes").replace("_", " ").capitalize()
        declared[PARAM_PREFIX + name] = field
    attrs = {**declared, "rule_kind": kind, "param_names": tuple(fields), "__module__": __name__}
    return type(f"{kind.__name__}Form", (AlertRuleForm,), attrs)
