"""The configuration backup: every section exported, wiped and imported back equal; one bad item
changes nothing and is named with its field; secrets stay in the environment; rules as code
from CI (export, edit, dry run, apply)."""

import io
import subprocess
import sys
from datetime import UTC, datetime, time

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from alerts.delivery.notifiers import NOTIFIERS
from alerts.models import (
    AlertRule,
    Channel,
    EscalationPolicy,
    EscalationStep,
    InhibitRule,
    MaintenanceWindow,
    OnCallLayer,
    OnCallOverride,
    OnCallSchedule,
    Silence,
    TargetDependency,
)
from alerts.rules.kinds.target_status import TargetDown
from backups.services.configuration import ConfigImportError, export_config, import_config
from monitoring.models import Heartbeat, Tag, Target
from tests.factories import ProjectFactory, UserFactory
from tests.monitoring.uptime.factories import HeartbeatFactory, TargetFactory
from tests.processes import current_database_url

pytestmark = pytest.mark.django_db

WEBHOOK_URL = "http://127.0.0.1:9/hooks/very-secret-path-4f2a"
HMAC_SECRET = "hmac-secret-value-9c1d"
SECTIONS = (
    "targets",
    "channels",
    "schedules",
    "policies",
    "rules",
    "inhibit_rules",
    "silences",
    "maintenance",
    "dependencies",
)


@pytest.fixture
def secrets(monkeypatch):
    monkeypatch.setenv("OPS_WEBHOOK_URL", WEBHOOK_URL)
    monkeypatch.setenv("OPS_WEBHOOK_HMAC", HMAC_SECRET)


@pytest.fixture
def portal(secrets):
    """A portal configured as a team runs one: something in every section, all cross-referenced."""
    shop, blog = ProjectFactory(slug="shop"), ProjectFactory(slug="blog")
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    web = TargetFactory(project=shop, name="Web", regions=["eu", "us"], quorum=1, headers={"Accept": "text/html"})
    database = TargetFactory(project=shop, name="Database", kind="tcp", url="", host="db.shop.example", port=5432)
    TargetDependency.objects.create(target=web, depends_on=database)
    web.tags.add(Tag.objects.create(name="frontend"))
    HeartbeatFactory(target__project=shop, target__name="Nightly", schedule="cron", cron="0 3 * * *")
    TargetFactory(project=blog, name="Blog")

    mail = Channel.objects.create(name="ops-mail", kind="email", config={"to": ["ops@example.com"]})
    hook = Channel.objects.create(
        name="ops-hook",
        kind="webhook",
        config=NOTIFIERS["webhook"].validate_config({"url_env": "OPS_WEBHOOK_URL", "secret_env": "OPS_WEBHOOK_HMAC"}),
        allow_private=True,
    )
    Channel.objects.create(name="alice-mail", kind="email", config={"to": ["alice@example.com"]}, user=alice)

    primary = OnCallSchedule.objects.create(name="primary", time_zone="Europe/Berlin")
    OnCallLayer.objects.create(
        schedule=primary,
        name="weekdays",
        users=["alice", "bob"],
        starts_at=datetime(2026, 1, 5, 8, tzinfo=UTC),
        restrict_start=time(9),
        restrict_end=time(17, 30),
    )
    OnCallOverride.objects.create(
        schedule=primary,
        user=bob,
        starts_at=datetime(2026, 12, 24, tzinfo=UTC),
        ends_at=datetime(2026, 12, 27, tzinfo=UTC),
    )
    policy = EscalationPolicy.objects.create(name="default", repeat=1)
    first = EscalationStep.objects.create(policy=policy, order=0)
    first.channels.set([mail])
    second = EscalationStep.objects.create(policy=policy, order=1, delay_minutes=15, schedule=primary)
    second.users.set([alice])

    down = AlertRule.objects.create(
        project=shop,
        name="API down",
        kind="target_status",
        params=TargetDown.validate_params({"statuses": ["down"], "target_ids": [web.pk]}),
        severity="critical",
        for_seconds=300,
        escalation_policy=policy,
        labels={"team": "payments"},
    )
    down.channels.set([hook, mail])
    AlertRule.objects.create(
        project=blog, name="Blog down", kind="target_status", params=TargetDown.validate_params({"tag": "frontend"})
    )

    InhibitRule.objects.create(
        name="critical mutes the rest",
        source_matchers=[{"name": "severity", "op": "=", "value": "critical"}],
        target_matchers=[{"name": "severity", "op": "=~", "value": "high|medium|low"}],
        equal=["target_id"],
    )
    Silence.objects.create(
        matchers=[{"name": "project", "op": "=", "value": "shop"}],
        starts_at=datetime(2026, 12, 1, tzinfo=UTC),
        ends_at=datetime(2026, 12, 31, tzinfo=UTC),
        created_by=alice,
        comment="Migration month",
    )
    MaintenanceWindow.objects.create(
        name="Sunday patching",
        target=web,
        recurrence="cron",
        expression="0 2 * * SUN",
        starts_at=datetime(2026, 1, 4, 2, tzinfo=UTC),
        duration_minutes=90,
        effect="pause",
        created_by=bob,
    )
    MaintenanceWindow.objects.create(
        name="Frontend freeze", tag=Tag.objects.get(name="frontend"), starts_at=datetime(2026, 12, 20, tzinfo=UTC)
    )
    return shop


