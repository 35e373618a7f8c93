from monitoring.models import Project
from monitoring.projects.services.projects import NewProject, project_create

DEMO_SLUG = "lookout"


def demo_seed() -> NewProject | None:
    """A project for the portal itself, so a first start shows something. Runs once."""
    if Project.objects.filter(slug=DEMO_SLUG).exists():
        return None
    return project_create(name="Lookout (this portal)", slug=DEMO_SLUG, environments=("production", "development"))
