"""How our authentication classes appear in the OpenAPI schema."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from monitoring.common.openapi import BearerScheme


class ApiTokenScheme(BearerScheme):
    target_class = "monitoring.projects.api.authentication.ApiTokenAuthentication"
    name = "apiToken"
    description = "An API token (`manage.py createtoken USER --scope read|write`)."


class IngestKeyScheme(OpenApiAuthenticationExtension):
    target_class = "monitoring.projects.api.authentication.IngestKeyAuthentication"
    name = "ingestKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        # OpenAPI gives a scheme one place to look; the description names the other two.
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Lookout-Key",
            "description": "A project's ingest key; also accepted as `Authorization: Bearer` or `?key=`.",
        }
