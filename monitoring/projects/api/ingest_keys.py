from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.projects.api.authentication import IngestKeyAuthentication
from monitoring.projects.api.permissions import HasIngestKey


class IngestKeyView(APIView):
    """Which project an ingest key sends to: how a client checks its key before sending data."""

    authentication_classes = [IngestKeyAuthentication]
    permission_classes = [HasIngestKey]

    @extend_schema(
        responses=inline_serializer(
            "IngestKeyInfo",
            {
                "project_id": serializers.IntegerField(),
                "project": serializers.CharField(),
                "key": serializers.CharField(),
                "dsn": serializers.CharField(),
            },
        )
    )
    def get(self, request):
        key = request.auth
        return Response({"project_id": key.project_id, "project": key.project.slug, "key": key.label, "dsn": key.dsn})
