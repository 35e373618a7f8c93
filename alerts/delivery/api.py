"""Notification channels over REST: list, create, change, and send a test through one.

A channel is written through the admin's channel form (alerts.delivery.forms), its config sent
as JSON: the notifier kind's validate_config checks it and its destinations pass the SSRF
guard, as in the admin. Secrets are never in a config, only the names of the environment
variables that hold them; answers say of each whether it is present in this environment.
"""

import os
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.api_forms import form_save
from alerts.delivery.forms import channel_form_class
from alerts.delivery.notifiers import NOTIFIERS
from alerts.delivery.services.sending import channel_send_test
from alerts.models import Channel, DeliveryAttempt
from monitoring.common.strict import PAGINATION, StrictFieldsSerializer, StrictQueryParameters


class ChannelSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=Channel.Kind.choices)
    config = serializers.DictField(
        help_text="The notifier kind's settings; a secret is given as the name of an environment variable (`…_env`)."
    )
    secrets = serializers.SerializerMethodField(
        help_text="Each `…_env` of the config: whether that environment variable is present here."
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "name",
            "kind",
            "config",
            "secrets",
            "allow_private",
            "user",
            "enabled",
            "consecutive_failures",
            "failing_since",
            "last_delivered_at",
            "created_at",
        ]
        read_only_fields = ["id", "consecutive_failures", "failing_since", "last_delivered_at", "created_at"]
        # The form says "already taken" in its own words, with the other errors of the body.
        # min_length: the schema says what "may not be blank" refuses.
        extra_kwargs: dict[str, dict[str, Any]] = {"name": {"validators": [], "min_length": 1}}

    def get_secrets(self, channel: Channel) -> dict[str, str]:
        return {
            key: "present" if os.environ.get(str(name)) else "missing"
            for key, name in (channel.config or {}).items()
            if key.endswith("_env")
        }


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["at", "ok", "status_code", "error", "duration_ms", "response_excerpt"]


class ChannelViewSet(
    StrictQueryParameters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Notification channels, one notifier kind each.

    Channels belong to no project (one channel serves rules of many), so a project-limited
    token is refused here (TokenScope): it may still name channels on its projects' rules."""

    queryset = Channel.objects.order_by("name", "id")
    serializer_class = ChannelSerializer
    parser_classes = [JSONParser]
    query_parameters = {"list": PAGINATION}

    def _save(self, serializer: "serializers.BaseSerializer[Any]") -> None:
        values = serializer.validated_data
        kind = values.get("kind") or serializer.instance.kind  # type: ignore[union-attr]
        form_class = channel_form_class(NOTIFIERS[kind])
        serializer.instance = form_save(
            form_class, values={**values, "config_as_json": True}, instance=serializer.instance
        )

    perform_create = perform_update = _save

    @extend_schema(request=None, responses=DeliveryAttemptSerializer)
    @action(detail=True, methods=["post"], url_path="send-test")
    def send_test(self, request: Request, pk: str | None = None) -> Response:
        """Really send a test message through the channel, as the admin's "send a test" does,
        and answer the delivery log entry: `ok` false with the error when it did not get through."""
        attempt = channel_send_test(channel=self.get_object(), now=timezone.now())
        return Response(DeliveryAttemptSerializer(attempt).data)