def wipe() -> None:
    for model in (
        AlertRule,
        EscalationPolicy,
        OnCallSchedule,
        Channel,
        InhibitRule,
        Silence,
        MaintenanceWindow,
        Target,
    ):
        model.objects.all().delete()


def run(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_export_wipe_import_gives_the_same_yaml_for_every_section(portal, tmp_path):
    exported = run("exportconfig")
    document = yaml.safe_load(exported)
    assert [name for name in document if name != "version"] == list(SECTIONS)
    assert all(document[name] for name in SECTIONS), "every section has something to round-trip"
    rule = next(r for r in document["rules"] if r["name"] == "API down")
    assert rule["channels"] == ["ops-hook", "ops-mail"] and rule["escalation_policy"] == "default"
    assert rule["targets"] == ["shop/Web"] and "target_ids" not in rule["params"]  # ids differ between portals
    assert document["policies"][0]["steps"][1] == {
        "delay_minutes": 15,
        "channels": [],
        "schedule": "primary",
        "users": ["alice"],
    }
    assert document["schedules"][0]["layers"][0]["restrict_end"] == "17:30"

    wipe()
    path = tmp_path / "config.yaml"
    path.write_text(exported)
    out = run("importconfig", str(path))
    items = sum(len(document[name]) for name in SECTIONS)  # the seeded inhibit rule counts too
    assert f"{items} created, 0 updated, 0 unchanged; nothing was deleted." in out
    assert run("exportconfig") == exported
    assert Heartbeat.objects.get().cron == "0 3 * * *"
    assert OnCallOverride.objects.get().user.username == "bob"


def test_importing_what_was_exported_changes_nothing_and_again(portal):
    exported = export_config()
    rows = {
        model: sorted(model.objects.values_list("pk", flat=True))
        for model in (
            OnCallLayer,
            OnCallOverride,
            EscalationStep,
            AlertRule,
            Channel,
            InhibitRule,
            Silence,
            MaintenanceWindow,
            TargetDependency,
        )
    }
    items = sum(len(section) for name, section in yaml.safe_load(exported).items() if name != "version")
    for _ in range(2):
        summary = import_config(exported)
        assert not summary.changed
        assert summary.count("unchanged") == items
    assert export_config() == exported
    # Not rewritten either: the steps, layers and overrides keep their rows.
    assert rows == {model: sorted(model.objects.values_list("pk", flat=True)) for model in rows}


def test_one_project_brings_the_channels_policies_and_schedules_its_rules_use(portal):
    document = yaml.safe_load(run("exportconfig", "--project", "shop"))
    assert {t["project"] for t in document["targets"]} == {"shop"}
    assert [r["name"] for r in document["rules"]] == ["API down"]
    assert [c["name"] for c in document["channels"]] == ["ops-hook", "ops-mail"]  # not alice's own
    assert [p["name"] for p in document["policies"]] == ["default"]
    assert [s["name"] for s in document["schedules"]] == ["primary"]
    assert [s["comment"] for s in document["silences"]] == ["Migration month"]
    assert [w["name"] for w in document["maintenance"]] == ["Sunday patching"]
    assert document["dependencies"] == [{"target": "shop/Web", "depends_on": "shop/Database"}]
    assert document["inhibit_rules"] == []  # they belong to no project


def test_secrets_stay_in_the_environment(portal):
    exported = export_config()
    assert "OPS_WEBHOOK_URL" in exported and "OPS_WEBHOOK_HMAC" in exported
    assert WEBHOOK_URL not in exported and HMAC_SECRET not in exported
    assert "very-secret-path" not in exported


def test_a_channel_whose_secret_is_not_set_is_refused_by_name(portal, monkeypatch):
    exported = export_config()
    wipe()
    monkeypatch.delenv("OPS_WEBHOOK_HMAC")
    with pytest.raises(ConfigImportError) as error:
        import_config(exported)
    assert "channels[1] (ops-hook).config.secret_env: the environment variable OPS_WEBHOOK_HMAC is not set" in str(
        error.value
    )
    assert not Channel.objects.exists() and not Target.objects.exists()


GOOD_CHANNEL = "channels:\n- {name: new-mail, kind: email, config: {to: [new@example.com]}}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD_CHANNEL + "rules:\n- {project: shop, name: Slow, kind: target_status, channels: [nope]}\n",
            "rules[0] (shop/Slow).channels: no channel named 'nope'",
        ),
        (
            GOOD_CHANNEL + "rules:\n- {project: shop, name: Busy, kind: metric_threshold, "
            "params: {metric: cpu, agg: avg, window_minutes: 5, operator: gt, threshold: high}}\n",
            "rules[0] (shop/Busy).params.threshold: required, as a number",
        ),
        (
            GOOD_CHANNEL + "rules:\n- {project: shop, name: Down, kind: target_status, for_seconds: soon}\n",
            "rules[0] (shop/Down).for_seconds:",
        ),
        (
            GOOD_CHANNEL + "schedules:\n- name: night\n  layers:\n  - {users: [alice, carol], "
            "starts_at: '2026-01-01T00:00:00+00:00'}\n",
            "schedules[0] (night).layers[0].users: no active user carol",
        ),
        (
            GOOD_CHANNEL + "schedules:\n- {name: night, time_zone: Mars/Olympus}\n",
            "schedules[0] (night).time_zone: 'Mars/Olympus' is not a known time zone",
        ),
        (
            GOOD_CHANNEL + "policies:\n- name: loud\n  steps:\n  - {delay_minutes: 5}\n",
            "policies[0] (loud).steps[0]: a step must page someone",
        ),
        (
            GOOD_CHANNEL + "silences:\n- {matchers: [{name: env, op: '=', value: prod}], created_by: alice, "
            "comment: deploy, starts_at: '2026-12-01T10:00:00+00:00', ends_at: '2026-12-01T09:00:00+00:00'}\n",
            'silences[0] ({env="prod"} from 2026-12-01T10:00:00+00:00).ends_at: The end must be after the start.',
        ),
        (
            GOOD_CHANNEL + "maintenance:\n- {name: Patch, project: shop, recurrence: cron, expression: '0 2 * *', "
            "starts_at: '2026-01-04T02:00:00+00:00'}\n",
            "maintenance[0] (Patch (project shop)).expression: Not a valid cron expression",
        ),
        (
            GOOD_CHANNEL + "maintenance:\n- {name: Patch, starts_at: '2026-01-04T02:00:00+00:00'}\n",
            "maintenance[0] (Patch (no scope)).project: give what the window covers",
        ),
        (
            GOOD_CHANNEL + "targets:\n- {project: shop, name: X, kind: http, url: 'https://x.example/', colour: red}\n",
            "targets[0] (shop/X).colour: unknown field",
        ),
        (
            GOOD_CHANNEL + "dependencies:\n- {target: shop/API, depends_on: shop/DB}\n",
            "dependencies[0] (shop/API on shop/DB).target: no target 'shop/API'; write it as project/name",
        ),
        (
            GOOD_CHANNEL
            + "inhibit_rules:\n- {name: quiet, source_matchers: [], target_matchers: [{name: a, op: '=', value: b}]}\n",
            "inhibit_rules[0] (quiet).source_matchers: give at least one matcher",
        ),
        ("channels: [\n", "file: not valid YAML"),
        ("widgets: []\n", "widgets: unknown section"),
    ],
)
def test_one_bad_item_changes_nothing_and_names_the_item_and_field(tmp_path, text, message):
    ProjectFactory(slug="shop")
    UserFactory(username="alice")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(CommandError) as error:
        call_command("importconfig", str(path))
    assert error.value.returncode == 2
    assert message in str(error.value)
    assert not Channel.objects.exists(), "the good channel before the bad item was rolled back"


