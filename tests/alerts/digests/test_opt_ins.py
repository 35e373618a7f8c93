"""Opt-ins in the admin: everyone manages their own, a superuser anyone's."""

import pytest

from alerts.models import DigestSubscription
from monitoring.projects.roles import VIEWER, role_assign
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/alerts/digestsubscription/"


@pytest.fixture
def people(db):
    project = ProjectFactory(name="Shop")
    dana = UserFactory(username="dana", is_staff=True)
    erin = UserFactory(username="erin", is_staff=True)
    for person in (dana, erin):
        role_assign(user=person, role=VIEWER)
    DigestSubscription.objects.create(user=erin, project=project, cadence="weekly")
    return project, dana, erin


def test_a_staff_user_opts_in_for_themselves(client, people):
    project, dana, _ = people
    client.force_login(dana)
    response = client.post(LIST + "add/", {"user": dana.pk, "project": project.pk, "cadence": "daily"})
    assert response.status_code == 302
    assert DigestSubscription.objects.filter(user=dana, project=project, cadence="daily").exists()


def test_a_staff_user_cannot_opt_in_someone_else_nor_see_their_opt_ins(client, people, django_assert_max_num_queries):
    project, dana, erin = people
    client.force_login(dana)
    response = client.post(LIST + "add/", {"user": erin.pk, "project": project.pk, "cadence": "daily"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not DigestSubscription.objects.filter(user=erin, cadence="daily").exists()
    with django_assert_max_num_queries(12):
        listing = client.get(LIST)
    assert "erin" not in listing.content.decode()
    theirs = DigestSubscription.objects.get(user=erin)
    assert client.get(f"{LIST}{theirs.pk}/change/").status_code in (302, 404)
    assert client.post(f"{LIST}{theirs.pk}/delete/", {"post": "yes"}).status_code in (302, 403, 404)
    assert DigestSubscription.objects.filter(pk=theirs.pk).exists()


def test_a_user_without_email_is_refused_naming_the_field(admin_client, people):
    project, dana, _ = people
    dana.email = ""
    dana.save()
    response = admin_client.post(LIST + "add/", {"user": dana.pk, "project": project.pk, "cadence": "daily"})
    assert response.status_code == 200
    assert "This user has no email address to send the digest to." in response.content.decode()


def test_the_same_opt_in_twice_is_a_form_error(admin_client, people):
    project, _, erin = people
    response = admin_client.post(LIST + "add/", {"user": erin.pk, "project": project.pk, "cadence": "weekly"})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_staff_without_a_role_cannot_opt_in_and_lose_their_digest(client, people):
    """A digest shows a project's uptime, incidents and error titles: only for who may see projects."""
    project, dana, erin = people
    nobody = UserFactory(username="nobody", is_staff=True)
    client.force_login(nobody)
    assert client.get(LIST + "add/").status_code == 403
    response = client.post(LIST + "add/", {"user": nobody.pk, "project": project.pk, "cadence": "daily"})
    assert response.status_code == 403
    assert not DigestSubscription.objects.filter(user=nobody).exists()
