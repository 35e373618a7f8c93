"""The issue stream (changelist) and the issue page (change view, built from the latest event,
with the issue's activity: who did what to it, and what Lookout did by itself).

Every action goes through a service with the person acting, so the timeline records them."""

import json
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from monitoring.errors.fingerprints import exceptions, frames
from monitoring.errors.models import ErrorIssueActivity
from monitoring.errors.selectors import (
    ACTIVITY_SHOWN,
    error_issue_activity,
    error_issue_hourly_events,
    error_issue_latest_event,
    error_issue_tags,
)
from monitoring.errors.services.issue_classification import error_issues_reclassify
from monitoring.errors.services.issues import (
    error_issue_assign,
    error_issue_ignore,
    error_issue_merge,
    error_issue_resolve,
    error_issue_unmerge,
    error_issue_unresolve,
)
from monitoring.models import ErrorClassificationRule, ErrorIssue, ErrorIssueSeenIn

EMPTY = "—"


class _SeenInFilter(admin.SimpleListFilter):
    dimension = ""

    def lookups(self, request, model_admin):
        values = (
            ErrorIssueSeenIn.objects.filter(dimension=self.dimension)
            .values_list("value", flat=True)
            .distinct()
            .order_by("value")[:100]
        )
        return [(v, v) for v in values]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(seen_in__dimension=self.dimension, seen_in__value=self.value())
        return queryset


class ReleaseFilter(_SeenInFilter):
    title, parameter_name, dimension = "release", "release", ErrorIssueSeenIn.Dimension.RELEASE


class EnvironmentFilter(_SeenInFilter):
    title, parameter_name, dimension = "environment", "environment", ErrorIssueSeenIn.Dimension.ENVIRONMENT


def _pre(lines: list[tuple[str, bool]]) -> SafeString:
    return format_html(
        '<pre style="margin:4px 0;padding:4px;background:rgba(127,127,127,.08);overflow-x:auto">{}</pre>',
        format_html_join(
            "\n", "{}", ((format_html("<strong>{}</strong>", text) if here else text,) for text, here in lines)
        ),
    )


def _frame(frame: dict) -> SafeString:
    where = frame.get("module") or frame.get("filename") or "?"
    in_app = frame.get("in_app") is True
    context = [(str(line), False) for line in frame.get("pre_context") or [] if isinstance(line, str)]
    if isinstance(frame.get("context_line"), str):
        context.append((frame["context_line"], True))
    context += [(str(line), False) for line in frame.get("post_context") or [] if isinstance(line, str)]
    variables = frame.get("vars")
    local_rows = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
        (
            (name, value if isinstance(value, str) else json.dumps(value)[:500])
            for name, value in (variables.items() if isinstance(variables, dict) else [])
        ),
    )
    return format_html(
        '<div style="margin:6px 0;padding:4px 8px;border-left:4px solid {}" class="{}">'
        "<div><code>{}</code> in <code>{}</code> line {}{}</div>{}{}</div>",
        "#e11d48" if in_app else "#9ca3af",
        "frame in-app" if in_app else "frame",
        where,
        frame.get("function") or "?",
        frame.get("lineno") or "?",
        " (in app)" if in_app else "",
        _pre(context) if context else "",
        format_html("<details><summary>locals</summary><table>{}</table></details>", local_rows) if local_rows else "",
    )


def _json_block(value: Any) -> str:
    if not value:
        return EMPTY
    return _pre([(json.dumps(value, indent=2, sort_keys=True, default=str)[:20_000], False)])


Action = ErrorIssueActivity.Action
# How the detail reads after the action's label, by action; the rest go without a preposition.
_OTHER_ISSUE: dict[str, str] = {Action.MERGED: "into {}", Action.UNMERGED: "out of {}"}
_RELEASE: dict[str, str] = {Action.RESOLVED_NEXT_RELEASE: "in the release after {}", Action.REGRESSED: "in release {}"}


def _when(value: datetime) -> str:
    # As the incident timeline shows times: to the second, so close steps read in order.
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i:s")


def _issue_link(issue_id: int, title: str = "") -> SafeString:
    url = reverse("admin:monitoring_errorissue_change", args=[issue_id])
    return format_html('<a href="{}">#{}{}</a>', url, issue_id, f" {title}" if title else "")


def _who(entry: ErrorIssueActivity) -> str:
    if entry.action in ErrorIssueActivity.AUTOMATIC:
        return "Lookout"
    return entry.actor.get_username() if entry.actor is not None else "unknown"


def _detail(entry: ErrorIssueActivity) -> str:
    detail = entry.detail if isinstance(entry.detail, dict) else {}
    parts: list[str] = []
    if "issue" in detail:
        link = _issue_link(detail["issue"], detail.get("title", ""))
        parts.append(format_html(_OTHER_ISSUE.get(entry.action, "{}"), link))
    if "via" in detail:
        parts.append(format_html("along with {}", _issue_link(detail["via"])))
    if "release" in detail:
        parts.append(format_html(_RELEASE.get(entry.action, "release {}"), detail["release"]))
    snooze = []
    if "until" in detail:
        snooze.append(format_html("until {}", _when(datetime.fromisoformat(detail["until"]))))
    if "events" in detail:
        snooze.append(format_html("until {} more events", detail["events"]))
    if snooze:
        parts.append(format_html_join(" or ", "{}", ((s,) for s in snooze)))
    if entry.action == Action.ASSIGNED:
        parts.append(format_html("to {}", detail.get("assignee") or "nobody"))
    return format_html_join(", ", "{}", ((p,) for p in parts))


