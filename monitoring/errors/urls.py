from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from monitoring.errors import artifact_api, release_api
from monitoring.errors.api import envelope_view, store_view
from monitoring.errors.issues_api import IssueViewSet
from monitoring.errors.security_api import security_view
from monitoring.errors.views import attachment_download

ORG = "api/0/organizations/<str:org>"
RELEASE = f"{ORG}/releases/<str:version>"

# The paths sentry-sdk builds from a DSN: http://<key>@<host>/<project_id>.
urlpatterns: list[URLPattern | URLResolver] = [
    path("api/<int:project_id>/envelope/", envelope_view, name="sentry-envelope"),
    path("api/<int:project_id>/store/", store_view, name="sentry-store"),
    path("api/<int:project_id>/security/", security_view, name="sentry-security"),
    path("errors/attachments/<int:attachment_id>/download/", attachment_download, name="errors-attachment-download"),
]

# The paths sentry-cli builds from SENTRY_URL: <url>/api/0/….
urlpatterns += [
    path("api/0/", release_api.AuthInfoView.as_view(), name="sentry-api-auth"),
    path(f"{ORG}/releases/", release_api.ReleasesView.as_view(), name="sentry-releases"),
    path(
        "api/0/projects/<str:org>/<str:project>/releases/",
        release_api.ReleasesView.as_view(),
        name="sentry-project-releases",
    ),
    path(f"{RELEASE}/", release_api.ReleaseView.as_view(), name="sentry-release"),
    path(
        "api/0/projects/<str:org>/<str:project>/releases/<str:version>/",
        release_api.ReleaseView.as_view(),
        name="sentry-project-release",
    ),
    path(f"{RELEASE}/commits/", release_api.ReleaseCommitsView.as_view(), name="sentry-release-commits"),
    path(
        f"{RELEASE}/previous-with-commits/",
        release_api.PreviousWithCommitsView.as_view(),
        name="sentry-release-previous-with-commits",
    ),
    path(f"{RELEASE}/deploys/", release_api.DeploysView.as_view(), name="sentry-release-deploys"),
    path(f"{ORG}/repos/", release_api.ReposView.as_view(), name="sentry-repos"),
    path(f"{ORG}/chunk-upload/", artifact_api.ChunkUploadView.as_view(), name="sentry-chunk-upload"),
    path(
        f"{ORG}/artifactbundle/assemble/",
        artifact_api.ArtifactBundleAssembleView.as_view(),
        name="sentry-artifact-bundle-assemble",
    ),
    path(
        "api/0/projects/<str:org>/<str:project>/releases/<str:version>/files/",
        artifact_api.ReleaseFilesView.as_view(),
        name="sentry-release-files",
    ),
]

# The token API's error issues and their events.
issues_router = SimpleRouter(trailing_slash=False)
issues_router.register("api/v1/issues", IssueViewSet, basename="issue")
urlpatterns += issues_router.urls
