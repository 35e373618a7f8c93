"""Browser security reports, read into events: CSP violations (report-uri's
`application/csp-report` and the Reporting API's `application/reports+json`), Expect-CT
and HPKP failures (legacy, still sent by some browsers and proxies). Pure; no database.

Grouped as Sentry groups them: a CSP violation by its effective directive and the blocked
URI normalised to its origin (or 'unsafe-inline' / 'unsafe-eval' / the scheme of data: and
blob:), so every page that loads the same blocked script is one issue. Reports caused by
browser extensions, and a few well-known injectors, are dropped before they are stored
(Sentry's default blocklist): they say nothing about the site.
"""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_REPORTS = 100
# Schemes of extension and browser-internal resources, and hosts of known injectors.
BLOCKED_SCHEMES = frozenset(
    {
        "chrome-extension",
        "chromeinvoke",
        "chromenull",
        "safari-extension",
        "safari-web-extension",
        "moz-extension",
        "ms-browser-extension",
        "mxaddon-pkg",
        "jar",
        "resource",
        "webviewprogressproxy",
        "tmtbff",
        "mbinit",
        "symres",
    }
)
BLOCKED_HOSTS = ("superfish.com", "tlscdn.com", "image2play.com", "injections.adguard.com", "amung.us")
DIRECTIVE_NAMES = {
    "script-src": "script",
    "script-src-elem": "script",
    "script-src-attr": "script",
    "style-src": "style",
    "style-src-elem": "style",
    "style-src-attr": "style",
    "img-src": "image",
    "connect-src": "connection",
    "font-src": "font",
    "frame-src": "frame",
    "child-src": "frame",
    "media-src": "media",
    "object-src": "object",
    "worker-src": "worker",
    "manifest-src": "manifest",
    "form-action": "form action",
    "base-uri": "base URI",
    "default-src": "resource",
}
KINDS = ("csp", "expectct", "hpkp")


class InvalidReport(ValueError):
    """What is wrong, naming the field, for the 400."""


@dataclass
class Reports:
    events: list[dict[str, Any]] = field(default_factory=list)
    filtered: int = 0  # from extensions or injectors: dropped, counted
    not_stored: int = 0  # Reporting API reports of other types (deprecation, crash, …)


def _text(report: dict, *names: str) -> str:
    for name in names:
        value = report.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
            return str(value)[:2000]
    return ""


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else uri


def normalised_blocked(uri: str) -> str:
    """How Sentry names what was blocked, for grouping and titles."""
    lowered = uri.strip().lower()
    if lowered in ("", "inline", "'unsafe-inline'"):
        return "'unsafe-inline'"
    if lowered in ("eval", "'unsafe-eval'"):
        return "'unsafe-eval'"
    if lowered in ("self", "'self'"):
        return "'self'"
    scheme = lowered.split(":", 1)[0]
    if scheme in ("data", "blob", "about", "wasm-eval"):
        return f"{scheme}:"
    return _origin(uri.strip())


def _blocked(*uris: str) -> bool:
    for uri in uris:
        parts = urlsplit(uri.strip())
        if parts.scheme.lower() in BLOCKED_SCHEMES:
            return True
        host = (parts.hostname or "").lower()
        if host and any(host == h or host.endswith("." + h) for h in BLOCKED_HOSTS):
            return True
    return False


