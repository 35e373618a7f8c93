from django.db.models import Prefetch
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from monitoring.common.strict import PAGINATION, NamesField, StrictFieldsSerializer, StrictQueryParameters
from monitoring.models import IngestKey, Project
from monitoring.projects.api.scoping import project_scoped, token_projects
from monitoring.projects.services.projects import ProjectError, project_create


class ProjectSerializer(StrictFieldsSerializer, serializers.ModelSerializer):
    dsn = serializers.CharField(read_only=True, allow_null=True)
    environments = NamesField(
        child=serializers.RegexField(r"^[^\s/]+$", max_length=64),
        required=False,
        default=["production"],
    )
    slug = serializers.SlugField(max_length=100, required=False, default="")

    class Meta:
        model = Project
        fields = ["id", "name", "slug", "environments", "dsn", "created_at"]
        read_only_fields = ["id", "dsn", "created_at"]


class ProjectViewSet(
    StrictQueryParameters,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Projects and their DSNs. Creating one also creates its first ingest key."""

    serializer_class = ProjectSerializer
    parser_classes = [JSONParser]  # the token API reads JSON only; anything else is a 415
    query_parameters = {"list": PAGINATION}
    queryset = Project.objects.prefetch_related(
        Prefetch("ingest_keys", queryset=IngestKey.objects.filter(revoked_at=None)), "environments"
    ).order_by("id")
    scopes_by_project = True

    def get_queryset(self):
        return project_scoped(super().get_queryset(), self.request, field="pk")

    def create(self, request, *args, **kwargs):
        if token_projects(request) is not None:
            # A new project is outside any set a token was limited to.
            raise exceptions.PermissionDenied("Authorization: a project-limited token cannot create projects.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            created = project_create(name=data["name"], slug=data["slug"], environments=tuple(data["environments"]))
        except ProjectError as exc:
            field, _, message = str(exc).partition(": ")
            raise serializers.ValidationError({field: [message]}) from exc
        project = self.get_queryset().get(pk=created.project.pk)
        return Response(self.get_serializer(project).data, status=status.HTTP_201_CREATED)
