from alerts.admin import channels, incidents, noise, paging, rules  # noqa: F401  registers the model admins
