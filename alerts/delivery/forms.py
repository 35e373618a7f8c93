"""The channel form: the chosen notifier's config as fields, raw JSON behind "advanced".

A form class is built per kind (channel_form_class) with the fields the notifier declares
(Notifier.form_fields) under a prefix. Whether the config comes from those fields or from
the JSON box, it goes through the notifier's validate_config and check_destinations, and
each "key: why" is shown on the key's field. A kind that declares no fields keeps the JSON.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from unfold.widgets import UnfoldBooleanSwitchWidget

from alerts.delivery.notifiers import NOTIFIERS, Notifier
from alerts.models import Channel
from alerts.rules.forms import mark

CONFIG_PREFIX = "config_"


class ChannelForm(forms.ModelForm):
    config_as_json = forms.BooleanField(
        required=False,
        label="Edit the config as JSON",
        widget=UnfoldBooleanSwitchWidget(),
        help_text="On: the JSON below is saved and the fields above are ignored. Both are checked the same way.",
    )
    # Set on each kind's subclass by channel_form_class.
    notifier: ClassVar[type[Notifier] | None] = None
    config_names: ClassVar[tuple[str, ...]] = ()

    class Meta:
        model = Channel
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Another kind reloads the form with its fields (admin/alerts/kind_switch.html).
        mark(self, "kind", "data-reloads")
        if self.instance.pk is None:
            mark(self, "name", "data-carry")
        notifier = self.notifier
        if notifier is None:
            return
        config = self.initial.get("config")
        if self.initial.get("kind") != notifier.kind or not isinstance(config, dict):
            config = {}  # switched to another kind (?kind=): the old kind's config means nothing here
            self.initial.update(kind=notifier.kind, config=config)
        for name, value in notifier.form_initial(config).items():
            if name in self.config_names:
                self.initial[CONFIG_PREFIX + name] = value
        if "config" in self.fields:
            self.fields["config"].required = False
            self.fields["config"].label = "Config (JSON)"
            self.fields[
                "config"
            ].help_text = f"Keys: {', '.join(notifier.fields) or 'none'}. Secrets are environment variables named here."

    def clean(self):
        cleaned = super().clean()
        notifier_class = NOTIFIERS.get(cleaned.get("kind") or "")
        if notifier_class is None:
            return cleaned
        from_fields = (
            notifier_class is self.notifier
            and not cleaned.get("config_as_json")
            # A post with none of the fields (a script sending the JSON alone) means the JSON.
            and any(self.add_prefix(CONFIG_PREFIX + name) in self.data for name in self.config_names)
        )
        if from_fields:
            self._errors.pop("config", None)  # the JSON box is not what is saved
            if any(CONFIG_PREFIX + name in self._errors for name in self.config_names):
                return cleaned
            raw = notifier_class.config_from_form(
                {name: cleaned.get(CONFIG_PREFIX + name) for name in self.config_names}
            )
        else:
            for name in self.config_names:
                self._errors.pop(CONFIG_PREFIX + name, None)
            if "config" in self._errors:
                return cleaned  # the JSON did not parse; the config field says so
            raw = cleaned.get("config")
            raw = raw if raw is not None else {}
        try:
            cleaned["config"] = notifier_class.validate_config(raw)
            notifier_class(
                config=cleaned["config"], allow_private=cleaned.get("allow_private", False)
            ).check_destinations()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    key, _, why = message.partition(": ")
                    if from_fields and field == "config" and key in self.config_names:
                        self.add_error(CONFIG_PREFIX + key, why)
                    else:
                        self.add_error(field if field in self.fields else None, message)
        return cleaned


def channel_form_class(notifier: type[Notifier]) -> type[ChannelForm]:
    """The channel form for `notifier`'s kind, with its config fields."""
    fields = notifier.form_fields() or {}
    declared: dict[str, Any] = {}
    for name, field in fields.items():
        if field.label is None:
            field.label = name.replace("_", " ").capitalize()
        declared[CONFIG_PREFIX + name] = field
    attrs = {**declared, "notifier": notifier, "config_names": tuple(fields), "__module__": __name__}
    return type(f"{notifier.__name__}ChannelForm", (ChannelForm,), attrs)
