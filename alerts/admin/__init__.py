from alerts.admin import incidents, noise  # noqa: F401  registers the model admins