def test_every_bad_item_is_named_at_once():
    with pytest.raises(ConfigImportError) as error:
        import_config("channels:\n- {name: a, kind: fax}\n- {name: b, kind: email, config: {}}\n")
    assert error.value.errors == {
        "channels[0] (a).kind": "'fax' is not one of email, slack, teams, discord, webhook, pagerduty, telegram, ntfy",
        "channels[1] (b).config.to": "required",
    }


@pytest.mark.django_db(transaction=True)  # the command's process writes: no test transaction may hold the lock
def test_bad_files_exit_with_status_2_and_one_message_on_stderr(tmp_path, django_db_blocker):
    path = tmp_path / "config.yaml"
    path.write_text("rules:\n- {project: nowhere, name: Down, kind: target_status}\n")
    with django_db_blocker.unblock():
        result = manage("importconfig", str(path))
        missing = manage("importconfig", str(tmp_path / "none.yaml"))
        bad_project = manage("exportconfig", "--project", "nowhere")
    assert result.returncode == 2, result.stderr
    assert "rules[0] (nowhere/Down).project: no project with slug 'nowhere'" in result.stderr
    assert "Traceback" not in result.stderr
    assert missing.returncode == 2 and "none.yaml does not exist" in missing.stderr
    assert bad_project.returncode == 2 and "--project: no project with slug 'nowhere'" in bad_project.stderr


