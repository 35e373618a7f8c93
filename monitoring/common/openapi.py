"""How a Bearer credential appears in the OpenAPI schema, for every kind that is one."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerScheme(OpenApiAuthenticationExtension):
    """Subclasses set `target_class`, `name` and a `description` that says where the token comes from.

    This base has no target class, so drf-spectacular never matches it to a view.
    """

    description = ""

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": self.description}
