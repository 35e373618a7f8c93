import factory
from django.contrib.auth import get_user_model

from monitoring.models import Project
from monitoring.projects.roles import role_assign
from monitoring.projects.services.api_tokens import api_token_create
from monitoring.projects.services.ingest_keys import ingest_key_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


def make_ingest_key(project=None, **kwargs):
    """A key through the service, as the admin and commands make them; returns NewIngestKey."""
    return ingest_key_create(project=project or ProjectFactory(), **kwargs)


def make_api_token(user=None, scope="read", role="admin"):
    """A token of `user`, or of a new user with `role` (a token acts as its user's role)."""
    if user is None:
        user = UserFactory()
        role_assign(user=user, role=role)
    return api_token_create(user=user, scope=scope)
