"""The rule editor: the kind from the registry, its params checked by the kind, a 7-day
preview, and every transition of the rule on its page."""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.decorators import display

from alerts.models import AlertRule, RuleInstance, RuleTransition
from alerts.rules.examples import EXAMPLE_RULES, EXAMPLES
from alerts.rules.kinds import RULE_KINDS
from alerts.rules.services.evaluation import rule_reset
from alerts.rules.services.preview import PREVIEW_DAYS, preview_chart, rule_preview

TRANSITIONS_SHOWN = 50


def _params_help() -> str:
    lines = ["A JSON object; its fields depend on the kind. Examples:"]
    lines += [f"{kind.label} ({key}): {json.dumps(kind.example)}" for key, kind in RULE_KINDS.items()]
    return "\n".join(lines)


class AlertRuleForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=[(key, kind.label) for key, kind in RULE_KINDS.items()])

    class Meta:
        model = AlertRule
        fields = "__all__"
        help_texts = {"params": _params_help()}

    def clean_labels(self):
        labels = self.cleaned_data["labels"]
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ValidationError('labels: an object of text labels, e.g. {"team": "payments"}')
        return labels

    def clean_group_by(self):
        group_by = self.cleaned_data["group_by"]
        if not isinstance(group_by, list) or not all(isinstance(v, str) and v for v in group_by):
            raise ValidationError('group_by: a list of label names, e.g. ["host"]')
        return group_by

    def clean(self):
        cleaned = super().clean()
        kind = RULE_KINDS.get(cleaned.get("kind"))
        if kind is None or "params" not in cleaned:
            return cleaned
        try:
            cleaned["params"] = kind.validate_params(cleaned["params"])
        except ValidationError as exc:
            for message in exc.message_dict.get("params", []):
                self.add_error("params", message)
            return cleaned
        if kind.needs_project(cleaned["params"]) and not cleaned.get("project"):
            self.add_error("project", f"{kind.label} reads one project's data: choose the project.")
        return cleaned


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
        (None, {"fields": ("name", "project", "kind", "params", "severity", "summary", "labels", "enabled")}),
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
            *super().get_urls(),
        ]

    def preview_view(self, request, pk: int):
        rule = get_object_or_404(AlertRule.objects.select_related("project"), pk=pk)
        if not self.has_view_permission(request, rule):
            raise PermissionDenied
        preview = rule_preview(rule=rule, now=timezone.now())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {rule.name}",
            "opts": self.model._meta,
            "rule": rule,
            "preview": preview,
            "chart": preview_chart(preview) if preview.supported else None,
            "step_minutes": int(preview.step.total_seconds() // 60),
            "days": PREVIEW_DAYS,
            "change_url": reverse("admin:alerts_alertrule_change", args=[rule.pk]),
        }
        return TemplateResponse(request, "admin/alerts/rule_preview.html", context)
