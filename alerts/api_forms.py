"""The token API writes alerting configuration through the admin's own forms.

A silence, a maintenance window, a rule or a channel has rules no JSON Schema can state (a
window names its scope, a rule's params suit its kind, a channel's secrets are environment
variables). Those rules live once, in the form the admin uses; the API's serializer only
checks the types of the body, then hands it to that form. A form error becomes a 400 naming
the field, and an invalid form writes nothing.
"""

import json
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
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
        key = "non_field_errors" if name == NON_FIELD_ERRORS else name
        errors[key] = [str(message) for message in found]
    return errors


def form_bound(
    form_class: type[forms.ModelForm],
    *,
    values: Mapping[str, Any],
    instance: models.Model | None = None,
    **form_kwargs: Any,
) -> forms.ModelForm:
    """`form_class` bound to `values`, checked. A field not in `values` keeps what the form
    starts from: the instance's current value, or the model's default for a new object (a
    client sends only what it means to set). ValidationError naming each field otherwise."""
    # A form given no instance starts from nothing; given a new one, from the model's defaults.
    start = instance if instance is not None else form_class._meta.model()
    current = form_class(instance=start, **form_kwargs)
    merged = {name: current.initial.get(name) for name in current.fields}
    merged.update(values)
    form = form_class(data=form_data(current, merged), instance=start, **form_kwargs)
    if not form.is_valid():
        raise serializers.ValidationError(form_errors(form))
    return form


@transaction.atomic
def form_save(
    form_class: type[forms.ModelForm],
    *,
    values: Mapping[str, Any],
    instance: models.Model | None = None,
    stamp: Mapping[str, Any] | None = None,
    save: Callable[[models.Model, forms.ModelForm, bool], None] | None = None,
    **form_kwargs: Any,
) -> Any:
    """Save `instance` (or a new object) from `values` through `form_class` (see form_bound):
    nothing is written when the form refuses. `stamp` sets attributes the form does not edit
    (who made it) on an object being created, as the admin's save_model does. `save(obj, form,
    change)` replaces the plain obj.save() where the admin does more on a save."""
    form = form_bound(form_class, values=values, instance=instance, **form_kwargs)
    saved = form.save(commit=False)
    change = saved.pk is not None
    if not change:
        for name, value in (stamp or {}).items():
            setattr(saved, name, value)
    if save is None:
        saved.save()
    else:
        save(saved, form, change)
    form.save_m2m()
    return saved
