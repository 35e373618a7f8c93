import pytest
from django.core.cache import caches
from django.test import override_settings

pytest_plugins = ["tests.browser"]

# Hashed static names need collectstatic's manifest; tests serve files from the finders.
_PLAIN_STATIC = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.fixture(autouse=True, scope="session")
def _plain_static_files():
    with override_settings(STORAGES=_PLAIN_STATIC):
        yield


@pytest.fixture(autouse=True)
def _isolated_cache(settings, monkeypatch):
    """Each test gets an empty in-process cache unless it asks for the configured one."""
    # Imported here: they load prometheus_client, which must come after Django's setup.
    from alerts.status import bodies as status_bodies
    from alerts.status import selectors as status_selectors
    from monitoring.common import shared_cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Every LocMemCache with the same location shares one store: empty it for this test.
    caches["default"].clear()
    # So does every rendered status page body and every page's version, which each process
    # also keeps a copy of.
    status_bodies.forget_local()
    status_selectors.forget_pages()
    # A cache outage is remembered per process for a few seconds: none is left for the next test.
    monkeypatch.setattr(shared_cache, "OUTAGE", shared_cache.Outage("serving without the shared cache"))
    # The custom-domain map also has a copy per process, refreshed every few seconds. Left
    # to expire, its refresh lands in whichever request comes next and turns query-count pins
    # into a race with the clock. Each test starts with no custom domains, held until a page's
    # domain changes (which drops the copy, as in production).
    monkeypatch.setattr(status_selectors, "_local_domains", (float("inf"), {}))


@pytest.fixture
def admin_user(db, django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "correct-horse-battery")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
