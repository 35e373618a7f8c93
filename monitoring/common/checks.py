"""System checks for misconfiguration, with stable ids."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=False)
def secret_key_from_environment(app_configs, **kwargs):
    if settings.DEBUG or settings.SECRET_KEY != settings.INSECURE_SECRET_KEY:
        return []
    return [
        Error(
            "SECRET_KEY is not set.",
            hint="Set SECRET_KEY in the environment (or .env) to a long random value; "
            "`python3 manage.py start` writes one into .env on first run.",
            id="lookout.E001",
        )
    ]