@admin.register(ErrorIssue)
class ErrorIssueAdmin(ModelAdmin):
    list_display = (
        "title",
        "project",
        "status",
        "level",
        "event_count",
        "users_affected",
        "last_seen",
        "first_seen",
        "is_regression",
        "severity",
        "category",
        "assignee",
    )
    list_filter = ("status", "level", "category", "severity", ReleaseFilter, EnvironmentFilter, "project")
    list_select_related = ("project", "assignee")
    search_fields = ("title", "culprit")
    ordering = ("-last_seen",)
    show_full_result_count = False
    list_per_page = 50
    actions = [
        "resolve",
        "resolve_in_next_release",
        "ignore",
        "snooze_1h",
        "snooze_24h",
        "snooze_100_events",
        "unresolve",
        "merge",
        "unmerge",
        "reclassify",
    ]
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    "culprit",
                    "project",
                    "type",
                    "level",
                    "status",
                    "is_regression",
                    "resolved_in_release",
                    "snooze_until",
                    "snooze_event_count",
                    "merged_into",
                    "severity",
                    "category",
                    "should_alert",
                    "assignee",
                )
            },
        ),
        ("Activity", {"fields": ("activity_display",)}),
        (
            "Counts",
            {
                "fields": (
                    "first_seen",
                    "last_seen",
                    "event_count",
                    "users_affected",
                    "seen_in_display",
                    "hourly_events",
                )
            },
        ),
        (
            "Latest event",
            {"fields": ("stack_trace", "message_display", "breadcrumbs", "request_display", "user_display", "tags")},
        ),
        ("User reports", {"fields": ("user_reports_display",)}),
    )
    # The assignee is the one thing a person edits here; the rest comes from events and actions.
    readonly_fields = tuple(f for fs in fieldsets for f in fs[1]["fields"] if f != "assignee")

    def has_add_permission(self, request):
        return False  # issues come from events

    def save_model(self, request, obj, form, change):
        # Not obj.save(): that would write back counters a fold may have moved meanwhile.
        error_issue_assign(issue=obj, assignee=form.cleaned_data.get("assignee"), actor=request.user)

    def _latest(self, issue: ErrorIssue):
        # Once per page: every section reads the same event, kept on the page's own instance.
        cache = vars(issue)
        if "_latest_event" not in cache:
            cache["_latest_event"] = error_issue_latest_event(issue)
        return cache["_latest_event"]

    def _payload(self, issue: ErrorIssue) -> dict:
        event = self._latest(issue)
        return event.payload if event and isinstance(event.payload, dict) else {}

    @display(description="stack trace")
    def stack_trace(self, issue):
        chain = exceptions(self._payload(issue))
        if not chain:
            return EMPTY
        # Newest exception first, and within each the most recent call first, as a reader wants them.
        return format_html_join(
            "",
            "<h4 style='margin-top:8px'><code>{}: {}</code></h4>{}",
            (
                (
                    exc.get("type") or "?",
                    exc.get("value") or "",
                    format_html_join("", "{}", ((_frame(f),) for f in reversed(frames(exc)))),
                )
                for exc in reversed(chain)
            ),
        )

    @display(description="message")
    def message_display(self, issue):
        payload = self._payload(issue)
        logentry = payload.get("logentry")
        message = logentry.get("formatted") or logentry.get("message") if isinstance(logentry, dict) else None
        return message or payload.get("message") or EMPTY

    @display(description="breadcrumbs")
    def breadcrumbs(self, issue):
        crumbs = self._payload(issue).get("breadcrumbs")
        values = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
        if not isinstance(values, list) or not values:
            return EMPTY
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (c.get("timestamp", ""), c.get("category", ""), c.get("level", ""), c.get("message", ""))
                    for c in values[-100:]
                    if isinstance(c, dict)
                ),
            ),
        )

    @display(description="request")
    def request_display(self, issue):
        return _json_block(self._payload(issue).get("request"))

    @display(description="user")
    def user_display(self, issue):
        return _json_block(self._payload(issue).get("user"))

    @display(description="tags")
    def tags(self, issue):
        distribution = error_issue_tags(issue)
        if not distribution:
            return EMPTY
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                ((key, ", ".join(f"{value} ({n})" for value, n in values)) for key, values in distribution.items()),
            ),
        )

    @display(description="activity")
    def activity_display(self, issue):
        entries = error_issue_activity(issue)
        if not entries:
            return EMPTY
        return format_html(
            "<table><thead><tr><th>when</th><th>who</th><th>what</th><th></th></tr></thead><tbody>{}</tbody></table>{}",
            format_html_join(
                "",
                '<tr data-action="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                ((e.action, _when(e.at), _who(e), e.get_action_display(), _detail(e)) for e in entries),
            ),
            f"(the newest {ACTIVITY_SHOWN} only)" if len(entries) == ACTIVITY_SHOWN else "",
        )

    @display(description="events, last 24 hours")
    def hourly_events(self, issue):
        hours = error_issue_hourly_events(issue)
        peak = max((n for _, n in hours), default=0) or 1
        bars = format_html_join(
            "",
            '<span title="{}: {}" style="display:inline-block;width:10px;margin-right:2px;'
            'height:{}px;background:#6366f1;vertical-align:bottom"></span>',
            ((start.strftime("%H:00"), n, max(1, round(40 * n / peak)) if n else 0) for start, n in hours),
        )
        return format_html('<div style="height:42px;display:flex;align-items:flex-end">{}</div>', bars)

    @display(description="seen in")
    def seen_in_display(self, issue):
        rows = issue.seen_in.order_by("dimension", "-last_seen")
        return format_html_join(", ", "{}: {} ({})", ((s.dimension, s.value, s.event_count) for s in rows)) or EMPTY

    @display(description="user reports")
    def user_reports_display(self, issue):
        reports = issue.user_reports.order_by("-received_at")[:20]
        return (
            format_html_join(
                "", "<p><strong>{}</strong> {}: {}</p>", ((r.name or "anonymous", r.email, r.comments) for r in reports)
            )
            or EMPTY
        )

    def _each(self, request, queryset, change, done: str):
        changed = 0
        for issue in queryset.exclude(status=ErrorIssue.Status.MERGED):
            change(issue)
            changed += 1
        self.message_user(request, f"{changed} issue(s) {done}.", messages.SUCCESS)

    @action(description="Resolve")
    def resolve(self, request, queryset):
        self._each(request, queryset, lambda i: error_issue_resolve(issue=i, actor=request.user), "resolved")

    @action(description="Resolve in next release")
    def resolve_in_next_release(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda i: error_issue_resolve(issue=i, actor=request.user, in_next_release=True),
            "resolved in the next release",
        )

    @action(description="Ignore")
    def ignore(self, request, queryset):
        self._each(request, queryset, lambda i: error_issue_ignore(issue=i, actor=request.user), "ignored")

    # Snoozes a person reaches for most; the service takes any time or event budget.
    @action(description="Snooze for 1 hour")
    def snooze_1h(self, request, queryset):
        until = timezone.now() + timedelta(hours=1)
        self._each(
            request,
            queryset,
            lambda i: error_issue_ignore(issue=i, actor=request.user, until=until),
            "snoozed for 1 hour",
        )

    @action(description="Snooze for 24 hours")
    def snooze_24h(self, request, queryset):
        until = timezone.now() + timedelta(hours=24)
        self._each(
            request,
            queryset,
            lambda i: error_issue_ignore(issue=i, actor=request.user, until=until),
            "snoozed for 24 hours",
        )

    @action(description="Snooze until 100 more events")
    def snooze_100_events(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda i: error_issue_ignore(issue=i, actor=request.user, events=100),
            "snoozed until 100 more events",
        )

    @action(description="Unresolve")
    def unresolve(self, request, queryset):
        self._each(request, queryset, lambda i: error_issue_unresolve(issue=i, actor=request.user), "unresolved")

    @action(description="Reclassify by the current rules")
    def reclassify(self, request, queryset):
        changed = error_issues_reclassify(issues=queryset)
        self.message_user(request, f"{changed} issue(s) took a new classification.", messages.SUCCESS)

    @action(description="Merge into the one with most events")
    def merge(self, request, queryset):
        issues = list(queryset.exclude(status=ErrorIssue.Status.MERGED).order_by("-event_count", "id"))
        if len(issues) < 2 or len({i.project_id for i in issues}) > 1:
            self.message_user(request, "Pick two or more issues of one project to merge.", messages.ERROR)
            return
        error_issue_merge(target=issues[0], sources=issues[1:], actor=request.user)
        self.message_user(request, f"{len(issues) - 1} issue(s) merged into “{issues[0].title}”.", messages.SUCCESS)

    @action(description="Unmerge")
    def unmerge(self, request, queryset):
        merged = list(queryset.filter(status=ErrorIssue.Status.MERGED))
        for issue in merged:
            error_issue_unmerge(issue=issue, actor=request.user)
        self.message_user(request, f"{len(merged)} issue(s) unmerged.", messages.SUCCESS)


@admin.register(ErrorClassificationRule)
class ErrorClassificationRuleAdmin(ModelAdmin):
    list_display = (
        "name",
        "position",
        "enabled",
        "project",
        "type_pattern",
        "message_pattern",
        "severity",
        "category",
        "should_alert",
    )
    list_editable = ("position", "enabled")
    list_filter = ("category", "severity", "enabled")
    list_select_related = ("project",)
    ordering = ("position", "id")
