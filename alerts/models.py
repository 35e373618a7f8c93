"""The face Django needs: every model of the alerts app, each defined in its feature's folder."""

from alerts.delivery.models import Channel, DeliveryAttempt, Notification
from alerts.digests.models import Cadence, DigestDelivery, DigestSubscription
from alerts.incidents.models import (
    Incident,
    IncidentAlert,
    IncidentEvent,
    InhibitRule,
    MaintenanceWindow,
    Silence,
    TargetDependency,
)
from alerts.incidents.severity import Severity
from alerts.intake.models import Integration
from alerts.paging.models import EscalationPolicy, EscalationStep, OnCallLayer, OnCallOverride, OnCallSchedule
from alerts.rules.models import AlertRule, RuleInstance, RuleTransition
from alerts.status.models import (
    Component,
    ComponentGroup,
    PublicIncident,
    PublicIncidentUpdate,
    StatusPage,
    Subscriber,
    SubscriberNotice,
)

__all__ = [
    "Cadence",
    "DigestDelivery",
    "DigestSubscription",
    "StatusPage",
    "PublicIncidentUpdate",
    "PublicIncident",
    "ComponentGroup",
    "Component",
    "Subscriber",
    "SubscriberNotice",
    "AlertRule",
    "Channel",
    "DeliveryAttempt",
    "EscalationPolicy",
    "EscalationStep",
    "Incident",
    "IncidentAlert",
    "IncidentEvent",
    "InhibitRule",
    "Integration",
    "MaintenanceWindow",
    "Notification",
    "OnCallLayer",
    "OnCallOverride",
    "OnCallSchedule",
    "RuleInstance",
    "RuleTransition",
    "Severity",
    "Silence",
    "TargetDependency",
]
