"""The token API writes alerting configuration through the admin's own forms.

A silence, a maintenance window, a rule or a channel has rules no JSON Schema can state (a
window names its scope, a rule's params suit its kind, a channel's secrets are environment
variables). Those rules live once, in the form the admin uses; the API's serializer only
checks the types of the body, then hands it to that form. A form error becomes a 400 naming
the field, and an invalid form writes nothing.
"""

import json
from collections.abc import Mapping
from typing import Any

from django import forms
from django.db import models, transaction
from rest_framework import serializers


def form_data(form: forms.BaseForm, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` as a browser would post them to `form`: JSON values as JSON text (the JSON
    fields parse text), lists of ids left as lists for the multiple-choice fields."""
    data: dict[str, Any] = {}
    for name, value in values.items():
        field = form.fields.get(name)
        many = isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)
        if isinstance(value, models.Model):
            value = value.pk
        elif many and value is not None:
            value = [item.pk if isinstance(item, models.Model) else item for item in value]
        elif isinstance(value, dict | list) or (isinstance(field, forms.JSONField) and value is not None):
            value = json.dumps(value)
        if value is None:
            continue  # an empty box
        data[name] = value
    return data


def form_errors(form: forms.BaseForm) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, found in form.errors.items():
        key = "non_field_errors" if name == forms.forms.NON_FIELD_ERRORS else name
        errors[key] = [str(message) for message in found]
    return errors


@transaction.atomic
def form_save(
    form_class: type[forms.ModelForm],
    *,
    values: Mapping[str, Any],
    instance: models.Model | None = None,
    partial: bool = False,
    stamp: Mapping[str, Any] | None = None,
    **form_kwargs: Any,
) -> Any:
    """Save `instance` (or a new object) from `values` through `form_class`; with `partial`,
    the fields not in `values` keep the instance's current values. ValidationError (a 400
    naming each field) and nothing written when the form refuses. `stamp` sets attributes the
    form does not edit (who made it) on an object being created, as the admin's save_model does."""
    current = form_class(instance=instance, **form_kwargs) if instance is not None else None
    merged: dict[str, Any] = {}
    if partial and current is not None:
        merged.update({name: current.initial.get(name) for name in current.fields})
    merged.update(values)
    probe = current or form_class(**form_kwargs)
    form = form_class(data=form_data(probe, merged), instance=instance, **form_kwargs)
    if not form.is_valid():
        raise serializers.ValidationError(form_errors(form))
    saved = form.save(commit=False)
    if instance is None:
        for name, value in (stamp or {}).items():
            setattr(saved, name, value)
    saved.save()
    form.save_m2m()
    return saved
