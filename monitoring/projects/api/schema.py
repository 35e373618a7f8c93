"""How our authentication classes appear in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "monitoring.projects.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (`manage.py createtoken USER --scope read|write`).",
        }


class IngestKeyScheme(OpenApiAuthenticationExtension):
    target_class = "monitoring.projects.api.authentication.IngestKeyAuthentication"
    name = "ingestKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Lookout-Key",
            "description": "A project's ingest key; also accepted as `Authorization: Bearer` or `?key=`.",
        }
