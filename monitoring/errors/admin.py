"""The issue stream (changelist) and the issue page (change view, built from the latest event,
with the issue's activity: who did what to it, and what Lookout did by itself).

Every action goes through a service with the person acting, so the timeline records them."""

import functools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User  # AUTH_USER_MODEL is Django's own
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from monitoring.common.charts import Chart, Series, bar_chart, sparkline
from monitoring.errors.admin_performance import performance_view, transaction_view
from monitoring.errors.admin_releases import release_urls
from monitoring.errors.fingerprints import exceptions, frames
from monitoring.errors.links import LINKS_SHOWN, error_issue_related_links
from monitoring.errors.models import ErrorIssueActivity
from monitoring.errors.performance import transaction_known
from monitoring.errors.selectors import (
    ACTIVITY_SHOWN,
    TAG_SAMPLE,
    Sparkline,
    error_issue_activity,
    error_issue_event,
    error_issue_event_navigation,
    error_issue_first_and_last,
    error_issue_latest_event,
    error_issue_tag_breakdown,
    error_issue_tags,
    error_issues_sparklines,
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
from monitoring.models import ErrorClassificationRule, ErrorEvent, ErrorIssue, ErrorIssueSeenIn

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


def _once_per_page(method):
    """Unfold asks a read-only field for its contents several times while rendering a page;
    its reads run once, the answer kept on the page's own instance (as _latest does)."""

    @functools.wraps(method)
    def shown(self, issue):
        cache, key = vars(issue), f"_shown_{method.__name__}"
        if key not in cache:
            cache[key] = method(self, issue)
        return cache[key]

    return shown


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


def _ago(value: datetime) -> str:
    return "just now" if timezone.now() - value < timedelta(minutes=1) else f"{timesince(value, depth=1)} ago"


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


def _per(spark: Sparkline) -> str:
    return "day" if spark.bucket >= timedelta(days=1) else "hour"


def _points(spark: Sparkline) -> list[tuple[datetime, int | None]]:
    # A window of zeros is "no events", said in words by the chart, not a flat line at zero.
    return list(spark.points) if spark.total else [(at, None) for at, _ in spark.points]


def events_chart(spark: Sparkline, *, window: str) -> Chart:
    """The issue page's events per hour (24 h) or per day (14 d), as bars with axes and tooltips."""
    per = _per(spark)
    return bar_chart(
        [Series(f"events per {per}", _points(spark))],
        unit="",
        y_label=f"Events per {per}",
        empty=f"No events in the last {window}.",
        start=spark.points[0][0],
        end=spark.points[-1][0] + spark.bucket,
        height=140,
    )


def events_sparkline(spark: Sparkline, *, window: str) -> SafeString:
    """A row's trend in the stream: no axes, a tooltip per bucket, words when there were no events."""
    chart = sparkline(_points(spark), unit="events", empty=f"none in {window}", label=f"events per {_per(spark)}")
    return render_to_string("admin/lookout/chart.html", {"chart": chart})


@dataclass(frozen=True)
class _Trace:
    trace_id: str
    transaction: str
    url: str  # the transaction's performance page, or "" when none of that name was recorded


def _event_trace(issue: ErrorIssue, event: ErrorEvent | None) -> _Trace | None:
    """The trace and transaction an event happened in, as the SDK put them in its payload."""
    payload = event.payload if event is not None and isinstance(event.payload, dict) else {}
    contexts = payload.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    trace_id = trace.get("trace_id") if isinstance(trace, dict) else None
    name = payload.get("transaction")
    if not isinstance(trace_id, str) and not isinstance(name, str):
        return None
    name = name if isinstance(name, str) else ""
    url = ""
    if name and transaction_known(issue.project, name):
        query = urlencode({"project": str(issue.project_id), "name": name})
        url = f"{reverse('admin:monitoring_transaction')}?{query}"
    return _Trace(trace_id if isinstance(trace_id, str) else "", name, url)


# What the page's buttons may ask for, and how the message after reads.
# Snooze lengths a person reaches for most, offered on the page (the service takes any time).
_SNOOZE_FOR = {
    "1h": ("1 hour", timedelta(hours=1)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
}


@admin.register(ErrorIssue)
class ErrorIssueAdmin(ModelAdmin):
    # Few, narrow columns so the stream fits 1400 px without scrolling sideways: the culprit,
    # project and classification ride under the title, as Sentry's stream shows them.
    list_display = (
        "issue_display",
        "status_display",
        "sparkline_display",
        "events_display",
        "users_display",
        "seen_display",
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
    change_form_outer_before_template = "admin/monitoring/errorissue/issue_header.html"
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
                )
            },
        ),
        (
            "Event",
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

    def get_object(self, request, object_id, from_field=None):
        issue = super().get_object(request, object_id, from_field)
        if issue is not None:
            # The event the page shows (`?event=<id>`), read once by every section below.
            wanted = request.GET.get("event")
            event = error_issue_event(issue, wanted) if wanted else None
            vars(issue)["_latest_event"] = event or error_issue_latest_event(issue)
        return issue

    def _latest(self, issue: ErrorIssue):
        # Once per page: every section reads the same event, kept on the page's own instance.
        cache = vars(issue)
        if "_latest_event" not in cache:
            cache["_latest_event"] = error_issue_latest_event(issue)
        return cache["_latest_event"]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._page(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _page(self, request: HttpRequest, issue: ErrorIssue) -> dict[str, Any]:
        """What the header above the form shows: actions, when, sparklines, tags, the event's place."""
        event = self._latest(issue)
        here = reverse("admin:monitoring_errorissue_change", args=[issue.pk])
        navigation = error_issue_event_navigation(issue, event) if event is not None else None
        spark = error_issues_sparklines([issue.pk])[issue.pk]
        seen = error_issue_first_and_last(issue)
        return {
            "issue_status": issue.get_status_display(),
            "can_act": self.has_change_permission(request, issue) and issue.status != ErrorIssue.Status.MERGED,
            "act_url": reverse("admin:monitoring_errorissue_act", args=[issue.pk]),
            "snooze_choices": [(key, label) for key, (label, _) in _SNOOZE_FOR.items()],
            "seen": seen,
            "first_seen_ago": _ago(seen.first_seen),
            "last_seen_ago": _ago(seen.last_seen),
            "event": event,
            "trace": _event_trace(issue, event),
            "event_links": [
                (label, f"{here}?event={target}" if target else None)
                for label, target in (
                    ("Oldest", navigation.oldest),
                    ("Older", navigation.previous),
                    ("Newer", navigation.next),
                    ("Latest", navigation.latest),
                )
            ]
            if navigation is not None
            else [],
            "events_24h": events_chart(spark.day, window="24 h"),
            "events_14d": events_chart(spark.fortnight, window="14 d"),
            "breakdown": error_issue_tag_breakdown(issue),
            "tag_sample": TAG_SAMPLE,
            "related": error_issue_related_links(issue),
            "links_shown": LINKS_SHOWN,
        }

    def get_urls(self):
        act = self.admin_site.admin_view(require_POST(self.act_view))
        return [
            path("<int:object_id>/act/", act, name="monitoring_errorissue_act"),
            path("performance/", self.admin_site.admin_view(self.performance_view), name="monitoring_performance"),
            path(
                "performance/transaction/",
                self.admin_site.admin_view(self.transaction_view),
                name="monitoring_transaction",
            ),
            *release_urls(self),
            *super().get_urls(),
        ]

    # Transactions arrive through the same envelopes as errors, so whoever may read issues may
    # read them; the pages themselves live in admin_performance.py.
    def performance_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return performance_view(self, request)

    def transaction_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return transaction_view(self, request)

    def act_view(self, request: HttpRequest, object_id: int) -> HttpResponseRedirect:
        """The issue page's buttons: one POST each, through the same services as the bulk
        actions, so the timeline names whoever pressed it."""
        issue = get_object_or_404(ErrorIssue, pk=object_id)
        if not self.has_change_permission(request, issue):
            raise PermissionDenied
        page = reverse("admin:monitoring_errorissue_change", args=[issue.pk])
        if issue.status == ErrorIssue.Status.MERGED:
            self.message_user(request, "A merged issue changes through the issue it was merged into.", messages.ERROR)
            return HttpResponseRedirect(page)
        what = request.POST.get("action", "")
        # admin_view has let only a signed-in staff user through, never AnonymousUser.
        actor = request.user if isinstance(request.user, User) else None
        if what == "resolve":
            error_issue_resolve(issue=issue, actor=actor)
            done = "Resolved."
        elif what == "resolve_next_release":
            resolved = error_issue_resolve(issue=issue, actor=actor, in_next_release=True)
            done = (
                f"Resolved in the release after {resolved.resolved_in_release}."
                if resolved.resolved_in_release
                else "No release is known for this issue, so it is resolved now."
            )
        elif what == "ignore":
            error_issue_ignore(issue=issue, actor=actor)
            done = "Ignored."
        elif what == "unresolve":
            error_issue_unresolve(issue=issue, actor=actor)
            done = "Unresolved."
        elif what == "snooze_for" and request.POST.get("for") in _SNOOZE_FOR:
            until = timezone.now() + _SNOOZE_FOR[request.POST["for"]][1]
            error_issue_ignore(issue=issue, actor=actor, until=until)
            done = f"Snoozed until {_when(until)}."
        elif what == "snooze_events":
            try:
                events = int(request.POST.get("events", ""))
            except ValueError:
                events = 0
            if not 1 <= events <= 1_000_000:
                self.message_user(request, "Snooze needs a number of events from 1 to 1,000,000.", messages.ERROR)
                return HttpResponseRedirect(page)
            error_issue_ignore(issue=issue, actor=actor, events=events)
            done = f"Snoozed until {events} more events."
        else:
            self.message_user(request, "Unknown action.", messages.ERROR)
            return HttpResponseRedirect(page)
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(page)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Every sparkline of the page in one query, kept on each row for its column to draw.
        spark = error_issues_sparklines(issue.pk for issue in changelist.result_list)
        for issue in changelist.result_list:
            vars(issue)["_sparklines"] = spark.get(issue.pk)
        return changelist

    @display(description="issue", ordering="title")
    def issue_display(self, issue):
        under = [issue.culprit, issue.project.name, issue.level, issue.get_category_display(), issue.severity]
        return format_html(
            '<div style="max-width:21rem;white-space:normal">'
            '<div style="font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap" title="{}">'
            "{}</div>"
            '<div style="font-size:12px;color:#6b7280;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">'
            "{}</div></div>",
            issue.title,
            issue.title,
            " · ".join(part for part in under if part),
        )

    @display(description="status", ordering="status")
    def status_display(self, issue):
        label = issue.get_status_display()
        if issue.is_regression and issue.status == ErrorIssue.Status.UNRESOLVED:
            label = "Regressed"
        return format_html('<span style="white-space:nowrap">{}</span>', label)

    @display(description="events 24 h · 14 d")
    def sparkline_display(self, issue):
        spark = vars(issue).get("_sparklines")
        if spark is None:
            return EMPTY
        # Both windows stacked in one narrow column: the stream must fit 1400 px.
        return format_html(
            '<div class="sparklines" style="display:grid;grid-template-columns:auto 6rem;gap:2px 4px;'
            'align-items:center;font-size:11px;line-height:1.2;color:#6b7280">'
            '<span style="white-space:nowrap">24 h</span><span data-window="24h">{}</span>'
            '<span style="white-space:nowrap">14 d</span><span data-window="14d">{}</span></div>',
            events_sparkline(spark.day, window="24 h"),
            events_sparkline(spark.fortnight, window="14 d"),
        )

    @display(description="events", ordering="event_count")
    def events_display(self, issue):
        return issue.event_count

    @display(description="users", ordering="users_affected")
    def users_display(self, issue):
        return issue.users_affected

    @display(description="last seen · age", ordering="last_seen")
    def seen_display(self, issue):
        # As Sentry's stream shows them: how long ago it was last seen, and how old the issue is.
        return format_html(
            '<div style="white-space:nowrap" title="last seen {}">{}</div>'
            '<div style="white-space:nowrap;font-size:12px;color:#6b7280" title="first seen {}">{} old</div>',
            _when(issue.last_seen),
            _ago(issue.last_seen),
            _when(issue.first_seen),
            timesince(issue.first_seen, depth=1),
        )

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
    @_once_per_page
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
    @_once_per_page
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

    @display(description="seen in")
    @_once_per_page
    def seen_in_display(self, issue):
        rows = issue.seen_in.order_by("dimension", "-last_seen")
        return format_html_join(", ", "{}: {} ({})", ((s.dimension, s.value, s.event_count) for s in rows)) or EMPTY

    @display(description="user reports")
    @_once_per_page
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

    @action(description="Resolve", permissions=["change"])
    def resolve(self, request, queryset):
        self._each(request, queryset, lambda i: error_issue_resolve(issue=i, actor=request.user), "resolved")

    @action(description="Resolve in next release", permissions=["change"])
    def resolve_in_next_release(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda i: error_issue_resolve(issue=i, actor=request.user, in_next_release=True),
            "resolved in the next release",
        )

    @action(description="Ignore", permissions=["change"])
    def ignore(self, request, queryset):
        self._each(request, queryset, lambda i: error_issue_ignore(issue=i, actor=request.user), "ignored")

    def _snooze_for(self, request, queryset, key: str) -> None:
        label, length = _SNOOZE_FOR[key]
        until = timezone.now() + length
        self._each(
            request,
            queryset,
            lambda i: error_issue_ignore(issue=i, actor=request.user, until=until),
            f"snoozed for {label}",
        )

    @action(description="Snooze for 1 hour", permissions=["change"])
    def snooze_1h(self, request, queryset):
        self._snooze_for(request, queryset, "1h")

    @action(description="Snooze for 24 hours", permissions=["change"])
    def snooze_24h(self, request, queryset):
        self._snooze_for(request, queryset, "24h")

    @action(description="Snooze until 100 more events", permissions=["change"])
    def snooze_100_events(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda i: error_issue_ignore(issue=i, actor=request.user, events=100),
            "snoozed until 100 more events",
        )

    @action(description="Unresolve", permissions=["change"])
    def unresolve(self, request, queryset):
        self._each(request, queryset, lambda i: error_issue_unresolve(issue=i, actor=request.user), "unresolved")

    @action(description="Reclassify by the current rules")
    def reclassify(self, request, queryset):
        changed = error_issues_reclassify(issues=queryset)
        self.message_user(request, f"{changed} issue(s) took a new classification.", messages.SUCCESS)

    @action(description="Merge into the one with most events", permissions=["change"])
    def merge(self, request, queryset):
        issues = list(queryset.exclude(status=ErrorIssue.Status.MERGED).order_by("-event_count", "id"))
        if len(issues) < 2 or len({i.project_id for i in issues}) > 1:
            self.message_user(request, "Pick two or more issues of one project to merge.", messages.ERROR)
            return
        error_issue_merge(target=issues[0], sources=issues[1:], actor=request.user)
        self.message_user(request, f"{len(issues) - 1} issue(s) merged into “{issues[0].title}”.", messages.SUCCESS)

    @action(description="Unmerge", permissions=["change"])
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
