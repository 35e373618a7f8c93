from alerts.models.channels import Channel, DeliveryAttempt, Notification
from alerts.models.incidents import Incident, IncidentAlert, IncidentEvent
from alerts.models.integrations import Integration
from alerts.models.noise import InhibitRule, MaintenanceWindow, Silence, TargetDependency
from alerts.models.oncall import EscalationPolicy, EscalationStep, OnCallLayer, OnCallOverride, OnCallSchedule
from alerts.models.rules import AlertRule, RuleInstance, RuleTransition
from alerts.models.severity import Severity

__all__ = [
    "AlertRule", "Channel", "DeliveryAttempt", "EscalationPolicy", "EscalationStep", "Incident", "IncidentAlert",
    "IncidentEvent", "InhibitRule", "Integration", "MaintenanceWindow", "Notification", "OnCallLayer",
    "OnCallOverride", "OnCallSchedule", "RuleInstance", "RuleTransition", "Severity", "Silence", "TargetDependency",
]
