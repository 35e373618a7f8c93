import pytest
from pyrage import x25519


@pytest.fixture(scope="session")
def age_identity() -> x25519.Identity:
    return x25519.Identity.generate()


@pytest.fixture
def identity_env(monkeypatch, age_identity):
    """The identity that decrypts, where restore and verification look for it."""
    monkeypatch.setenv("BACKUPS_AGE_IDENTITY", str(age_identity))
    return age_identity


@pytest.fixture
def backups_dir(settings, tmp_path):
    settings.BACKUPS_DIR = tmp_path / "backups"
    return settings.BACKUPS_DIR


@pytest.fixture
def make_plan(db, age_identity, backups_dir):
    from backups.models import Plan

    def make(**fields):
        fields.setdefault("name", "portal")
        fields.setdefault("recipients", str(age_identity.to_public()))
        plan = Plan(**fields)
        plan.full_clean()
        plan.save()
        return plan

    return make
