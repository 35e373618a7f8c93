"""The backups admin as a person uses it: the plan form's field errors, the variables'
presence, the buttons, the run list with its badges, and the superuser-only download."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from backups.models import DownloadLog, Plan, Run, Status
from backups.services.runs import plan_backup
from config.celery import app

ADD = reverse("admin:backups_plan_add")


@pytest.fixture
def eager():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _form(age_identity, **changes):
    data = {
        "name": "app",
        "enabled": "on",
        "source": "postgres",
        "source_env": "APP_DATABASE_URL",
        "kind_database": "on",
        "cron": "0 2 * * *",
        "time_zone": "UTC",
        "verify_cron": "0 4 * * 0",
        "storage": "local",
        "recipients": str(age_identity.to_public()),
        "retention_days": "30",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_plan_form_names_each_bad_field_and_saves_nothing(admin_client, age_identity, monkeypatch):
    monkeypatch.delenv("APP_DATABASE_URL", raising=False)
    response = admin_client.post(
        ADD, _form(age_identity, cron="61 * * * *", time_zone="Mars/Olympus", recipients="age1notakey")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "is not a valid cron expression" in errors["cron"][0]
    assert "'Mars/Olympus' is not a known time zone" in errors["time_zone"][0]
    assert "is not a valid age public key" in errors["recipients"][0]
    assert not Plan.objects.exists()
    response = admin_client.post(ADD, _form(age_identity))
    assert response.context["adminform"].form.errors["source_env"] == [
        "The environment variable APP_DATABASE_URL is not set."
    ]
    assert not Plan.objects.exists()


def test_a_saved_plan_shows_its_variables_present_or_missing_never_the_value(admin_client, age_identity, monkeypatch):
    monkeypatch.setenv("APP_DATABASE_URL", "postgres://app:hunter2-secret@db.internal/app")
    response = admin_client.post(ADD, _form(age_identity))
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert plan.next_run_at is not None  # scheduled on save
    monkeypatch.delenv("APP_DATABASE_URL")
    page = admin_client.get(reverse("admin:backups_plan_change", args=[plan.pk])).content.decode()
    assert "APP_DATABASE_URL</code> <strong" in page and "missing" in page
    monkeypatch.setenv("APP_DATABASE_URL", "postgres://app:hunter2-secret@db.internal/app")
    listing = admin_client.get(reverse("admin:backups_plan_changelist")).content.decode()
    assert "present" in listing and "hunter2" not in listing


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def test_test_connection_back_up_now_and_the_run_list(
    make_plan, notes_db, identity_env, eager, django_capture_on_commit_callbacks, admin_user
):
    plan = make_plan(name="app", source="sqlite", sqlite_path=str(notes_db))
    change = reverse("admin:backups_plan_change", args=[plan.pk])
    client = Client(enforce_csrf_checks=True)  # as a browser: the token must come from the page
    client.force_login(admin_user)
    page = client.get(change).content.decode()
    token = _csrf(page)
    for name in ("test_connection", "back_up_now", "verify_now"):
        assert f'action="{reverse(f"admin:backups_plan_{name}", args=[plan.pk])}"' in page
    answer = client.post(
        reverse("admin:backups_plan_test_connection", args=[plan.pk]), {"csrfmiddlewaretoken": token}, follow=True
    ).content.decode()
    assert "SQLite" in answer and "2 tables" not in answer and "1 tables" in answer and "is writable" in answer
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:backups_plan_back_up_now", args=[plan.pk]), {"csrfmiddlewaretoken": token})
    run = Run.objects.get()
    assert run.status == Status.SUCCEEDED and run.trigger == "manual"
    listing = client.get(reverse("admin:backups_run_changelist")).content.decode()
    assert "succeeded" in listing and run.sha256[:12] in listing and "not yet" in listing
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:backups_plan_verify_now", args=[plan.pk]), {"csrfmiddlewaretoken": token})
    listing = client.get(reverse("admin:backups_run_changelist")).content.decode()
    assert "verified" in listing
    receipts = client.get(reverse("admin:backups_verification_changelist")).content.decode()
    assert "recovery time" in receipts.lower()
    page = client.get(change).content.decode()
    assert page.count("data-lookout-chart") == 2  # size and duration drawn


def test_the_plan_buttons_act_only_on_a_post_with_its_token_by_someone_who_may_change_plans(
    make_plan, notes_db, identity_env, eager, django_capture_on_commit_callbacks, admin_user, django_user_model
):
    from django.contrib.auth.models import Permission

    plan = make_plan(name="app", source="sqlite", sqlite_path=str(notes_db))
    urls = [reverse(f"admin:backups_plan_{name}", args=[plan.pk]) for name in ("back_up_now", "verify_now")]
    urls.append(reverse("admin:backups_plan_test_connection", args=[plan.pk]))
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        for url in urls:
            assert admin.get(url).status_code == 405  # a link or an <img> starts nothing
            assert admin.post(url).status_code == 403  # a form on another site has no token
    assert not Run.objects.exists() and not plan.verifications.exists()

    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename="view_plan"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)
    page = client.get(reverse("admin:backups_plan_change", args=[plan.pk])).content.decode()
    assert 'id="plan-buttons"' not in page  # no buttons for someone who may only look
    with django_capture_on_commit_callbacks(execute=True):
        for url in urls:
            assert client.post(url, {"csrfmiddlewaretoken": _csrf(page)}).status_code == 403
    assert not Run.objects.exists()


def test_a_plan_without_runs_says_why_its_chart_is_empty(admin_client, make_plan, notes_db):
    plan = make_plan(name="app", source="sqlite", sqlite_path=str(notes_db))
    page = admin_client.get(reverse("admin:backups_plan_change", args=[plan.pk])).content.decode()
    assert "No successful backup yet: nothing to draw." in page


def test_only_superusers_download_and_every_download_is_logged(
    admin_client, make_plan, notes_db, identity_env, django_user_model
):
    from django.contrib.auth.models import Permission
    from django.test import Client

    plan = make_plan(name="app", source="sqlite", sqlite_path=str(notes_db))
    (run,) = plan_backup(plan=plan)
    url = reverse("admin:backups_run_fetch", args=[run.pk])
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename="view_run"))
    client = Client()
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert not DownloadLog.objects.exists()
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:21] == b"age-encryption.org/v1"
    (log,) = DownloadLog.objects.all()
    assert log.username == "admin" and log.storage_key == run.storage_key


def _fields(response) -> set[str]:
    return set(response.context["adminform"].form.fields)


S3_ONLY = {
    "storage_bucket",
    "storage_endpoint_url",
    "storage_region",
    "storage_access_key_env",
    "storage_secret_key_env",
}


def test_the_plan_form_shows_only_the_chosen_source_and_storage_fields(
    admin_client, age_identity, make_plan, notes_db, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        page = admin_client.get(ADD)
    assert "storage_path" in _fields(page)
    assert not _fields(page) & (S3_ONLY | {"storage_url_env", "source_env", "sqlite_path"})

    # What the page reloads to when the storage select changes: the new choice's fields, what was typed kept.
    page = admin_client.get(ADD, {"name": "typed", "source": "sqlite", "storage": "s3", "kind_export": "on"})
    form = page.context["adminform"].form
    assert S3_ONLY | {"sqlite_path", "storage_path"} <= _fields(page)
    assert not _fields(page) & {"storage_url_env", "source_env"}
    assert (form.initial["name"], form.initial["storage"], form.initial["source"]) == ("typed", "s3", "sqlite")
    assert form.initial["kind_export"] is True and form.initial["kind_database"] is False
    assert 'name="storage_bucket"' in page.content.decode() and 'name="storage_url_env"' not in page.content.decode()

    plan = make_plan(name="notes", source="sqlite", sqlite_path=str(notes_db))
    page = admin_client.get(reverse("admin:backups_plan_change", args=[plan.pk]))
    assert {"sqlite_path", "storage_path"} <= _fields(page)
    assert not _fields(page) & (S3_ONLY | {"storage_url_env", "source_env"})


def test_errors_of_the_chosen_storage_land_on_its_fields(admin_client, age_identity, monkeypatch):
    monkeypatch.setenv("APP_DATABASE_URL", "postgres://app@db.internal/app")
    response = admin_client.post(ADD, _form(age_identity, storage="s3"))
    form = response.context["adminform"].form
    assert form.errors["storage_bucket"] == ["Give the bucket's name."]
    assert form.errors["storage_access_key_env"] == ["Name the environment variable."]
    assert not form.non_field_errors()
    assert not _fields(response) & {"storage_url_env"}

    response = admin_client.post(ADD, _form(age_identity, storage="sftp", storage_bucket="ignored"))
    form = response.context["adminform"].form
    assert form.errors == {"storage_url_env": ["Name the environment variable."]}
    assert not _fields(response) & S3_ONLY
    assert not Plan.objects.exists()

    monkeypatch.setenv("BACKUP_SFTP_URL", "sftp://backup:pw@127.0.0.1:2222/")
    response = admin_client.post(ADD, _form(age_identity, storage="sftp", storage_url_env="BACKUP_SFTP_URL"))
    assert response.status_code == 302
    assert Plan.objects.get().storage_url_env == "BACKUP_SFTP_URL"