def manage(*args):
    import os

    env = os.environ | {"DEBUG": "1", "LOOKOUT_NO_BOOTSTRAP": "1", "DATABASE_URL": current_database_url()}
    return subprocess.run(
        [sys.executable, "manage.py", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_rules_as_code_from_ci_export_edit_dry_run_apply(portal, tmp_path):
    """A team keeps the file in git: CI shows the diff of a pull request, then applies it on merge."""
    path = tmp_path / "lookout.yaml"
    run("exportconfig", "--output", str(path))
    document = yaml.safe_load(path.read_text())
    rule = next(r for r in document["rules"] if r["name"] == "API down")
    rule["for_seconds"] = 600
    rule["channels"] = ["ops-mail"]
    document["rules"].append({"project": "shop", "name": "Checkout slow", "kind": "target_status", "severity": "high"})
    path.write_text(yaml.safe_dump(document, sort_keys=False))

    dry = run("importconfig", str(path), "--dry-run")
    assert "rules: 1 created, 1 updated, 1 unchanged" in dry
    assert "  + shop/Checkout slow" in dry
    assert "  ~ shop/API down (for_seconds, channels)" in dry
    assert "Dry run: nothing was written." in dry
    assert AlertRule.objects.get(name="API down").for_seconds == 300
    assert not AlertRule.objects.filter(name="Checkout slow").exists()

    items = sum(len(section) for name, section in document.items() if name != "version")
    applied = run("importconfig", str(path))
    assert f"1 created, 1 updated, {items - 2} unchanged; nothing was deleted." in applied
    down = AlertRule.objects.get(name="API down")
    assert down.for_seconds == 600 and [c.name for c in down.channels.all()] == ["ops-mail"]
    assert AlertRule.objects.get(name="Checkout slow").severity == "high"
    assert f"0 created, 0 updated, {items} unchanged" in run("importconfig", str(path))


def test_importconfig_reads_standard_input(monkeypatch):
    ProjectFactory(slug="shop")
    monkeypatch.setattr("sys.stdin", io.StringIO("rules:\n- {project: shop, name: Down, kind: target_status}\n"))
    assert "rules: 1 created" in run("importconfig", "-")
    assert AlertRule.objects.get().params == {"statuses": ["down"], "target_ids": None, "tag": ""}


def test_targets_files_are_configuration_files_too(tmp_path):
    ProjectFactory(slug="shop")
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n- {project: shop, name: storefront, kind: http, url: 'https://shop.example/'}\n")
    assert "targets: 1 created" in run("importconfig", str(path))
    assert Target.objects.get().name == "storefront"


def _exported_without(tmp_path, **leave_out) -> tuple:
    """The portal's file with some items taken out: section → names (or keys) to drop."""
    path = tmp_path / "lookout.yaml"
    run("exportconfig", "--output", str(path))
    document = yaml.safe_load(path.read_text())
    for section, names in leave_out.items():
        document[section] = [i for i in document[section] if i.get("name", f"{i.get('target')}") not in names]
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path, document


def test_prune_deletes_what_the_file_leaves_out_and_a_dry_run_shows_it_first(portal, tmp_path):
    path, document = _exported_without(tmp_path, rules={"Blog down"}, channels={"alice-mail"})

    dry = run("importconfig", str(path), "--prune", "--dry-run")
    assert "rules: 1 unchanged, 1 deleted\n  - blog/Blog down" in dry
    assert "channels: 2 unchanged, 1 deleted\n  - alice-mail" in dry
    assert "2 would be deleted. Dry run: nothing was written." in dry
    assert AlertRule.objects.filter(name="Blog down").exists() and Channel.objects.filter(name="alice-mail").exists()

    applied = run("importconfig", str(path), "--prune")
    assert "; 2 were deleted." in applied
    assert not AlertRule.objects.filter(name="Blog down").exists()
    assert not Channel.objects.filter(name="alice-mail").exists()
    assert yaml.safe_load(export_config()) == document  # the portal is now exactly the file
    assert "nothing was deleted" in run("importconfig", str(path), "--prune")


def test_prune_leaves_the_sections_the_file_does_not_have_alone(portal, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n- {project: shop, name: Only rule, kind: target_status}\n")
    out = run("importconfig", str(path), "--prune")
    assert "rules: 1 created, 2 deleted" in out
    assert list(AlertRule.objects.values_list("name", flat=True)) == ["Only rule"]
    assert Channel.objects.count() == 3 and Target.objects.count() == 4 and Silence.objects.count() == 1


def test_prune_that_would_take_an_item_of_the_file_with_it_deletes_nothing(portal, tmp_path):
    # The file keeps Web's dependency on Database but leaves Database out: deleting Database
    # would delete the dependency the file asks for.
    path, _ = _exported_without(tmp_path, targets={"Database"})
    with pytest.raises(CommandError) as refused:
        run("importconfig", str(path), "--prune")
    assert "dependencies[0] (shop/Web on shop/Database): --prune would delete it along with" in str(refused.value)
    assert Target.objects.filter(name="Database").exists()
    assert TargetDependency.objects.count() == 1
