"""Login protection: an account guessed at from many addresses is locked on all of them,
the admin shows it, and the lockout is recorded as a security event."""

import logging

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from monitoring.logins.services import LOGIN_LOCKED_OUT, SECURITY_EVENTS

pytestmark = pytest.mark.django_db

LIMIT = 3
PASSWORD = "correct-horse-battery"  # tests/conftest.py's admin_user


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT


def login(client, username: str, password: str, address: str):
    return client.post(reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def locked_out_events() -> float:
    return SECURITY_EVENTS.labels(kind=LOGIN_LOCKED_OUT)._value.get()


def test_failures_from_many_addresses_lock_the_account_everywhere(client, admin_user, caplog):
    before = locked_out_events()
    with caplog.at_level(logging.WARNING, logger="lookout.security"):
        answers = [login(client, admin_user.username, "wrong", f"198.51.100.{n}").status_code for n in range(LIMIT)]

    # One guess per address, each a fresh address: the account is locked all the same.
    assert answers[:-1] == [200] * (LIMIT - 1) and answers[-1] == 429
    right_password = login(client, admin_user.username, PASSWORD, "203.0.113.7")
    assert right_password.status_code == 429
    assert "_auth_user_id" not in client.session

    (record,) = [r for r in caplog.records if r.name == "lookout.security"]
    assert record.security_event == {
        "kind": LOGIN_LOCKED_OUT,
        "username": admin_user.username,
        "ip_address": f"198.51.100.{LIMIT - 1}",
        "failures": LIMIT,
    }
    # Refusals while locked are not new lockouts.
    assert locked_out_events() == before + 1


def test_an_address_guessing_many_accounts_is_locked_too(client, admin_user):
    for n in range(LIMIT):
        login(client, f"someone-{n}", "wrong", "198.51.100.9")
    assert login(client, admin_user.username, PASSWORD, "198.51.100.9").status_code == 429
    assert login(client, admin_user.username, PASSWORD, "198.51.100.10").status_code == 302


def test_the_admin_shows_the_locked_account_and_unlocks_it(client, admin_client, django_user_model):
    victim = django_user_model.objects.create_user("victim", password="right-one", is_staff=True)
    for n in range(LIMIT):
        login(client, victim.username, "wrong", f"198.51.100.{n}")
    login(client, "typo", "wrong", "198.51.100.200")
    changelist = reverse("admin:axes_accessattempt_changelist")

    locked = admin_client.get(changelist, {"account_locked": "yes"})
    assert locked.status_code == 200
    rows = list(locked.context["cl"].result_list)
    assert {a.username for a in rows} == {"victim"} and len(rows) == LIMIT
    assert "account locked (any address)" in locked.content.decode()

    unlocked = admin_client.post(
        changelist, {"action": "unlock_accounts", "_selected_action": [rows[0].pk]}, follow=True
    )
    assert unlocked.status_code == 200
    assert not AccessAttempt.objects.filter(username="victim").exists()
    assert login(client, victim.username, "right-one", "203.0.113.7").status_code == 302
