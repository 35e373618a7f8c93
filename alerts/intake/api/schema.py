"""How the integration token appears in the OpenAPI schema."""

from monitoring.common.openapi import BearerScheme


class IntegrationTokenScheme(BearerScheme):
    target_class = "alerts.intake.api.authentication.IntegrationTokenAuthentication"
    name = "integrationToken"
    description = (
        "An integration's token (`manage.py createintegration NAME --kind …`); "
        "also accepted as `?token=`, and by the events API as the body's `routing_key`."
    )
