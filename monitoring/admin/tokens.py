from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.decorators import action

from monitoring.models import ApiToken
from monitoring.services.api_tokens import api_token_create, api_token_revoke


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name", "scope", "expires_at")


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    form = ApiTokenForm
    list_display = ("prefix", "user", "name", "scope", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("scope",)
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False  # a token is revoked and replaced, never edited

    def save_model(self, request, obj, form, change):
        created = api_token_create(
            user=form.cleaned_data["user"], scope=form.cleaned_data["scope"],
            name=form.cleaned_data["name"], expires_at=form.cleaned_data["expires_at"],
        )
        # The admin's own messages and redirect describe `obj`; make it the saved token.
        obj.pk, obj.prefix, obj.scope = created.token.pk, created.token.prefix, created.token.scope
        messages.warning(
            request,
            format_html("Copy the token now, it is not shown again: <code>{}</code>", created.secret),
        )

    @action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at=None):
            api_token_revoke(token=token)
        messages.success(request, "Revoked.")
