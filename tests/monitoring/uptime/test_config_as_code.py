"""Targets as code: export, edit, import back; by command and in the admin; all or nothing."""

import io
import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from monitoring.models import Heartbeat, Tag, Target
from tests.factories import ProjectFactory
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory

pytestmark = pytest.mark.django_db


def export(*args) -> str:
    out = io.StringIO()
    call_command("exporttargets", *args, stdout=out)
    return out.getvalue()


def test_export_then_import_into_an_empty_portal_gives_the_same_targets(tmp_path):
    project = ProjectFactory(slug="shop")
    web = TargetFactory(
        project=project,
        name="Web",
        accepted_statuses="200-299, 418",
        regions=["eu", "us"],
        quorum=1,
        headers={"Accept": "text/html"},
    )
    web.tags.add(*[Tag.objects.create(name=n) for n in ("a", "b")])
    HeartbeatFactory(
        target__project=project, target__name="Backup", schedule="cron", cron="0 3 * * *", time_zone="Europe/Berlin"
    )
    for fmt in ("yaml", "json"):
        text = export("--format", fmt)
        before = (json.loads(text) if fmt == "json" else yaml.safe_load(text))["targets"]
        Target.objects.all().delete()
        path = tmp_path / f"targets.{fmt}"
        path.write_text(text)
        out = io.StringIO()
        call_command("importtargets", str(path), stdout=out)
        assert out.getvalue().strip() == "2 created, 0 updated"
        after = yaml.safe_load(export("--format", "yaml"))["targets"]
        assert after == before
    assert Heartbeat.objects.get().cron == "0 3 * * *"


def test_import_updates_targets_matched_by_project_and_name(tmp_path):
    project = ProjectFactory(slug="shop")
    TargetFactory(project=project, name="Web", interval_seconds=60)
    path = tmp_path / "t.yaml"
    path.write_text(
        "targets:\n- {project: shop, name: Web, kind: http, url: 'https://shop.example/', interval_seconds: 30}\n"
    )
    out = io.StringIO()
    call_command("importtargets", str(path), stdout=out)
    assert out.getvalue().strip() == "0 created, 1 updated"
    assert Target.objects.get().interval_seconds == 30


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("targets: [", "file: not valid YAML"),
        ("- a\n- b\n", 'file: expected an object with a "targets" list'),
        (
            "targets:\n- {project: nope, name: X, kind: http, url: 'https://x.example/'}\n",
            "targets[0].project: no project with slug 'nope'",
        ),
        (
            "targets:\n- {project: shop, name: X, kind: http, url: 'https://x.example/', colour: red}\n",
            "targets[0].colour: unknown field",
        ),
        (
            "targets:\n- {project: shop, name: Good, kind: http, url: 'https://x.example/'}\n"
            "- {project: shop, name: Bad, kind: heartbeat, heartbeat: {schedule: cron, cron: '0 3 * *', "
            "time_zone: Mars}}\n",
            "targets[1].heartbeat.cron",
        ),
    ],
)
def test_a_bad_file_changes_nothing_and_says_where(tmp_path, text, message):
    ProjectFactory(slug="shop")
    path = tmp_path / "t.yaml"
    path.write_text(text)
    with pytest.raises(CommandError) as error:
        call_command("importtargets", str(path))
    assert message in str(error.value)
    assert not Target.objects.exists()


def test_a_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="file: /nowhere.yaml does not exist"):
        call_command("importtargets", "/nowhere.yaml")


def test_admin_export_action_and_import_page(admin_client):
    project = ProjectFactory(slug="shop")
    target = TargetFactory(project=project, name="Web")
    changelist = reverse("admin:monitoring_target_changelist")
    response = admin_client.post(changelist, {"action": "export_yaml", "_selected_action": [target.pk]})
    assert response["Content-Disposition"] == 'attachment; filename="targets.yaml"'
    exported = response.content
    Target.objects.all().delete()
    import_url = reverse("admin:monitoring_target_import")
    assert f'href="{import_url}"' in admin_client.get(changelist).content.decode()
    assert admin_client.get(import_url).status_code == 200
    upload = SimpleUploadedFile("targets.yaml", exported)
    response = admin_client.post(import_url, {"file": upload}, follow=True)
    assert "1 created, 0 updated" in response.content.decode()
    assert Target.objects.get().name == "Web"
    bad = SimpleUploadedFile("targets.json", b"{nope")
    response = admin_client.post(import_url, {"file": bad})
    assert response.status_code == 200 and "not valid JSON" in response.content.decode()
