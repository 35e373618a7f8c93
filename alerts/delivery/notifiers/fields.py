"""Form fields the notifiers share in the channel form (see Notifier.form_fields).

Each field cleans to the value its config key holds, so the default config_from_form maps
names one to one; the checks stay in the notifiers' validate_config.
"""

from __future__ import annotations

import os
from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.widgets import (
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
)


class EnvNameInput(UnfoldAdminTextInputWidget):
    """The name of an environment variable, followed by whether this server has it: the
    value itself is never read into the page."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: BaseRenderer | None = None
    ) -> SafeString:
        box = super().render(name, value, attrs, renderer)
        if not value:
            return box
        present = bool(os.environ.get(str(value)))
        return format_html(
            '{}<p class="env-presence mt-1 text-sm {}" data-present="{}">{} is {} on this server</p>',
            box,
            "text-green-700 dark:text-green-400" if present else "text-red-700 dark:text-red-400",
            "yes" if present else "no",
            value,
            "set (present)" if present else "not set (missing)",
        )


def env_field(*, placeholder: str, **kwargs: Any) -> forms.CharField:
    kwargs.setdefault("help_text", "The name of an environment variable holding the secret, not the secret itself.")
    return forms.CharField(max_length=100, widget=EnvNameInput(attrs={"placeholder": placeholder}), **kwargs)


def text_field(*, placeholder: str = "", **kwargs: Any) -> forms.CharField:
    attrs = {"placeholder": placeholder} if placeholder else {}
    return forms.CharField(widget=UnfoldAdminTextInputWidget(attrs=attrs), **kwargs)


def url_field(*, placeholder: str = "https://", **kwargs: Any) -> forms.CharField:
    # A text box, not a URLField: the notifier's own check says what is wrong, once.
    return text_field(placeholder=placeholder, max_length=500, **kwargs)


def textarea_field(**kwargs: Any) -> forms.CharField:
    return forms.CharField(widget=UnfoldAdminTextareaWidget(attrs={"rows": 6}), strip=False, **kwargs)


def choice_field(choices: list[tuple[str, str]], **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(choices=choices, widget=UnfoldAdminSelectWidget(), **kwargs)


class AddressesField(forms.CharField):
    """Email addresses, one per line or separated by commas; cleans to a list."""

    widget = UnfoldAdminTextareaWidget(attrs={"rows": 3, "placeholder": "ops@example.com"})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        return [part.strip() for part in (value or "").replace("\n", ",").split(",") if part.strip()]
