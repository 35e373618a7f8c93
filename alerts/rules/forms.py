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
from unfold.widgets import UnfoldAdminSelectWidget

from alerts.kind_forms import NOT_READY, KindFieldsForm, mark, with_kind_fields
from alerts.models import AlertRule
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.kinds.base import RuleKind

PARAM_PREFIX = "param_"


def kind_choices() -> list[tuple[str, str]]:
    return [(key, kind.label) for key, kind in RULE_KINDS.items()]


class AlertRuleForm(KindFieldsForm):
    json_field = "params"
    field_prefix = PARAM_PREFIX
    kind = forms.ChoiceField(choices=kind_choices, widget=UnfoldAdminSelectWidget())
    # Set on each kind's subclass by rule_form_class.
    rule_kind: ClassVar[type[RuleKind] | None] = None

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
        self.show_kind_values(kind.form_initial(params), json_help=f"For example: {json.dumps(kind.example)}")

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
        from_fields = self.edited_as_fields(cleaned, same_kind=kind is self.rule_kind)
        raw = self.kind_input(cleaned, from_fields=from_fields, build=kind.params_from_form)
        if raw is NOT_READY:
            return cleaned
        try:
            cleaned["params"] = kind.validate_params(raw)
        except ValidationError as exc:
            said = exc.message_dict.get("params", []) if hasattr(exc, "error_dict") else exc.messages
            self.show_kind_errors(said, from_fields=from_fields)
            return cleaned
        if kind.needs_project(cleaned["params"]) and not cleaned.get("project"):
            self.add_error("project", f"{kind.label} reads one project's data: choose the project.")
        return cleaned


def rule_form_class(kind: type[RuleKind], *, project_id: int | None) -> type[AlertRuleForm]:
    """The editor's form for `kind`, with its params fields (pickers scoped to `project_id`)."""
    fields = kind.form_fields(project_id=project_id) or {}
    return with_kind_fields(AlertRuleForm, fields, name=f"{kind.__name__}Form", rule_kind=kind)