def _csp_event(report: dict[str, Any], user_agent: str) -> dict[str, Any] | None:
    """One violation, in the names either format uses; None when an extension caused it."""
    directive = _text(report, "effective-directive", "effectiveDirective")
    violated = _text(report, "violated-directive", "violatedDirective")
    if not directive and not violated:
        raise InvalidReport("effective-directive (or violated-directive) is required")
    directive = (directive or violated.split()[0]).lower()
    document = _text(report, "document-uri", "documentURL", "documentURI")
    if not document:
        raise InvalidReport("document-uri is required")
    raw_blocked = _text(report, "blocked-uri", "blockedURL", "blockedURI")
    source_file = _text(report, "source-file", "sourceFile")
    if _blocked(raw_blocked, source_file):
        return None
    blocked = normalised_blocked(raw_blocked)
    kind = DIRECTIVE_NAMES.get(directive, directive)
    if blocked == "'unsafe-inline'":
        title = f"Blocked unsafe inline '{kind}'"
    elif blocked == "'unsafe-eval'":
        title = f"Blocked unsafe eval() '{kind}'"
    else:
        title = f"Blocked '{kind}' from '{urlsplit(blocked).netloc or blocked}'"
    csp = {
        "document_uri": document,
        "effective_directive": directive,
        "violated_directive": violated or directive,
        "blocked_uri": raw_blocked,
        "original_policy": _text(report, "original-policy", "originalPolicy"),
        "referrer": _text(report, "referrer"),
        "disposition": _text(report, "disposition") or "enforce",
        "status_code": _text(report, "status-code", "statusCode"),
        "source_file": source_file,
        "line_number": _text(report, "line-number", "lineNumber"),
        "column_number": _text(report, "column-number", "columnNumber"),
        "script_sample": _text(report, "script-sample", "sample"),
    }
    return {
        "type": "csp",
        "level": "error",
        "platform": "other",
        "logentry": {"formatted": title},
        "culprit": f"{directive} {blocked}"[:500],
        "csp": csp,
        "request": {"url": document, "headers": {"User-Agent": user_agent}} if user_agent else {"url": document},
        "tags": {"effective-directive": directive, "blocked-uri": blocked, "disposition": csp["disposition"]},
        "fingerprint": ["csp", directive, blocked],
    }


def _certificate_event(kind: str, report: dict[str, Any], user_agent: str) -> dict[str, Any]:
    hostname = _text(report, "hostname")
    if not hostname:
        raise InvalidReport(f"{'expect-ct-report.' if kind == 'expectct' else ''}hostname is required")
    title = (
        f"Expect-CT failed for '{hostname}'"
        if kind == "expectct"
        else f"Public key pinning validation failed for '{hostname}'"
    )
    fields = {k.replace("-", "_"): v for k, v in report.items() if isinstance(k, str)}
    return {
        "type": kind,
        "level": "error",
        "platform": "other",
        "logentry": {"formatted": title},
        "culprit": hostname,
        kind: fields,
        "request": {"headers": {"User-Agent": user_agent}} if user_agent else {},
        "tags": {"hostname": hostname},
        "fingerprint": [kind, hostname],
    }


def security_reports_parse(body: Any, *, content_type: str, user_agent: str) -> Reports:
    """The events in one request's body; InvalidReport for a malformed one (nothing of the
    request is then stored: a browser resends nothing, but a half-read batch would mislead)."""
    reports = Reports()
    if content_type == "application/reports+json":
        if not isinstance(body, list):
            raise InvalidReport("a Reporting API body is a JSON list of reports")
        if len(body) > MAX_REPORTS:
            raise InvalidReport(f"at most {MAX_REPORTS} reports a request")
        for n, entry in enumerate(body):
            if not isinstance(entry, dict) or not isinstance(entry.get("body"), dict):
                raise InvalidReport(f"[{n}]: a report needs type and a body object")
            if entry.get("type") != "csp-violation":
                reports.not_stored += 1
                continue
            agent = _text(entry, "user_agent") or user_agent
            try:
                event = _csp_event(entry["body"], agent)
            except InvalidReport as exc:
                raise InvalidReport(f"[{n}].body: {exc}") from None
            _add(reports, event)
        return reports
    if not isinstance(body, dict):
        raise InvalidReport("the body must be a JSON object")
    if "csp-report" in body:
        if not isinstance(body["csp-report"], dict):
            raise InvalidReport("csp-report must be an object")
        try:
            _add(reports, _csp_event(body["csp-report"], user_agent))
        except InvalidReport as exc:
            raise InvalidReport(f"csp-report.{exc}") from None
    elif "expect-ct-report" in body:
        if not isinstance(body["expect-ct-report"], dict):
            raise InvalidReport("expect-ct-report must be an object")
        _add(reports, _certificate_event("expectct", body["expect-ct-report"], user_agent))
    elif "known-pins" in body:
        _add(reports, _certificate_event("hpkp", body, user_agent))
    else:
        raise InvalidReport("not a security report: expected csp-report, expect-ct-report or an HPKP report")
    return reports


def _add(reports: Reports, event: dict[str, Any] | None) -> None:
    if event is None:
        reports.filtered += 1
    else:
        reports.events.append(event)
