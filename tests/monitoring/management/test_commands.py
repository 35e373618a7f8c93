import json
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from monitoring.models import ApiToken, IngestKey, Project
from monitoring.projects.services.api_tokens import api_token_authenticate
from tests.factories import UserFactory
from tests.processes import current_database_url

pytestmark = pytest.mark.django_db


def test_createproject_prints_id_and_dsn(capsys):
    call_command("createproject", "Checkout")
    out = capsys.readouterr().out
    project = Project.objects.get(slug="checkout")
    assert f"project {project.pk} (checkout)" in out
    assert IngestKey.objects.get(project=project).dsn in out


def test_createproject_json_is_one_object(capsys):
    call_command("createproject", "Checkout", "--json", "--environment", "prod", "--environment", "beta")
    data = json.loads(capsys.readouterr().out)
    project = Project.objects.get(pk=data["id"])
    assert data["dsn"] == project.dsn
    assert sorted(e.name for e in project.environments.all()) == ["beta", "prod"]


def test_createtoken_prints_a_working_token_of_the_asked_scope(capsys):
    UserFactory(username="ops")
    call_command("createtoken", "ops", "--scope", "write")
    secret = capsys.readouterr().out.strip()
    token = api_token_authenticate(secret=secret)
    assert token.user.username == "ops"
    assert token.scope == ApiToken.Scope.WRITE


def _manage(*args, env_extra=None):
    """Run manage.py as a person would, in its own process, to see stderr and the exit status."""
    import os

    env = os.environ | {"DEBUG": "1", "LOOKOUT_NO_BOOTSTRAP": "1"} | (env_extra or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args, expected",
    [
        (["createtoken", "nobody"], "username: no user 'nobody'"),
        (["createtoken", "x", "--scope", "admin"], "invalid choice: 'admin'"),
        (["createproject"], "the following arguments are required: name"),
        (["createproject", "x" * 150], "name: its slug would be 150 characters, over the limit of 100"),
        (["createproject", "Shop", "--slug", "s" * 101], "slug: 101 characters, over the limit of 100"),
    ],
)
def test_bad_arguments_get_one_line_and_status_2(args, expected, django_db_blocker):
    # The command runs against the test database, migrated by pytest-django.
    env = {"DATABASE_URL": current_database_url()}
    with django_db_blocker.unblock():
        result = _manage(*args, env_extra=env)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


def test_a_bad_name_is_refused_with_status_2_and_nothing_written():
    with pytest.raises(CommandError, match="slug: cannot make a slug") as raised:
        call_command("createproject", "!!!")
    assert raised.value.returncode == 2
    assert not Project.objects.exists()


def test_createproject_refuses_what_no_column_can_hold_as_a_bad_argument():
    with pytest.raises(CommandError) as raised:
        call_command("createproject", "Shop\x00")
    assert raised.value.returncode == 2
    assert str(raised.value).startswith("name:")
    assert not Project.objects.exists()
