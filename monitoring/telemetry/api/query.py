"""GET /api/v1/metrics/query: the metrics selector over REST, for dashboards and scripts."""

import re
from datetime import timedelta

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.common.strict import StrictQueryParameters
from monitoring.models import Project
from monitoring.projects.api.scoping import check_project
from monitoring.telemetry.selectors.metrics import AGGREGATIONS, QueryError, query

# At most six digits: a year in seconds fits, and no count overflows a timedelta.
DURATION = re.compile(r"^([1-9][0-9]{0,5})([smhd]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@extend_schema_field({"type": "string", "pattern": DURATION.pattern, "example": "15m"})
class DurationField(serializers.Field):
    default_error_messages = {"invalid": "expected seconds or a number with s, m, h or d, such as 15m or 7d"}

    def to_internal_value(self, data):
        match = DURATION.match(str(data))
        if not match:
            self.fail("invalid")
        return timedelta(seconds=int(match[1]) * UNITS[match[2]])

    def to_representation(self, value):
        return int(value.total_seconds())


class MetricQuerySerializer(serializers.Serializer):
    project = serializers.CharField(max_length=100, help_text="The project's slug or id.")
    name = serializers.CharField(max_length=200)
    agg = serializers.ChoiceField(choices=AGGREGATIONS, default="avg")
    window = DurationField(default=timedelta(hours=1), help_text="e.g. 1h, 7d (default 1h)")
    step = DurationField(required=False, help_text="bucket width, e.g. 5m (default: the window)")
    tag = serializers.ListField(
        child=serializers.RegexField(r"^[^:]+:.*$", error_messages={"invalid": "expected key:value"}),
        required=False,
        default=list,
        help_text="Repeatable: key:value, all must match.",
    )

    def validate_project(self, value):
        lookup = {"pk": int(value)} if value.isdigit() and len(value) < 19 else {"slug": value}
        project = Project.objects.filter(**lookup).first()
        if project is None:
            raise serializers.ValidationError(f"no project {value!r}")
        return project


class MetricQueryView(StrictQueryParameters, APIView):
    query_parameters = {"get": tuple(MetricQuerySerializer().fields)}
    # One project's metrics a query: a limited token asks only of its projects.
    scopes_by_project = True

    @extend_schema(
        parameters=[MetricQuerySerializer],
        responses={
            200: inline_serializer(
                "MetricQueryResult",
                {
                    "resolution": serializers.IntegerField(),
                    "series": serializers.IntegerField(),
                    "buckets": serializers.ListField(child=serializers.DictField()),
                },
            ),
        },
    )
    def get(self, request):
        params = MetricQuerySerializer(data={**request.query_params.dict(), "tag": request.query_params.getlist("tag")})
        params.is_valid(raise_exception=True)
        p = params.validated_data
        check_project(request, p["project"])
        tags = dict(item.split(":", 1) for item in p["tag"])
        try:
            result = query(p["project"], p["name"], tags, p["agg"], p["window"], p.get("step"))
        except QueryError as exc:
            field, _, message = str(exc).partition(": ")
            raise serializers.ValidationError({field: [message]}) from None
        return Response(
            {
                "project": p["project"].slug,
                "name": p["name"],
                "agg": p["agg"],
                "tags": tags,
                "resolution": result.resolution,
                "series": result.series,
                "buckets": [{"start": b.start, "value": b.value} for b in result.buckets],
            }
        )
