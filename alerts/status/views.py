"""The public status page and what hangs off it (history, widget, Atom feed, subscribing):
no login, no script, nothing loaded from another host."""

import calendar
from datetime import UTC, datetime
from html import escape

from django.db.models import Min, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from alerts.status import subscribers
from alerts.status.bodies import body_response, cached_body
from alerts.status.models import IncidentStatus, PublicIncident, PublicIncidentUpdate, StatusPage, Subscriber
from alerts.status.selectors import SNAPSHOT_SECONDS, page_by_slug, page_snapshot

# Everything the page needs is inline; the policy says so to the browser as well. Forms post
# only to the page's own host (subscribing).
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'self'"
# The widget is made to be framed by any site; it still loads nothing.
WIDGET_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors *"
FEED_ITEMS = 50


def requested_page(request: HttpRequest, slug: str | None) -> StatusPage | None:
    """The page named in the path, or the one whose custom domain the request came to."""
    return page_by_slug(slug or str(getattr(request, "status_slug", "")))


def page_base(request: HttpRequest, page: StatusPage) -> str:
    return "/" if getattr(request, "status_slug", None) else f"/status/{page.slug}/"


@require_GET
def status_page(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    page = requested_page(request, slug)
    if page is None:
        raise Http404("No status page here.")
    base = page_base(request, page)
    # The rendered page is kept under the same version as the snapshot it shows.
    body = cached_body(f"status:html:{page.pk}:{page.content_version}:{base}", lambda: _render_page(page, base))
    response = body_response(request, body, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={SNAPSHOT_SECONDS}"
    response["Content-Security-Policy"] = PAGE_CSP
    return response


def _render_page(page: StatusPage, base: str) -> tuple[bytes, float]:
    snapshot = page_snapshot(page=page, bars=True)
    # Said here rather than with |floatformat, whose Decimal arithmetic took a fifth of
    # a 200-component page's render.
    for row in snapshot["components"]:
        uptime = row["uptime_90d"]
        if row["signal"] is not None:
            row["uptime_label"] = "no uptime history for derived signals"
        else:
            row["uptime_label"] = "no data yet" if uptime is None else f"{uptime:.2f} % uptime"
    # Grouped components first, then those in no group, drawn by one loop.
    sections = [*snapshot["groups"], {"name": None, "components": snapshot["loose"]}]
    derived = any(row["signal"] is not None for row in snapshot["components"])
    html = render_to_string("status/page.html", {"s": snapshot, "sections": sections, "base": base, "derived": derived})
    return html.encode(), SNAPSHOT_SECONDS


def _full_page(request: HttpRequest, slug: str | None) -> StatusPage:
    """The requested page with every field, for views that show more than the snapshot."""
    found = StatusPage.objects.filter(slug=slug or str(getattr(request, "status_slug", ""))).first()
    if found is None:
        raise Http404("No status page here.")
    return found


def _secured(response: HttpResponse, *, max_age: int | None = SNAPSHOT_SECONDS) -> HttpResponse:
    response["Content-Security-Policy"] = PAGE_CSP
    response["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-store"
    return response


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def _shift(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return _month_start(index // 12, index % 12 + 1)


def _first_day(page: StatusPage) -> datetime:
    first = PublicIncident.objects.filter(page=page).aggregate(first=Min("started_at"))["first"]
    return min(page.created_at, first) if first else page.created_at


@require_GET
def history(
    request: HttpRequest, slug: str | None = None, year: int | None = None, month: int | None = None
) -> HttpResponse:
    """One month of public incidents with all their updates, oldest month reachable by links."""
    page = _full_page(request, slug)
    now = timezone.now().astimezone(UTC)
    if year is None or month is None:
        year, month = now.year, now.month
    if not (1 <= month <= 12 and 2000 <= year <= now.year + 1):
        raise Http404("No such month.")
    start = _month_start(year, month)
    end = _shift(start, 1)
    incidents = (
        PublicIncident.objects.filter(page=page, started_at__gte=start, started_at__lt=end)
        .prefetch_related(Prefetch("updates", queryset=PublicIncidentUpdate.objects.order_by("created_at", "pk")))
        .order_by("-started_at", "-pk")
    )
    context = {
        "page": page,
        "base": page_base(request, page),
        "incidents": incidents,
        "month_label": f"{calendar.month_name[month]} {year}",
        # Nothing to show before the page was made or its first incident (which may be dated back).
        "previous": _shift(start, -1) if start > _first_day(page) else None,
        "next": end if end <= now else None,
    }
    return _secured(render(request, "status/history.html", context))


@require_GET
@xframe_options_exempt
def widget(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The page's overall status in one line, made for an iframe on another site."""
    page = requested_page(request, slug)
    if page is None:
        raise Http404("No status page here.")
    snapshot = page_snapshot(page=page)
    page_url = request.build_absolute_uri(page_base(request, page))
    response = render(request, "status/widget.html", {"s": snapshot, "page_url": page_url})
    response["Content-Security-Policy"] = WIDGET_CSP
    response["Cache-Control"] = f"public, max-age={SNAPSHOT_SECONDS}"
    return response


@require_GET
def feed(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Atom: one entry per public incident (updated with each update) and per coming maintenance."""
    page = _full_page(request, slug)
    page_url = request.build_absolute_uri(page_base(request, page))
    atom = Atom1Feed(
        title=f"{page.title} status",
        link=page_url,
        description=page.description,
        feed_url=request.build_absolute_uri(),
        id=page_url,
    )
    incidents = PublicIncident.objects.filter(page=page).prefetch_related(
        Prefetch("updates", queryset=PublicIncidentUpdate.objects.order_by("-created_at", "-pk"))
    )[:FEED_ITEMS]
    for incident in incidents:
        updates = list(incident.updates.all())
        body = "".join(
            f"<p><b>{IncidentStatus(u.status).label}</b> ({u.created_at:%d %b %Y, %H:%M} UTC): {_escape(u.body)}</p>"
            for u in updates
        )
        atom.add_item(
            title=f"{incident.name} ({IncidentStatus(incident.status).label})",
            link=f"{page_url}#incident-{incident.pk}",
            unique_id=f"{page_url}#incident-{incident.pk}",
            description=body,
            pubdate=incident.started_at,
            updateddate=updates[0].created_at if updates else incident.started_at,
        )
    for item in page_snapshot(page=page)["maintenances"]:
        atom.add_item(
            title=f"Maintenance: {item['name']}",
            link=f"{page_url}#maintenance",
            unique_id=f"{page_url}#maintenance-{item['id']}",
            description=f"<p>{_escape(item['when_label'])}</p>",
            pubdate=datetime.fromisoformat(item["created_at"]),
            updateddate=datetime.fromisoformat(item["scheduled_for"]),
        )
    response = HttpResponse(atom.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={SNAPSHOT_SECONDS}"
    return response


def _escape(text: str) -> str:
    return escape(text).replace("\n", "<br>")


# Subscribing answers without a CSRF token: the page is public and cached, so it cannot carry
# one, and there is no session to ride. A forged sign-up only mails a confirmation link
# (rate-limited); confirming and unsubscribing need a signed link.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    page = _full_page(request, slug)
    context: dict = {"page": page, "base": page_base(request, page), "values": {}, "errors": {}}
    if request.method == "GET":
        return _secured(render(request, "status/subscribe.html", context), max_age=None)
    kind = request.POST.get("kind", Subscriber.Kind.EMAIL)
    address = request.POST.get("url" if kind == Subscriber.Kind.WEBHOOK else "email", "")
    context["values"] = {"url" if kind == Subscriber.Kind.WEBHOOK else "email": address}
    try:
        subscribers.subscribe(
            page=page, kind=kind, address=address, client=request.META.get("REMOTE_ADDR") or "", now=timezone.now()
        )
    except subscribers.SubscribeError as exc:
        context["errors"] = {exc.field: str(exc)}
        response = render(request, "status/subscribe.html", context, status=exc.status)
        if exc.retry_after:
            response["Retry-After"] = str(exc.retry_after)
        return _secured(response, max_age=None)
    # The same words whether the address is new, waiting or subscribed already.
    context["done"] = (
        "Subscribed: each incident update and maintenance will be POSTed to this URL."
        if kind == Subscriber.Kind.WEBHOOK
        else "Thanks. If this address can be subscribed, a confirmation link is on its way to it."
    )
    context["values"] = {}
    return _secured(render(request, "status/subscribe.html", context), max_age=None)


def _link_page(request: HttpRequest, page: StatusPage, status: int = 200, **context: str) -> HttpResponse:
    context_all = {"page": page, "base": page_base(request, page), **context}
    return _secured(render(request, "status/link.html", context_all, status=status), max_age=None)


BAD_LINK = "This link is not valid, has expired, or was used already. Subscribe again from the status page."


# A GET only shows a button: mail scanners open links, and must not confirm or unsubscribe.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str, slug: str | None = None) -> HttpResponse:
    page = _full_page(request, slug)
    subscriber = subscribers.subscriber_from_token(token=token, page=page, confirm=True)
    if subscriber is None:
        return _link_page(request, page, status=400, heading="Confirm subscription", message=BAD_LINK)
    if request.method == "GET" and subscriber.confirmed_at is None:
        return _link_page(
            request,
            page,
            heading="Confirm subscription",
            message=f"Email {subscriber.address} about incidents and maintenance on {page.title}?",
            button="Confirm subscription",
        )
    subscribers.subscription_confirm(subscriber=subscriber, now=timezone.now())
    return _link_page(
        request,
        page,
        heading="Subscribed",
        message=f"{subscriber.address} will hear about incidents and maintenance on {page.title}. "
        "Every mail has a link to unsubscribe.",
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str, slug: str | None = None) -> HttpResponse:
    """GET asks with one button; POST (that button, or a mail client's RFC 8058 one-click) unsubscribes."""
    page = _full_page(request, slug)
    subscriber = subscribers.subscriber_from_token(token=token, page=page, confirm=False)
    if subscriber is None:
        if request.method == "POST":
            # A repeat of a one-click POST: the address is unsubscribed either way.
            return _link_page(request, page, heading="Unsubscribed", message="This address is not subscribed.")
        return _link_page(request, page, status=400, heading="Unsubscribe", message=BAD_LINK)
    if request.method == "GET":
        return _link_page(
            request,
            page,
            heading="Unsubscribe",
            message=f"Stop emailing {subscriber.address} about {page.title}?",
            button="Unsubscribe",
        )
    subscribers.unsubscribe(subscriber=subscriber)
    return _link_page(
        request, page, heading="Unsubscribed", message=f"{subscriber.address} will hear nothing more from {page.title}."
    )
