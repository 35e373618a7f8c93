"""A configuration backup is verified by importing it into a scratch portal, and the portal's
data export by loading it into one: what really landed is counted against what the run
recorded (or the file holds), and a backup the scratch portal refuses fails with the reason.
The live portal is untouched either way."""

import pytest

from alerts.models import AlertRule
from backups.models import FailureKind, Status
from backups.services.runs import plan_backup
from backups.services.verification import run_verify
from monitoring.models import Target
from monitoring.projects.models import Project
from tests.backups.test_configuration import portal, secrets  # noqa: F401  the configured portal
from tests.monitoring.uptime.factories import TargetFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("portal")]


@pytest.fixture
def portal_plan(make_plan):
    return make_plan(name="portal", source="portal", kind_export=True, kind_config=True)


def _step(receipt, name: str) -> dict:
    return next(step for step in receipt.steps if step["name"] == name)


def test_a_configuration_backup_is_imported_into_a_scratch_portal_and_counted(portal_plan, identity_env):
    (run,) = plan_backup(plan=portal_plan, kind="config")
    assert run.status == Status.SUCCEEDED, run.error
    assert run.row_counts["targets"] == Target.objects.count() == 4
    assert run.row_counts["rules"] == 2

    receipt = run_verify(run=run)

    assert receipt.status == Status.SUCCEEDED, receipt.error
    assert receipt.found_rows == receipt.expected_rows == run.row_counts
    assert _step(receipt, "importconfig into a scratch portal")["ok"]
    assert Target.objects.count() == 4 and AlertRule.objects.count() == 2  # the live portal: untouched


def test_a_configuration_the_scratch_portal_refuses_fails_verification_by_item(portal_plan, identity_env):
    # A row written around the forms' checks: exported as it is, refused by importconfig.
    TargetFactory(project=Project.objects.get(slug="shop"), name="Broken", url="not a url")
    (run,) = plan_backup(plan=portal_plan, kind="config")
    assert run.status == Status.SUCCEEDED, run.error

    receipt = run_verify(run=run)

    assert receipt.status == Status.FAILED and receipt.failure_kind == FailureKind.RESTORE
    assert receipt.error.startswith("importconfig refused it in a scratch portal: targets["), receipt.error
    assert "(shop/Broken).url" in receipt.error, receipt.error


def test_the_portal_export_is_loaded_into_a_scratch_portal_and_counted(portal_plan, identity_env):
    (run,) = plan_backup(plan=portal_plan, kind="export")
    assert run.status == Status.SUCCEEDED, run.error

    receipt = run_verify(run=run)

    assert receipt.status == Status.SUCCEEDED, receipt.error
    assert receipt.found_rows["monitoring.target"] == 4
    assert receipt.found_rows["alerts.alertrule"] == 2
    assert receipt.found_rows == receipt.expected_rows
    assert _step(receipt, "loaddata into a scratch portal")["ok"]
