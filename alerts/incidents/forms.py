"""The forms people and the API fill for silences and maintenance windows: one validation path
for the admin and /api/v1 (alerts/api_forms.py)."""

import json

from django import forms
from django.core.exceptions import ValidationError
from unfold.widgets import UnfoldAdminRadioSelectWidget

from alerts.incidents.matchers import parse_matchers
from alerts.incidents.services.noise import maintenance_validate, silence_validate
from alerts.models import MaintenanceWindow, Silence


def matchers_text(value) -> str:
    try:
        return "{" + ", ".join(str(m) for m in parse_matchers(value or [])) + "}"
    except ValidationError:
        return json.dumps(value)


class MatchersField(forms.CharField):
    """Matchers typed as `{service="api", env=~"prod|staging"}` (or a JSON list); stored as a list."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 80}))
        kwargs.setdefault(
            "help_text",
            'e.g. {service="api", env=~"prod|staging"}; ops =, !=, =~, !~ (regular expressions match whole values).',
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return matchers_text(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if text.startswith("["):
            try:
                text = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
        return [m.as_dict() for m in parse_matchers(text)]


class SilenceForm(forms.ModelForm):
    matchers = MatchersField()

    class Meta:
        model = Silence
        fields = ("matchers", "starts_at", "ends_at", "comment")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            # Named on the field, not as the database constraint's name.
            self.add_error("ends_at", "The end must be after the start.")
        if "matchers" in self.errors or "ends_at" in self.errors:
            return data
        try:
            data["matchers"] = silence_validate(
                matchers=data.get("matchers"),
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
                created_by=self.instance.created_by or self.user,
                comment=data.get("comment", ""),
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                if name not in self.errors:
                    self.add_error(name if name in self.fields else None, errors)
        return data


SCOPES = {
    "target": "One target",
    "tag": "Every target with a tag",
    "project": "Everything in one project (its targets, rules and issues)",
}


class MaintenanceWindowForm(forms.ModelForm):
    """A window names what it covers: an empty target box must not quietly mean "mute everything"."""

    scope = forms.ChoiceField(
        choices=list(SCOPES.items()),
        widget=UnfoldAdminRadioSelectWidget,
        help_text="What this window mutes or pauses; then pick that target, tag or project in the box that appears.",
    )

    class Meta:
        model = MaintenanceWindow
        fields = (
            "name",
            "scope",
            "project",
            "target",
            "tag",
            "recurrence",
            "expression",
            "starts_at",
            "duration_minutes",
            "time_zone",
            "until",
            "effect",
            "comment",
        )
        help_texts = {
            "project": "With “everything in one project”: the project.",
            "target": "With “one target”: type to search by name.",
            "tag": "With “every target with a tag”: the tag.",
            "effect": "Mute holds notifications back; pause also stops the checks of the targets covered.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        window = self.instance
        if window.pk and "scope" not in self.initial:
            # A window saved before scopes were required has none: it must be chosen on the next save.
            self.initial["scope"] = next((name for name in SCOPES if getattr(window, f"{name}_id")), None)

    def clean(self):
        data = super().clean()
        scope = data.get("scope")
        if scope:
            if not data.get(scope):
                self.add_error(scope, f"Pick the {scope} this window covers, or choose another scope above.")
            for other in SCOPES:  # the choice above decides; a value left in another box is not a second scope
                if other != scope:
                    data[other] = None
        try:
            maintenance_validate(
                recurrence=data.get("recurrence", ""),
                expression=data.get("expression", ""),
                time_zone=data.get("time_zone", ""),
                starts_at=data.get("starts_at"),
                until=data.get("until"),
                duration_minutes=data.get("duration_minutes"),
                scoped_by=[name for name in SCOPES if data.get(name)],
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                if name not in self.errors:
                    self.add_error(name, errors)
        return data
