from alerts.admin import channels  # noqa: F401  registers the model admins
