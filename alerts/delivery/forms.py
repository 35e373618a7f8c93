"""The channel form: the chosen notifier's config as fields, raw JSON behind "advanced".

A form class is built per kind (channel_form_class) with the fields the notifier declares
(Notifier.form_fields) under a prefix. Whether the config comes from those fields or from
the JSON box, it goes through the notifier's validate_config and check_destinations, and
each "key: why" is shown on the key's field. A kind that declares no fields keeps the JSON.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import ValidationError

from alerts.delivery.notifiers import NOTIFIERS, Notifier
from alerts.kind_forms import NOT_READY, KindFieldsForm, mark, with_kind_fields
from alerts.models import Channel

CONFIG_PREFIX = "config_"


class ChannelForm(KindFieldsForm):
    json_field = "config"
    field_prefix = CONFIG_PREFIX
    # Set on each kind's subclass by channel_form_class.
    notifier: ClassVar[type[Notifier] | None] = None

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
        keys = ", ".join(notifier.fields) or "none"
        self.show_kind_values(
            notifier.form_initial(config), json_help=f"Keys: {keys}. Secrets are environment variables named here."
        )

    def clean(self):
        cleaned = super().clean()
        notifier_class = NOTIFIERS.get(cleaned.get("kind") or "")
        if notifier_class is None:
            return cleaned
        from_fields = self.edited_as_fields(cleaned, same_kind=notifier_class is self.notifier)
        raw = self.kind_input(cleaned, from_fields=from_fields, build=notifier_class.config_from_form)
        if raw is NOT_READY:
            return cleaned
        try:
            cleaned["config"] = notifier_class.validate_config(raw)
            notifier_class(
                config=cleaned["config"], allow_private=cleaned.get("allow_private", False)
            ).check_destinations()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                if field == "config":
                    self.show_kind_errors(messages, from_fields=from_fields)
                else:
                    self.add_error(field if field in self.fields else None, messages)
        return cleaned


def channel_form_class(notifier: type[Notifier]) -> type[ChannelForm]:
    """The channel form for `notifier`'s kind, with its config fields."""
    fields = notifier.form_fields() or {}
    return with_kind_fields(ChannelForm, fields, name=f"{notifier.__name__}ChannelForm", notifier=notifier)
