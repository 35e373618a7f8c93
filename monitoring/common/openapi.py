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


# Any JSON value, null included: OpenAPI 3.0 has no type for "anything or null", and a schema
# with no type and `nullable` is read by validators as not allowing null.
ANYTHING: dict[str, Any] = {
    "anyOf": [{"type": kind} for kind in ("object", "array", "number", "boolean")]
    + [{"type": "string", "nullable": True}]
}

ERROR = {
    "type": "object",
    "description": "Every refusal is JSON: `error` says what, `fields` (for 400) names each field sent and why.",
    "properties": {
        "error": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {}},
    },
    "required": ["error"],
}
ERROR_EXAMPLES = {
    "400": {"error": "invalid input", "fields": {"group_by": ["unknown query parameter; expected one of: name"]}},
    "401": {"error": "Authentication credentials were not provided."},
    "403": {"error": "You do not have permission to perform this action."},
    "404": {"error": "Not found."},
    "413": {"error": "body: 2000000 bytes is over the limit of 1048576"},
    "415": {"error": "Content-Type: 'image/png' is not accepted; send application/json"},
    "429": {"error": "Request was throttled. Expected available in 1 second."},
    "503": {"error": "database unavailable, nothing was stored; retry later"},
}
REASONS = {
    "400": "Invalid input: a field or query parameter that is wrong or unknown, named in `fields`.",
    "401": "No credential, or one that is not valid.",
    "403": "The credential may not do this (token scope, role, or origin).",
    "404": "No such object, or not one this credential may see.",
    "413": "The body is over the size limit.",
    "415": "A Content-Type the endpoint does not read.",
    "429": "Over the rate limit; Retry-After says when to try again.",
    "503": "The database is unreachable; nothing was stored, retry after Retry-After.",
}
# Credentials that arrive with a body anyone may send (a page's ingest key, a sender's token):
# those endpoints also bound the body, check its type and are rate limited.
SENDERS = {"ingestKey", "integrationToken"}


def _error_answers(operation: dict[str, Any], method: str) -> list[str]:
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    answers = ["400", "503"]  # unknown query parameters are refused everywhere; the database may be down
    if schemes:
        answers += ["401", "403"]
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        answers.append("404")
    if "requestBody" in operation:
        answers.append("415")
    if schemes & SENDERS and method == "post":
        answers += ["413", "429"]
    return answers


def document_error_answers(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A drf-spectacular postprocessing hook: every operation documents the refusals it can give,
    with the shape and an example, unless the view documented that status itself."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for methods in result.get("paths", {}).values():
        for method, operation in methods.items():
            responses = operation.setdefault("responses", {})
            if method == "post" and "requestBody" in operation:
                operation["requestBody"]["required"] = True  # every POST here reads a body
            # A view may name a refusal of its own (with a description, no body): it gets the shape too.
            extra = [code for code, answer in responses.items() if code in REASONS and "content" not in answer]
            for code in {*_error_answers(operation, method), *extra}:
                answer = responses.setdefault(code, {"description": REASONS[code]})
                answer.setdefault(
                    "content",
                    {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/Error"},
                            "example": ERROR_EXAMPLES[code],
                        }
                    },
                )
    return result
