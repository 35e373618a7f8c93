from monitoring.models.projects import Environment, IngestKey, Project
from monitoring.models.pulses import Pulse
from monitoring.models.tokens import ApiToken

__all__ = ["ApiToken", "Environment", "IngestKey", "Project", "Pulse"]
