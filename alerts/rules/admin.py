"""The rule editor: the kind from the registry, its params checked by the kind, a 7-day
preview, and every transition of the rule on its page."""

import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.decorators import display

from alerts.models import AlertRule, RuleInstance, RuleTransition
from alerts.pickers import picker_page
from alerts.rules.examples import EXAMPLE_RULES, EXAMPLES
from alerts.rules.forms import PARAM_PREFIX, AlertRuleForm, rule_form_class
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.kinds.base import RuleKind
from alerts.rules.kinds.fields import pickable_issues, pickable_targets
from alerts.rules.services.evaluation import rule_reset
from alerts.rules.services.preview import PREVIEW_DAYS, preview_chart, rule_preview
from monitoring.models import Target

TRANSITIONS_SHOWN = 50


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


@admin.register(AlertRule)
class AlertRuleAdmin(ModelAdmin):
    form = AlertRuleForm
    list_display = ("name", "project", "kind_label", "severity", "enabled", "firing", "last_evaluated_at", "last_error")
    list_filter = ("enabled", "severity", "kind", "project")
    list_select_related = ("project",)
    search_fields = ("name",)
    readonly_fields = (
        "preview_link",
        "instances_table",
        "transitions_table",
        "next_evaluation_at",
        "last_evaluated_at",
        "last_error",
    )
    fieldsets = (
        (None, {"fields": ("name", "project", "kind", "severity", "summary", "labels", "enabled")}),
        # The kind's own params go here (get_fieldsets).
        ("Timing", {"fields": ("interval_seconds", "for_seconds", "keep_firing_for_seconds")}),
        ("Policies", {"fields": ("no_data_policy", "error_policy", "auto_resolve")}),
        (
            "Routing and grouping",
            {
                "fields": (
                    "channels",
                    "escalation_policy",
                    "group_by",
                    "group_across_rules",
                    "group_wait_seconds",
                    "group_interval_seconds",
                    "repeat_interval_seconds",
                )
            },
        ),
        (
            "State",
            {
                "fields": (
                    "preview_link",
                    "next_evaluation_at",
                    "last_evaluated_at",
                    "last_error",
                    "instances_table",
                    "transitions_table",
                )
            },
        ),
    )

    def rule_kind(self, request, obj=None) -> type[RuleKind]:
        """The kind the form is for: as posted, as asked (?kind=, ?example=), as saved, else the first."""
        example = EXAMPLES.get(request.GET.get("example", ""))
        for key in (
            request.POST.get("kind"),
            request.GET.get("kind"),
            example.kind if example else None,
            obj.kind if obj else None,
        ):
            if key in RULE_KINDS:
                return RULE_KINDS[key]
        return next(iter(RULE_KINDS.values()))

    def rule_project_id(self, request, obj=None) -> int | None:
        if request.method == "POST":
            return _int_or_none(request.POST.get("project"))
        if "project" in request.GET:
            return _int_or_none(request.GET["project"])
        return obj.project_id if obj else None

    def rule_form_class(self, request, obj=None) -> type[AlertRuleForm]:
        # Built once per request: the fieldsets and the form both need it, and its pickers query.
        cached = getattr(request, "_lookout_rule_form", None)
        if cached is None:
            kind = self.rule_kind(request, obj)
            cached = rule_form_class(kind, project_id=self.rule_project_id(request, obj))
            request._lookout_rule_form = cached
        return cached

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = self.rule_form_class(request, obj)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        form = self.rule_form_class(request, obj)
        kind = form.rule_kind
        assert kind is not None  # every built form has its kind
        names = tuple(PARAM_PREFIX + name for name in form.kind_names)
        if names:
            params = [
                (f"When: {kind.label}", {"fields": names}),
                (
                    "Advanced: the params as JSON",
                    {"fields": ("params_as_json", "params"), "classes": ["collapse"]},
                ),
            ]
        else:
            params = [(f"When: {kind.label}", {"fields": ("params",)})]
        first, *rest = self.fieldsets
        return (first, *params, *rest)

    def get_queryset(self, request):
        firing = Count("instances", filter=Q(instances__state=RuleInstance.State.FIRING))
        return super().get_queryset(request).annotate(firing_count=firing)

    @display(description="kind")
    def kind_label(self, rule):
        kind = RULE_KINDS.get(rule.kind)
        return kind.label if kind else rule.kind

    @display(description="firing", ordering="firing_count")
    def firing(self, rule):
        return rule.firing_count

    @display(description="preview")
    def preview_link(self, rule):
        if not rule.pk:
            return "Save the rule to preview it."
        return format_html(
            '<a href="{}" class="text-primary-600 underline">What would this rule have done in the last {} days?</a>',
            reverse("admin:alerts_alertrule_preview", args=[rule.pk]),
            PREVIEW_DAYS,
        )

    @display(description="instances")
    def instances_table(self, rule):
        instances = list(rule.instances.order_by("state", "fingerprint")[:100]) if rule.pk else []
        if not instances:
            return "None yet: an instance appears when a series first breaches."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    i.state,
                    ", ".join(f"{k}={v}" for k, v in sorted(i.labels.items())) or "—",
                    "—" if i.last_value is None else f"{i.last_value:g}",
                    i.last_evaluated_at and f"{i.last_evaluated_at:%Y-%m-%d %H:%M:%S}",
                )
                for i in instances
            ),
        )
        return format_html(
            '<table class="rule-instances"><tr><th>state</th><th>labels</th><th>value</th>'
            "<th>last evaluated</th></tr>{}</table>",
            rows,
        )

    @display(description="transitions")
    def transitions_table(self, rule):
        transitions = (
            list(RuleTransition.objects.filter(rule=rule).select_related("instance")[:TRANSITIONS_SHOWN])
            if rule.pk
            else []
        )
        if not transitions:
            return "No transitions yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{t.at:%Y-%m-%d %H:%M:%S}",
                    t.from_state,
                    t.to_state,
                    ", ".join(f"{k}={v}" for k, v in sorted(t.instance.labels.items())) or "—",
                    t.reason,
                    json.dumps(t.values),
                )
                for t in transitions
            ),
        )
        return format_html(
            '<table class="rule-transitions"><tr><th>at (UTC)</th><th>change</th><th>labels</th>'
            "<th>reason</th><th>values</th></tr>{}</table>",
            rows,
        )

    change_form_before_template = "admin/alerts/rule_examples.html"
    # Switching the kind reloads the form with that kind's fields (AlertRuleForm marks the boxes).
    change_form_after_template = "admin/alerts/kind_switch.html"

    def get_changeform_initial_data(self, request):
        # ?example=<key>: the add form filled in from one of the example rules.
        example = EXAMPLES.get(request.GET.get("example", ""))
        return example.initial() if example else super().get_changeform_initial_data(request)

    def add_view(self, request, form_url="", extra_context=None):
        examples = [(e.name, f"?example={e.key}") for e in EXAMPLE_RULES]
        return super().add_view(request, form_url, {**(extra_context or {}), "rule_examples": examples})

    def save_model(self, request, obj, form, change):
        # Changes are read from the values, not form.changed_data: a JSON field counts as
        # changed whenever its posted text differs, and a reset resolves live alerts.
        before = AlertRule.objects.get(pk=obj.pk) if change else None

        def changed(*fields: str) -> list[str]:
            return [f for f in fields if before is not None and getattr(before, f) != getattr(obj, f)]

        regrouped = changed("group_by", "group_across_rules")
        if regrouped:
            # Resolved under the old grouping, whose incident holds them: under the new one
            # their resolution would look for another incident and leave this one open.
            rule_reset(rule=before, now=timezone.now(), reason=f"the rule's {', '.join(regrouped)} changed")
        reshaped = [f.removesuffix("_id") for f in changed("kind", "params", "project_id")]
        disabled = before is not None and before.enabled and not obj.enabled
        # An edited rule is evaluated at the next tick, not an interval later.
        obj.next_evaluation_at = timezone.now()
        super().save_model(request, obj, form, change)
        if reshaped or disabled:
            why = "the rule was disabled" if disabled else f"the rule's {', '.join(reshaped)} changed"
            rule_reset(rule=obj, now=timezone.now(), reason=why)

    def get_urls(self):
        return [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="alerts_alertrule_preview"),
            path("targets/", self.admin_site.admin_view(self.targets_view), name="alerts_alertrule_targets"),
            path("issues/", self.admin_site.admin_view(self.issues_view), name="alerts_alertrule_issues"),
            *super().get_urls(),
        ]

    def picker_scope(self, request) -> tuple[int | None, JsonResponse | None]:
        """The searching user's right to, and the ?project= of, a picker's search."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        project_id = _int_or_none(request.GET.get("project")) if request.GET.get("project") else None
        if request.GET.get("project") and project_id is None:
            return None, JsonResponse({"error": "project: a project id"}, status=400)
        return project_id, None

    def issues_view(self, request):
        """The issue picker's search: ?term= in the title, within ?project=, latest seen first."""
        project_id, refused = self.picker_scope(request)
        if refused:
            return refused
        issues = pickable_issues(project_id=project_id)
        term = request.GET.get("term", "").strip()
        if term:
            issues = issues.filter(title__icontains=term)
        return picker_page(request, issues, label=lambda i: i.picker_label[:150])

    def targets_view(self, request):
        """The target picker's search: ?term= in the name, within ?project= and ?kind=, a page
        at a time. For whoever may write rules, as the form that shows the picker."""
        project_id, refused = self.picker_scope(request)
        if refused:
            return refused
        kind = request.GET.get("kind") or None
        if kind is not None and kind not in Target.Kind.values:
            return JsonResponse({"error": f"kind: one of {', '.join(Target.Kind.values)}"}, status=400)
        targets = pickable_targets(project_id=project_id, kinds=(kind,) if kind else None)
        term = request.GET.get("term", "").strip()
        if term:
            targets = targets.filter(name__icontains=term)
        return picker_page(request, targets, label=lambda t: t.picker_label)

    def preview_view(self, request, pk: int):
        rule = get_object_or_404(AlertRule.objects.select_related("project"), pk=pk)
        if not self.has_view_permission(request, rule):
            raise PermissionDenied
        preview = rule_preview(rule=rule, now=timezone.now())
        kind = RULE_KINDS.get(rule.kind)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {rule.name}",
            "opts": self.model._meta,
            "rule": rule,
            "preview": preview,
            "chart": preview_chart(preview, unit=kind.value_unit(rule.params)) if preview.supported and kind else None,
            "step_minutes": int(preview.step.total_seconds() // 60),
            "days": PREVIEW_DAYS,
            "change_url": reverse("admin:alerts_alertrule_change", args=[rule.pk]),
        }
        return TemplateResponse(request, "admin/alerts/rule_preview.html", context)
