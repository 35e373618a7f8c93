"""What the rule editor and the channel form share: a model's JSON field (a rule's params, a
channel's config) edited as the chosen kind's own fields, with the raw JSON behind a switch.

A form class is built per kind (with_kind_fields) holding the fields the kind declares,
prefixed so they never clash with the model's own. Whichever way the value is entered it
goes through the kind's one check, and each "name: why" that check raises is shown on the
field called `name` (or on the JSON field when the JSON was edited).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django import forms
from unfold.widgets import UnfoldBooleanSwitchWidget

NOT_READY = object()  # kind_input's answer when a field error already says what is wrong


class KindFieldsForm(forms.ModelForm):
    json_field: ClassVar[str]  # the model's JSON field: "params", "config"
    field_prefix: ClassVar[str]  # "param_", "config_"
    # Set on each kind's subclass by with_kind_fields: the kind's field names, unprefixed.
    kind_names: ClassVar[tuple[str, ...]] = ()

    @property
    def json_switch(self) -> str:
        return f"{self.json_field}_as_json"

    def show_kind_values(self, values: dict[str, Any], *, json_help: str) -> None:
        """Fill the kind's fields from the stored value; the JSON box becomes optional."""
        for name, value in values.items():
            if name in self.kind_names:
                self.initial[self.field_prefix + name] = value
        if self.json_field in self.fields:
            box = self.fields[self.json_field]
            box.required = False
            box.label = f"{self.json_field.capitalize()} (JSON)"
            box.help_text = json_help

    def edited_as_fields(self, cleaned: dict[str, Any], *, same_kind: bool) -> bool:
        return (
            same_kind
            and not cleaned.get(self.json_switch)
            # A post with none of the fields (a script sending the JSON alone) means the JSON.
            and any(self.add_prefix(self.field_prefix + name) in self.data for name in self.kind_names)
        )

    def kind_input(
        self, cleaned: dict[str, Any], *, from_fields: bool, build: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> Any:
        """The raw value to check: built from the fields, or the JSON; NOT_READY when a field
        (or the JSON's parse) already has an error. Errors of the way not taken are dropped:
        what is not saved must not block the save."""
        prefixed = [self.field_prefix + name for name in self.kind_names]
        for dropped in [self.json_field] if from_fields else prefixed:
            self.errors.pop(dropped, None)
        if from_fields:
            if any(name in self.errors for name in prefixed):
                return NOT_READY
            return build({name: cleaned.get(self.field_prefix + name) for name in self.kind_names})
        if self.json_field in self.errors or self.json_field not in cleaned:
            return NOT_READY
        value = cleaned[self.json_field]
        return value if value is not None else {}

    def show_kind_errors(self, messages: list[str], *, from_fields: bool) -> None:
        for message in messages:
            name, _, why = message.partition(": ")
            if from_fields and name in self.kind_names:
                self.add_error(self.field_prefix + name, why)
            else:
                self.add_error(self.json_field, message)


def with_kind_fields(base: type[KindFieldsForm], fields: dict[str, forms.Field], *, name: str, **attrs: Any) -> Any:
    """A subclass of `base` declaring the kind's `fields` (labelled from their names when they
    have no label) under base.field_prefix, the switch to the JSON instead, and `attrs` as
    class attributes."""
    declared: dict[str, Any] = {
        f"{base.json_field}_as_json": forms.BooleanField(
            required=False,
            label=f"Edit the {base.json_field} as JSON",
            widget=UnfoldBooleanSwitchWidget(),
            help_text="On: the JSON below is saved and the fields above are ignored. Both are checked the same way.",
        )
    }
    for key, field in fields.items():
        if field.label is None:
            field.label = key.removesuffix("_minutes").replace("_", " ").capitalize()
        declared[base.field_prefix + key] = field
    return type(name, (base,), {**declared, **attrs, "kind_names": tuple(fields), "__module__": base.__module__})


def mark(form: forms.BaseForm, name: str, attribute: str) -> None:
    """Set a data- attribute on a field's rendered input. The admin wraps relation widgets
    (the "+" and "✎" links), and a wrapper copied for this form shares the attrs of the
    original inner widget, not of its own copy: set them on the inner widget."""
    if name in form.fields:
        widget = form.fields[name].widget
        inner: forms.Widget = getattr(widget, "widget", None) or widget
        inner.attrs[attribute] = "1"
