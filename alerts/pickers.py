"""Pickers that stay light at any size: a select that renders only what is chosen and asks a
search endpoint for the rest as the user types (unfold's styled select2), and the endpoint's
one page of answers.

A plain <select> lists every row: at 10,000 targets the page carries 10,000 options and the
form reads every row to build them. Here the page holds the chosen ones only, read in one
query, and each search reads one page of PAGE_SIZE rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from unfold.widgets import AutocompleteWidgetMixin

PAGE_SIZE = 20


class SearchSelectMixin(AutocompleteWidgetMixin):
    """The chosen options only; the others come from `url` (select2 sends `term` and `page`)."""

    allow_multiple_selected: bool
    choices: Any
    is_required: bool

    def __init__(self, url: str, attrs: dict[str, Any] | None = None, *, placeholder: str = "Type to search") -> None:
        super().__init__({**(attrs or {}), "data-ajax--url": url}, ())
        # The mixin blanks the placeholder; a box saying nothing reads as disabled.
        self.attrs["data-placeholder"] = placeholder

    class Media:
        js = (*AutocompleteWidgetMixin.Media.js, "lookout/pickers.js")
        css = AutocompleteWidgetMixin.Media.css

    def chosen(self, values: set[str]) -> Iterable[tuple[Any, str]]:
        """(value, label) of the chosen values that exist, in one query for a model field."""
        if hasattr(self.choices, "queryset"):  # a ModelChoiceIterator: read the chosen rows only
            field = self.choices.field
            key = field.to_field_name or "pk"
            rows = self.choices.queryset.filter(**{f"{key}__in": values})
            return ((getattr(obj, key), field.label_from_instance(obj)) for obj in rows)
        return ((value, value) for value in sorted(values))  # free values (usernames): shown as they are

    def optgroups(self, name: str, value: list[Any], attrs: dict[str, Any] | None = None) -> list[Any]:
        options: list[dict[str, Any]] = []
        if not self.is_required and not self.allow_multiple_selected:
            options.append(self.create_option(name, "", "", False, 0))
        values = {str(v) for v in value if v not in (None, "")}
        for option_value, label in self.chosen(values):
            options.append(self.create_option(name, option_value, label, True, len(options)))
        return [(None, options, 0)]


# Django's own option template: optgroups already holds only what is to be shown (unfold's
# autocomplete option template prints the attribute's value, not the option's).
class SearchSelect(SearchSelectMixin, forms.Select):
    pass


class SearchSelectMultiple(SearchSelectMixin, forms.SelectMultiple):
    pass


def picker_page(
    request: HttpRequest, rows: QuerySet[Any], *, label: Callable[[Any], str], key: str = "pk"
) -> JsonResponse:
    """One page of `rows` (already searched and ordered) as select2 reads it: the page is
    ?page=N from 1; one row more than a page is read to know whether another follows."""
    try:
        page = max(int(request.GET.get("page") or 1), 1)
    except ValueError:
        return JsonResponse({"error": "page: a whole number from 1"}, status=400)
    start = (page - 1) * PAGE_SIZE
    found = list(rows[start : start + PAGE_SIZE + 1])
    results = [{"id": str(getattr(row, key)), "text": label(row)} for row in found[:PAGE_SIZE]]
    return JsonResponse({"results": results, "pagination": {"more": len(found) > PAGE_SIZE}})
