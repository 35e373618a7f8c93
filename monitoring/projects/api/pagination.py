"""Cursor pagination for the token API's large lists (issues, their events).

A cursor stays right while rows arrive: a page is found by the position of the last row read,
not by an offset that new rows shift. A cursor that does not decode, or a page size out of
range, is a 400 naming the parameter, not DRF's 404 or a silent default."""

from rest_framework import pagination, serializers
from rest_framework.exceptions import NotFound


class StrictCursorPagination(pagination.CursorPagination):
    """Subclasses set `ordering`: unique in its last column, so no row is read twice."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise serializers.ValidationError({self.cursor_query_param: ["not a cursor this list gave"]}) from exc

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise serializers.ValidationError(
                {self.page_size_query_param: [f"expected a whole number from 1 to {self.max_page_size}"]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
        return parameters


CURSOR = ("cursor", "page_size")
