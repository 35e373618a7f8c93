"""Alert rules over REST: list, create, change, and preview what a rule would have done.

A rule is written through the rule editor's own form (alerts.rules.forms), with its params
sent as JSON: the kind's validate_params checks them, and a project is required where the
kind reads one project's data, as in the admin. The serializer only checks the body's types.
"""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from alerts.api_forms import form_bound, form_save
from alerts.configuration import RulesSection
from alerts.models import AlertRule
from alerts.rules.forms import rule_form_class
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.services.preview import Preview, rule_preview
from monitoring.common.strict import PAGINATION, StrictCharField, StrictFieldsSerializer, StrictQueryParameters
from monitoring.projects.api.scoping import check_project, project_scoped


class AlertRuleSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=list(RULE_KINDS), help_text="A rule kind; it decides what params holds.")
    params = serializers.DictField(help_text="The kind's parameters, checked by the kind (see the admin's examples).")
    labels = serializers.DictField(child=StrictCharField(min_length=1, max_length=200), required=False)
    group_by = serializers.ListField(child=StrictCharField(min_length=1, max_length=100), required=False)

    class Meta:
        model = AlertRule
        # The configuration file's fields (alerts.configuration): what a team keeps in git is
        # what the API reads and writes.
        fields = [
            "id",
            "project",
            *RulesSection.plain,
            "channels",
            "escalation_policy",
            "last_evaluated_at",
            "last_error",
            "created_at",
        ]
        read_only_fields = ["id", "last_evaluated_at", "last_error", "created_at"]
        # The schema says what "may not be blank" refuses, and the durations' bound is what a
        # PostgreSQL integer column holds on SQLite too (a larger one overflows a timedelta).
        extra_kwargs: dict[str, dict[str, Any]] = {
            "name": {"min_length": 1},
            **{name: {"max_value": 2**31 - 1} for name in RulesSection.plain if name.endswith("_seconds")},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A limited token's rules read its projects only: never across projects (no project).
        if "project" in attrs or self.instance is None:
            check_project(self.context["request"], attrs.get("project"))
        return attrs


def _params_named(exc: serializers.ValidationError) -> serializers.ValidationError:
    """The kind's "name: why" on params, keyed `params.name`, as the other token API fields are."""
    detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    errors: dict[str, list[str]] = {
        key: [str(m) for m in (found if isinstance(found, list) else [found])] for key, found in detail.items()
    }
    for message in errors.pop("params", []):
        name, sep, why = message.partition(": ")
        key = f"params.{name}" if sep and " " not in name else "params"
        errors.setdefault(key, []).append(why if key != "params" else message)
    return serializers.ValidationError(errors)


def _checked(form_call, *args: Any, **kwargs: Any) -> Any:
    try:
        return form_call(*args, **kwargs)
    except serializers.ValidationError as exc:
        raise _params_named(exc) from exc


def _rule_form(values: dict[str, Any], rule: AlertRule | None):
    """The editor's form for the rule's kind, bound to `values` with params taken as JSON."""
    kind = RULE_KINDS[values.get("kind") or rule.kind]  # type: ignore[union-attr]
    project = values["project"] if "project" in values else (rule.project if rule else None)
    form_class = rule_form_class(kind, project_id=project.pk if project else None)
    return form_class, {**values, "params_as_json": True}


PreviewAnswer = inline_serializer(
    "RulePreview",
    {
        "supported": serializers.BooleanField(help_text="False when the kind has no history to replay; see reason."),
        "reason": serializers.CharField(),
        "fired": serializers.IntegerField(help_text="How many times the rule would have started firing."),
        "evaluations": serializers.IntegerField(),
        "errors": serializers.IntegerField(),
        "step_seconds": serializers.IntegerField(),
        "start": serializers.DateTimeField(allow_null=True),
        "end": serializers.DateTimeField(allow_null=True),
        "threshold": serializers.FloatField(allow_null=True),
        "points": serializers.ListField(
            child=inline_serializer(
                "RulePreviewPoint",
                {
                    "at": serializers.DateTimeField(),
                    "value": serializers.FloatField(allow_null=True),
                    "firing": serializers.BooleanField(),
                },
            )
        ),
    },
)


def _preview_answer(preview: Preview) -> dict[str, Any]:
    return {
        "supported": preview.supported,
        "reason": preview.reason,
        "fired": preview.fired,
        "evaluations": preview.evaluations,
        "errors": preview.errors,
        "step_seconds": int(preview.step.total_seconds()),
        "start": preview.start,
        "end": preview.end,
        "threshold": preview.threshold,
        "points": [
            {"at": at, "value": value, "firing": firing}
            for (at, value), firing in zip(preview.points, preview.firing, strict=True)
        ],
    }


class AlertRuleViewSet(
    StrictQueryParameters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Alert rules. Params are checked by the rule's kind, as in the rule editor."""

    queryset = AlertRule.objects.prefetch_related("channels").order_by("id")
    serializer_class = AlertRuleSerializer
    parser_classes = [JSONParser]
    query_parameters = {"list": PAGINATION}
    # A limited token reads and writes its projects' rules; channels and escalation policies
    # it names stay organisation-wide, as in the admin.
    scopes_by_project = True

    def get_queryset(self) -> QuerySet[AlertRule]:
        return project_scoped(super().get_queryset(), self.request)

    def _save(self, rule: AlertRule, form, change: bool) -> None:
        # The rule admin's save resets live alerts when the kind, params, project or grouping
        # change and brings the next evaluation forward: the same save, not a copy of it.
        admin.site._registry[AlertRule].save_model(self.request, rule, form, change)

    def perform_create(self, serializer: "serializers.BaseSerializer[Any]") -> None:
        form_class, values = _rule_form(serializer.validated_data, None)
        serializer.instance = _checked(form_save, form_class, values=values, save=self._save)

    def perform_update(self, serializer: "serializers.BaseSerializer[Any]") -> None:
        form_class, values = _rule_form(serializer.validated_data, serializer.instance)
        serializer.instance = _checked(
            form_save, form_class, values=values, instance=serializer.instance, save=self._save
        )

    @extend_schema(request=None, responses=PreviewAnswer, operation_id="v1_rules_preview_saved")
    @action(detail=True, methods=["post"], url_path="preview")
    def preview_saved(self, request: Request, pk: str | None = None) -> Response:
        """Replay the saved rule over the last 7 days. Nothing is written."""
        return Response(_preview_answer(rule_preview(rule=self.get_object(), now=timezone.now())))

    @extend_schema(request=AlertRuleSerializer, responses=PreviewAnswer, operation_id="v1_rules_preview_draft")
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """Replay a rule not saved yet (the body a create would take) over the last 7 days.
        Checked as a create is; nothing is written."""
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        form_class, values = _rule_form(body.validated_data, None)
        rule = _checked(form_bound, form_class, values=values).save(commit=False)
        return Response(_preview_answer(rule_preview(rule=rule, now=timezone.now())))
