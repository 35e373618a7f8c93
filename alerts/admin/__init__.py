from alerts.admin import rules  # noqa: F401  registers the model admins
