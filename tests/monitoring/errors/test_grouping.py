"""Grouping rules, each on events shaped like sentry-sdk's."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.errors.fingerprints import group, normalise_value


def frame(function, *, module="shop.views", line="total = order.total()", in_app=True, lineno=10):
    return {
        "module": module,
        "function": function,
        "context_line": f"    {line}  ",
        "in_app": in_app,
        "lineno": lineno,
        "filename": f"/srv/{module.replace('.', '/')}.py",
    }


def exc_event(type_="ValueError", value="bad order 42", frames=None, **extra):
    exc = {"type": type_, "value": value}
    if frames is not None:
        exc["stacktrace"] = {"frames": frames}
    return {"exception": {"values": [exc]}, **extra}


def test_in_app_frames_decide_and_values_and_line_numbers_do_not():
    a = exc_event(value="order 1 missing", frames=[frame("checkout", lineno=10)])
    b = exc_event(value="something else entirely", frames=[frame("checkout", lineno=99)])
    assert group(a).rule == "in_app_frames"
    assert group(a).hash == group(b).hash


def test_a_different_in_app_function_type_or_line_text_splits_the_group():
    base = group(exc_event(frames=[frame("checkout")])).hash
    assert group(exc_event(frames=[frame("refund")])).hash != base
    assert group(exc_event(type_="KeyError", frames=[frame("checkout")])).hash != base
    assert group(exc_event(frames=[frame("checkout", line="total = order.sum()")])).hash != base


def test_library_frames_are_ignored_when_in_app_frames_exist():
    lib = frame("request", module="requests.api", in_app=False)
    a = exc_event(frames=[lib, frame("checkout")])
    b = exc_event(frames=[frame("get", module="urllib3.pool", in_app=False), frame("checkout")])
    assert group(a).hash == group(b).hash


def test_file_basename_stands_in_for_a_missing_module():
    a = {"function": "f", "filename": "/build/1/app.js", "in_app": True, "context_line": "x()"}
    b = {"function": "f", "filename": "/build/2/app.js", "in_app": True, "context_line": "x()"}
    assert group(exc_event(frames=[a])).hash == group(exc_event(frames=[b])).hash


def test_minified_context_lines_do_not_split_groups():
    long_a, long_b = "a" * 500, "b" * 500
    assert (
        group(exc_event(frames=[frame("f", line=long_a)])).hash
        == group(exc_event(frames=[frame("f", line=long_b)])).hash
    )


def test_without_in_app_frames_type_and_normalised_value_decide():
    a = exc_event(
        value="User 42 not found (id=7f3c2a9e-1d2b-4c3d-9e8f-0a1b2c3d4e5f)", frames=[frame("get", in_app=False)]
    )
    b = exc_event(value="User 1337 not found (id=00000000-1111-2222-3333-444455556666)")
    c = exc_event(value="Permission denied for user 42")
    assert group(a).rule == "exception"
    assert group(a).hash == group(b).hash
    assert group(a).hash != group(c).hash


def test_normalised_value_replaces_variable_parts():
    assert normalise_value("timeout after 30.5s to 10.0.0.1:5432") == "timeout after <num>s to <ip>"
    assert normalise_value("no row for 'alice@example.com' at 0xdeadbeef") == "no row for <str> at <hex>"
    assert normalise_value("mail bob@example.com failed") == "mail <email> failed"
    assert normalise_value("at 2026-11-22T06:50:00Z commit 9fceb02d0ae598e9") == "at <date> commit <hex>"


def test_message_template_groups_messages_whatever_their_parameters():
    a = {"logentry": {"message": "Payment %s declined", "params": ["p1"], "formatted": "Payment p1 declined"}}
    b = {"logentry": {"message": "Payment %s declined", "params": ["p2"], "formatted": "Payment p2 declined"}}
    assert group(a).rule == "message"
    assert group(a).hash == group(b).hash
    assert group({"message": "Disk almost full"}).hash != group(a).hash
    assert group({"message": "Disk almost full"}).hash == group({"message": {"formatted": "Disk almost full"}}).hash


def test_fingerprint_wins_over_everything():
    a = exc_event(type_="KeyError", frames=[frame("a")], fingerprint=["payments", "stripe"])
    b = {"message": "anything", "fingerprint": ["payments", "stripe"]}
    assert group(a).rule == "fingerprint"
    assert group(a).hash == group(b).hash
    assert group(a).hash != group({"fingerprint": ["payments", "paypal"]}).hash


def test_default_placeholder_expands_to_the_default_grouping():
    a = exc_event(frames=[frame("checkout")], fingerprint=["{{ default }}", "tenant-a"])
    b = exc_event(frames=[frame("checkout")], fingerprint=["{{default}}", "tenant-a"])
    c = exc_event(frames=[frame("checkout")], fingerprint=["{{ default }}", "tenant-b"])
    d = exc_event(frames=[frame("refund")], fingerprint=["{{ default }}", "tenant-a"])
    assert group(a).hash == group(b).hash
    assert len({group(a).hash, group(c).hash, group(d).hash}) == 3
    assert group(a).components[-1] == "fingerprint:tenant-a"
    assert any(c.startswith("frame:shop.views|checkout|") for c in group(a).components)


def test_chained_exceptions_group_on_every_link():
    cause = {"type": "ConnectionError", "value": "refused", "stacktrace": {"frames": [frame("connect")]}}
    top = {"type": "PaymentFailed", "value": "x", "stacktrace": {"frames": [frame("pay")]}}
    other_cause = {**cause, "type": "TimeoutError"}
    assert (
        group({"exception": {"values": [cause, top]}}).hash != group({"exception": {"values": [other_cause, top]}}).hash
    )


def test_events_with_nothing_to_group_by_share_one_issue():
    assert group({}).rule == "fallback"
    assert group({}).hash == group({"exception": {"values": "junk"}, "message": 5}).hash


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
event_keys = st.sampled_from(["exception", "fingerprint", "logentry", "message", "values", "stacktrace", "frames"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(event_keys, json_values, max_size=5))
def test_grouping_accepts_any_json_shape(event):
    result = group(event)
    assert len(result.hash) == 64 and result.components
