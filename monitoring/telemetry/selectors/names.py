"""The metric names a project has sent, for pickers that suggest them (the rule editor's metric field)."""

from monitoring.telemetry.models import MetricSeries


def metric_names(*, project_id: int | None, limit: int = 200) -> list[tuple[str, str]]:
    """(name, unit) of each metric name known in the project (every project's without one),
    by name. Served by the unique (project, name, tags_hash) index's leading columns."""
    series = MetricSeries.objects.all()
    if project_id is not None:
        series = series.filter(project_id=project_id)
    names: dict[str, str] = {}
    for name, unit in series.order_by("name").values_list("name", "unit").distinct()[: limit * 4]:
        if name not in names or (unit and not names[name]):
            names[name] = unit
    return list(names.items())[:limit]
