"""Strict inputs over REST: unknown body fields and unknown query parameters are a 400 naming them.

One mechanism for every API view (token API, ingest, intake), built on `unknown_fields`, so the
answer reads the same everywhere: {"error": "invalid input", "fields": {"group_by": [...]}}.
Where a client needs forward compatibility (Sentry envelopes, Alertmanager webhooks) the view
says so in its schema description and does not use these."""

from collections.abc import Collection, Mapping

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import pagination, serializers

from monitoring.common.validators import unknown_fields

PAGINATION = ("limit", "offset")


def refuse_unknown(data: Mapping, known: Collection[str], *, where: str = "", kind: str = "field") -> None:
    errors = unknown_fields(data, known, where=where)
    if errors:
        raise serializers.ValidationError(
            {path: [message.replace("unknown field", f"unknown {kind}")] for path, message in errors.items()}
        )


class StrictQueryParameters:
    """A view mixin: the query parameters an action reads are declared in `query_parameters`
    (action name for viewsets, lower-case HTTP method for plain views); any other is a 400.
    `credential_parameters` are those the authentication reads (`?key=`, `?token=`)."""

    query_parameters: Mapping[str, Collection[str]] = {}
    credential_parameters: Collection[str] = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            return  # a method the view does not have: 405 says so, whatever the query
        name = getattr(self, "action", None) or method
        known = {*self.query_parameters.get(name, ()), *self.credential_parameters}
        refuse_unknown(request.query_params, known, kind="query parameter")


# JSON types each field kind takes as it is: DRF would read 5 as "5", "5" as 5 and "yes" as true.
JSON_TYPES: tuple[tuple[type[serializers.Field], tuple[type, ...], str], ...] = (
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.ChoiceField, (str,), "a string"),
    (serializers.CharField, (str,), "a string"),
    (serializers.IntegerField, (int,), "a whole number"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.ListField, (list,), "a list"),
    # DRF reads any iterable as these lists, so {} or "12" would pass as a list of keys or digits.
    (serializers.ManyRelatedField, (list,), "a list"),
    (serializers.ListSerializer, (list,), "a list"),
)


def _type_errors(fields, data: Mapping) -> dict[str, list[str]]:
    errors = {}
    for name, value in data.items():
        field = fields.get(name)
        if field is None or field.read_only or value is None:
            continue
        for kind, types, expected in JSON_TYPES:
            if isinstance(field, kind):
                wrong_bool = isinstance(value, bool) and bool not in types
                if wrong_bool or not isinstance(value, types):
                    errors[name] = [f"expected {expected}"]
                break
    return errors


class StrictFieldsSerializer(serializers.Serializer):
    """A serializer mixin for JSON bodies: a key that is not one of the serializer's fields is a
    400 naming it, and so is a value of the wrong JSON type. Read-only fields count as known,
    so a client may send back what it read."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            refuse_unknown(data, self.fields.keys())
            if errors := _type_errors(self.fields, data):
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A string, as the schema says: DRF's CharField turns a JSON number into one, which only a
    top-level field of a StrictFieldsSerializer refuses; list items and dict values need this.
    The pattern puts DRF's own "Null characters are not allowed" in the schema."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(r"^[^\x00]*\Z"))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictLimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit` and `offset` as the schema says (whole numbers, limit at least 1), or a 400 naming
    them: DRF's own reading turns `offset=null` or `limit=-3` into the defaults without a word."""

    max_limit = 1000
    BOUNDS = {"limit": (1, 1000), "offset": (0, 2**31 - 1)}

    def get_limit(self, request):
        return self._read(request, self.limit_query_param, self.default_limit)

    def get_offset(self, request):
        return self._read(request, self.offset_query_param, 0)

    def _read(self, request, name: str, default):
        raw = request.query_params.get(name)
        if raw is None:
            return default
        low, high = self.BOUNDS[name]
        if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
            raise serializers.ValidationError({name: [f"expected a whole number from {low} to {high}"]})
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            low, high = self.BOUNDS[parameter["name"]]
            parameter["schema"].update({"minimum": low, "maximum": high})
        return parameters


class NamesField(serializers.ListField):
    """Written as a list of names, read back as the names of the related objects (tags,
    environments): one field both ways, so the schema shows it in requests and answers."""

    def __init__(self, *, sort: bool = False, **kwargs):
        self.sort = sort
        super().__init__(**kwargs)

    def to_representation(self, data):
        names = [related.name for related in data.all()]
        return sorted(names) if self.sort else names


class StrictFieldsSchema(OpenApiSerializerExtension):
    """In the OpenAPI schema, a StrictFieldsSerializer's object allows no other properties, as
    its to_internal_value does not."""

    target_class = StrictFieldsSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}
