"""Axes' login-attempt admin, with the account-wide lockout made visible and undoable."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from monitoring.logins.selectors import account_failures, accounts_locked


class AccountLockedFilter(admin.SimpleListFilter):
    title = "account locked (any address)"
    parameter_name = "account_locked"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        locked = accounts_locked(now=timezone.now())
        if self.value() == "yes":
            return queryset.filter(username__in=locked)
        if self.value() == "no":
            return queryset.exclude(username__in=locked)
        return queryset


class LoginAttemptAdmin(AccessAttemptAdmin):
    list_display = [*AccessAttemptAdmin.list_display, "account_locked"]
    list_filter = [AccountLockedFilter, *AccessAttemptAdmin.list_filter]
    actions = ["unlock_accounts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessAttempt]:
        # The account's failures over every address, in the page's one query rather than one per row.
        return super().get_queryset(request).annotate(account_failures=account_failures(now=timezone.now()))

    @admin.display(boolean=True, description="account locked")
    def account_locked(self, attempt: AccessAttempt) -> bool:
        return (getattr(attempt, "account_failures", None) or 0) >= settings.AXES_FAILURE_LIMIT

    @admin.action(description="Unlock the selected accounts (every address)")
    def unlock_accounts(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        usernames = set(queryset.values_list("username", flat=True))
        cleared = sum(reset(username=name) for name in usernames if name)
        messages.success(request, f"{len(usernames)} account(s) unlocked; {cleared} attempt record(s) cleared.")


# Axes registers its own admin first (it comes before monitoring in INSTALLED_APPS).
if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, LoginAttemptAdmin)
