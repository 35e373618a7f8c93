"""Escalation policies and on-call schedules over REST, and who is on call at a time.

A schedule is written with its layers and overrides, a policy with its steps, in one request
and one transaction: the nested lists replace what was there, as the admin's inlines do. The
rules are the admin's: the schedule and step forms (alerts.api_forms), layer_validate for a
layer's users and restriction. "Who is on call" reads the same schedule arithmetic that pages
people (oncall_shifts), and a policy's answer is the first round its escalation would page.
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.forms import modelform_factory
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.api_forms import form_bound, form_save
from alerts.models import EscalationPolicy, EscalationStep, OnCallLayer, OnCallOverride, OnCallSchedule
from alerts.paging.admin import EscalationStepForm, OnCallScheduleForm
from alerts.paging.services.escalation import escalation_snapshot
from alerts.paging.services.schedules import layer_validate, oncall_shifts, oncall_users
from monitoring.common.strict import PAGINATION, StrictCharField, StrictFieldsSerializer, StrictQueryParameters

# How far from now "who is on call at" may ask: the shift arithmetic looks 60 days past it,
# and a date near year 9999 would overflow; no rotation is planned decades ahead.
AT_REACH = timedelta(days=10 * 366)
INT32 = 2**31 - 1
USERNAME = StrictCharField(min_length=1, max_length=150)

EscalationPolicyForm = modelform_factory(EscalationPolicy, fields=("name", "repeat", "description"))


def _nested_errors(prefix: str, exc: serializers.ValidationError | DjangoValidationError) -> dict[str, Any]:
    """Errors of the n-th nested row, keyed as `layers[0].users`, so the 400 names the field."""
    if isinstance(exc, DjangoValidationError):
        found: Any = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    else:
        found = exc.detail
    return {
        (prefix if name == "non_field_errors" else f"{prefix}.{name}"): messages for name, messages in found.items()
    }


def _at(request: Request) -> datetime:
    """The `at` query parameter (a time with a zone), or now."""
    raw = request.query_params.get("at")
    now = timezone.now()
    if raw is None:
        return now
    field = serializers.DateTimeField()
    try:
        at = field.run_validation(raw)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"at": exc.detail}) from exc
    if abs(at - now) > AT_REACH:
        raise serializers.ValidationError({"at": ["must be within ten years of now"]})
    return at


AT_PARAMETER = OpenApiParameter(
    "at", OpenApiTypes.DATETIME, description="ISO 8601 time with a zone, within ten years of now; now when left out."
)


def _usernames(users: Any) -> list[str]:
    return [user.get_username() for user in users]


class UsernameField(serializers.SlugRelatedField):
    """An active user by username. A name PostgreSQL cannot even compare (one with a NUL) is
    as unknown as any other, not a database error."""

    def __init__(self, **kwargs: Any) -> None:
        User = get_user_model()
        super().__init__(slug_field=User.USERNAME_FIELD, queryset=User.objects.filter(is_active=True), **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


# --- schedules -----------------------------------------------------------------------------


class LayerSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    # No minimum in the schema: layer_validate refuses an empty rotation on a write, but a layer
    # stored before that rule may have none, and the answer must stay valid for it.
    users = serializers.ListField(child=USERNAME, help_text="Usernames, in rotation order.")

    class Meta:
        model = OnCallLayer
        fields = ["name", "priority", "users", "starts_at", "rotation_seconds", "restrict_start", "restrict_end"]
        extra_kwargs: dict[str, dict[str, Any]] = {
            "rotation_seconds": {"min_value": 3600, "max_value": INT32, "help_text": "Each turn's length."},
            "priority": {"max_value": 32767, "help_text": "A higher layer wins where it has someone on call."},
            "restrict_start": {"help_text": "On call only from this time each day (the schedule's time zone)."},
            "restrict_end": {"help_text": "…until this time; may cross midnight."},
        }


class OverrideSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    user = UsernameField(help_text="The username on call instead, for the override's time.")

    class Meta:
        model = OnCallOverride
        fields = ["user", "starts_at", "ends_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": ["must be after starts_at"]})
        return attrs


class ScheduleSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    layers = LayerSerializer(many=True, required=False, help_text="Replaces the schedule's layers when sent.")
    overrides = OverrideSerializer(many=True, required=False, help_text="Replaces the schedule's overrides when sent.")

    class Meta:
        model = OnCallSchedule
        fields = ["id", "name", "time_zone", "description", "layers", "overrides"]
        read_only_fields = ["id"]
        # The form checks the name is free and the time zone known, in one answer with the rest.
        extra_kwargs: dict[str, dict[str, Any]] = {
            "name": {"validators": [], "min_length": 1},
            "time_zone": {"min_length": 1},
        }


class ShiftSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField(), help_text="Usernames on call.")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="Null: beyond the 60 days looked at.")


class OnCallSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    users = serializers.ListField(child=serializers.CharField(), help_text="Usernames on call at `at`.")
    until = serializers.DateTimeField(allow_null=True, help_text="When this shift ends, if within 60 days.")
    next = ShiftSerializer(allow_null=True, help_text="The shift after, if any within 60 days.")


def _shift(shift: Any) -> dict[str, Any]:
    return {"users": _usernames(shift.users), "starts_at": shift.starts_at, "ends_at": shift.ends_at}


class ScheduleViewSet(StrictQueryParameters, viewsets.ModelViewSet):
    """On-call schedules with their rotation layers and overrides."""

    queryset = OnCallSchedule.objects.prefetch_related("layers", "overrides__user").order_by("name", "id")
    serializer_class = ScheduleSerializer
    parser_classes = [JSONParser]
    query_parameters = {"list": PAGINATION, "oncall": ("at",)}

    def perform_create(self, serializer: ScheduleSerializer) -> None:  # type: ignore[override]
        serializer.instance = self._save(serializer.validated_data, instance=None)

    def perform_update(self, serializer: ScheduleSerializer) -> None:  # type: ignore[override]
        serializer.instance = self._save(serializer.validated_data, instance=serializer.instance)

    @transaction.atomic
    def _save(self, values: dict[str, Any], *, instance: OnCallSchedule | None) -> OnCallSchedule:
        layers, overrides = values.pop("layers", None), values.pop("overrides", None)
        errors: dict[str, Any] = {}
        for n, layer in enumerate(layers or []):
            try:
                layer_validate(
                    users=layer["users"],
                    restrict_start=layer.get("restrict_start"),
                    restrict_end=layer.get("restrict_end"),
                    starts_at=layer.get("starts_at"),
                )
            except DjangoValidationError as exc:
                errors.update(_nested_errors(f"layers[{n}]", exc))
        try:
            form_bound(OnCallScheduleForm, values=values, instance=instance)
        except serializers.ValidationError as exc:
            errors = {**exc.detail, **errors}  # type: ignore[dict-item]
        if errors:
            raise serializers.ValidationError(errors)
        schedule = form_save(OnCallScheduleForm, values=values, instance=instance)
        if layers is not None:
            schedule.layers.all().delete()
            OnCallLayer.objects.bulk_create(OnCallLayer(schedule=schedule, **layer) for layer in layers)
        if overrides is not None:
            schedule.overrides.all().delete()
            OnCallOverride.objects.bulk_create(OnCallOverride(schedule=schedule, **o) for o in overrides)
        return self.get_queryset().get(pk=schedule.pk)

    @extend_schema(parameters=[AT_PARAMETER], responses=OnCallSerializer)
    @action(detail=True, methods=["get"], pagination_class=None)
    def oncall(self, request: Request, pk: str | None = None) -> Response:
        """Who is on call at `at` (now by default), until when, and who comes next."""
        schedule, at = self.get_object(), _at(request)
        shifts = oncall_shifts(schedule=schedule, start=at, count=2)
        current = shifts[0] if shifts and shifts[0].starts_at <= at else None
        upcoming = [s for s in shifts if s is not current]
        answer = {
            "at": at,
            "users": _usernames(current.users) if current else [],
            "until": current.ends_at if current else None,
            "next": _shift(upcoming[0]) if upcoming else None,
        }
        return Response(OnCallSerializer(answer).data)


# --- escalation policies -------------------------------------------------------------------


class StepSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    users = UsernameField(many=True, required=False, help_text="Usernames paged directly.")

    class Meta:
        model = EscalationStep
        fields = ["order", "delay_minutes", "channels", "schedule", "users"]
        extra_kwargs: dict[str, dict[str, Any]] = {
            "order": {"max_value": 32767},
            "delay_minutes": {"max_value": INT32, "help_text": "Minutes unacknowledged after the step before."},
            "channels": {"required": False, "help_text": "Channel ids paged."},
            "schedule": {"help_text": "Whoever is on call in this schedule (its id) is paged."},
        }


class PolicySerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    steps = StepSerializer(many=True, required=False, help_text="Replaces the policy's steps when sent.")

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "repeat", "description", "steps"]
        read_only_fields = ["id"]
        extra_kwargs: dict[str, dict[str, Any]] = {
            "name": {"validators": [], "min_length": 1},
            "repeat": {"max_value": 32767},
        }


class PagedStepSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    wait_minutes = serializers.IntegerField(help_text="After the step before (or the incident opening).")
    users = serializers.ListField(child=serializers.CharField(), help_text="Usernames it would page at `at`.")
    schedule = serializers.IntegerField(allow_null=True)
    channels = serializers.ListField(child=serializers.IntegerField(), help_text="Channel ids it would page.")


class PolicyViewSet(StrictQueryParameters, viewsets.ModelViewSet):
    """Escalation policies: who is paged, in which order, after how long unacknowledged."""

    queryset = EscalationPolicy.objects.prefetch_related("steps__channels", "steps__users").order_by("name", "id")
    serializer_class = PolicySerializer
    parser_classes = [JSONParser]
    query_parameters = {"list": PAGINATION, "oncall": ("at",)}

    def perform_create(self, serializer: PolicySerializer) -> None:  # type: ignore[override]
        serializer.instance = self._save(serializer.validated_data, instance=None)

    def perform_update(self, serializer: PolicySerializer) -> None:  # type: ignore[override]
        serializer.instance = self._save(serializer.validated_data, instance=serializer.instance)

    @transaction.atomic
    def _save(self, values: dict[str, Any], *, instance: EscalationPolicy | None) -> EscalationPolicy:
        steps = values.pop("steps", None)
        errors: dict[str, Any] = {}
        for n, step in enumerate(steps or []):
            try:
                form_bound(EscalationStepForm, values=step)
            except serializers.ValidationError as exc:
                errors.update(_nested_errors(f"steps[{n}]", exc))
        try:
            form_bound(EscalationPolicyForm, values=values, instance=instance)
        except serializers.ValidationError as exc:
            errors = {**exc.detail, **errors}  # type: ignore[dict-item]
        if errors:
            raise serializers.ValidationError(errors)
        policy = form_save(EscalationPolicyForm, values=values, instance=instance)
        if steps is not None:
            policy.steps.all().delete()
            for step in steps:
                form_save(EscalationStepForm, values=step, stamp={"policy": policy})
        return self.get_queryset().get(pk=policy.pk)

    @extend_schema(
        parameters=[AT_PARAMETER],
        responses=inline_serializer(
            "PolicyOnCall", {"at": serializers.DateTimeField(), "steps": PagedStepSerializer(many=True)}
        ),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def oncall(self, request: Request, pk: str | None = None) -> Response:
        """Whom each step of the policy's first round would page if an incident opened at `at`:
        its users and whoever is on call then in its schedule."""
        policy, at = self.get_object(), _at(request)
        steps = [s for s in escalation_snapshot(policy) if s["round"] == 1]
        direct = {u.pk: u for u in get_user_model().objects.filter(pk__in={i for s in steps for i in s["user_ids"]})}
        schedules = OnCallSchedule.objects.in_bulk({s["schedule_id"] for s in steps if s["schedule_id"]})
        rows = []
        for step in steps:
            paged = [direct[i] for i in step["user_ids"] if i in direct and direct[i].is_active]
            schedule = schedules.get(step["schedule_id"]) if step["schedule_id"] else None
            if schedule is not None:
                paged += [u for u in oncall_users(schedule=schedule, at=at) if u not in paged]
            rows.append(
                {
                    "step": step["step"],
                    "wait_minutes": step["wait_minutes"],
                    "users": _usernames(paged),
                    "schedule": step["schedule_id"],
                    "channels": step["channel_ids"],
                }
            )
        return Response({"at": serializers.DateTimeField().to_representation(at), "steps": rows})
