"""The alert engine's sections of the configuration document (backups.services.configuration):
channels, on-call schedules, escalation policies, rules, silences and maintenance windows.

Every item is found by a natural key that reads the same in any portal (a channel, schedule
or policy by its unique name; a rule by project and name; a silence by its matchers and
start; a window by name and what it covers), and refers to others the same way: a rule names
its channels and policy, a policy step its channels, schedule and users, a layer its users by
username. Each item is checked by the checks the admin's forms use, and written only if
different, so importing what was exported leaves every row (and its id) as it was.

Channel configs name environment variables (url_env, routing_key_env, ...): the values stay
in the environment, so a file can be committed; importing one needs those variables set,
as saving the channel in the admin does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.utils.dateparse import parse_datetime

from alerts.delivery.notifiers import NOTIFIERS
from alerts.incidents.matchers import NAME as LABEL_NAME
from alerts.incidents.matchers import parse_matchers
from alerts.incidents.services.noise import maintenance_validate, silence_validate
from alerts.models import (
    AlertRule,
    Channel,
    EscalationPolicy,
    EscalationStep,
    InhibitRule,
    MaintenanceWindow,
    OnCallLayer,
    OnCallOverride,
    OnCallSchedule,
    Silence,
    TargetDependency,
)
from alerts.paging.services.schedules import layer_validate, time_zone_validate
from alerts.rules.kinds import RULE_KINDS
from backups.services.configuration import ConfigItemError, check_fields, section_register
from monitoring.models import Project, Tag, Target

Item = dict[str, Any]


# --- values as they are written in the file -------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _parse_when(name: str, value: Any) -> datetime:
    parsed: datetime | None = None
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp itself
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise ConfigItemError({name: f"{value!r} is not a date and time, e.g. '2026-01-31T02:00:00+00:00'"})
    if parsed.tzinfo is None:
        raise ConfigItemError({name: "give the offset too, e.g. '2026-01-31T02:00:00+00:00'"})
    return parsed


def _clock(value: time | None) -> str | None:
    return value.isoformat("minutes") if value is not None else None


def _parse_clock(name: str, value: Any) -> time | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    # Unquoted 17:00 is the number 1020 to YAML 1.1: ask for quotes rather than guess.
    raise ConfigItemError({name: f"{value!r} is not a time of day; write it quoted, e.g. '17:00'"})


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def _users(name: str, usernames: Any, *, optional: bool = False) -> list[Any]:
    if usernames is None and optional:
        return []
    if not isinstance(usernames, list) or not all(isinstance(u, str) for u in usernames):
        raise ConfigItemError({name: "expected a list of usernames"})
    User = get_user_model()
    found = {u.get_username(): u for u in User.objects.filter(**{f"{User.USERNAME_FIELD}__in": usernames})}
    missing = [u for u in usernames if u not in found]
    if missing:
        raise ConfigItemError({name: f"no user {', '.join(repr(u) for u in missing)}"})
    return [found[u] for u in usernames]


def _user(name: str, username: Any, *, optional: bool = True) -> Any:
    if username is None and optional:
        return None
    if not isinstance(username, str):
        raise ConfigItemError({name: "expected a username"})
    return _users(name, [username])[0]


def _project(name: str, slug: Any) -> Project | None:
    if slug is None:
        return None
    project = Project.objects.filter(slug=slug).first() if isinstance(slug, str) else None
    if project is None:
        raise ConfigItemError({name: f"no project with slug {slug!r}"})
    return project


def _named(model: type[Model], name: str, value: Any, *, what: str) -> Any:
    found = model._default_manager.filter(name=value).first() if isinstance(value, str) else None
    if found is None:
        raise ConfigItemError({name: f"no {what} named {value!r}"})
    return found


def _channels(name: str, names: Any) -> list[Channel]:
    if names is None:
        return []
    if not isinstance(names, list):
        raise ConfigItemError({name: "expected a list of channel names"})
    return [_named(Channel, name, n, what="channel") for n in names]


def _one(queryset: Any, field: str, what: str) -> Any:
    """The one row a natural key names, None if there is none; two are an error on `field`."""
    found = list(queryset[:2])
    if len(found) > 1:
        raise ConfigItemError({field: f"more than one {what} has this {field}; rename one in the admin first"})
    return found[0] if found else None


def _save(obj: Model, values: dict[str, Any], *, exclude: tuple[str, ...] = ()) -> None:
    """Set `values`, check the model's own rules, and write only what changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name, value in values.items():
        setattr(obj, name, value)
    obj.full_clean(exclude=list(exclude))
    if obj.pk is None:
        obj.save()
    elif changed:
        obj.save(update_fields=changed)


# --- channels -------------------------------------------------------------------------------


class ChannelsSection:
    name = "channels"
    order = 20
    fields = ("name", "kind", "config", "allow_private", "user", "enabled")

    def export(self, project: str | None) -> list[Item]:
        channels = Channel.objects.select_related("user").order_by("name")
        if project is not None:
            channels = channels.filter(pk__in=_project_references(project)["channels"])
        return [self.item(c) for c in channels]

    def existing(self) -> Iterator[tuple[Item, Model]]:
        return ((self.item(c), c) for c in Channel.objects.select_related("user"))

    @staticmethod
    def item(channel: Channel) -> Item:
        return {
            "name": channel.name,
            "kind": channel.kind,
            "config": channel.config,
            "allow_private": channel.allow_private,
            "user": _username(channel.user),
            "enabled": channel.enabled,
        }

    def key(self, item: Item) -> str:
        return str(item["name"])

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=("name", "kind"))
        channel = Channel.objects.select_related("user").filter(name=item["name"]).first() or Channel()
        before = self.item(channel) if channel.pk else None
        notifier_class = NOTIFIERS.get(item["kind"])
        if notifier_class is None:
            raise ConfigItemError({"kind": f"{item['kind']!r} is not one of {', '.join(NOTIFIERS)}"})
        allow_private = item.get("allow_private", channel.allow_private)
        try:
            config = notifier_class.validate_config(item.get("config") or {})
            notifier_class(config=config, allow_private=allow_private is True).check_destinations()
        except ValidationError as exc:
            raise ConfigItemError.from_validation(exc, nested=("config",)) from exc
        values = {"name": item["name"], "kind": item["kind"], "config": config, "allow_private": allow_private}
        if "user" in item:
            values["user"] = _user("user", item["user"])
        if "enabled" in item:
            values["enabled"] = item["enabled"]
        _save(channel, values)
        return before, self.item(channel)


# --- on-call schedules ----------------------------------------------------------------------


class SchedulesSection:
    name = "schedules"
    order = 30
    fields = ("name", "time_zone", "description", "layers", "overrides")
    layer_fields = ("name", "priority", "users", "starts_at", "rotation_seconds", "restrict_start", "restrict_end")
    override_fields = ("user", "starts_at", "ends_at")

    def export(self, project: str | None) -> list[Item]:
        schedules = OnCallSchedule.objects.prefetch_related("layers", "overrides__user").order_by("name")
        if project is not None:
            schedules = schedules.filter(pk__in=_project_references(project)["schedules"])
        return [self.item(s) for s in schedules]

    def existing(self) -> Iterator[tuple[Item, Model]]:
        return ((self.item(s), s) for s in OnCallSchedule.objects.prefetch_related("layers", "overrides__user"))

    @classmethod
    def item(cls, schedule: OnCallSchedule) -> Item:
        return {
            "name": schedule.name,
            "time_zone": schedule.time_zone,
            "description": schedule.description,
            "layers": [cls.layer(layer) for layer in schedule.layers.all()],
            "overrides": [
                {"user": _username(o.user), "starts_at": _when(o.starts_at), "ends_at": _when(o.ends_at)}
                for o in schedule.overrides.all()
            ],
        }

    @staticmethod
    def layer(layer: OnCallLayer) -> Item:
        return {
            "name": layer.name,
            "priority": layer.priority,
            "users": list(layer.users),
            "starts_at": _when(layer.starts_at),
            "rotation_seconds": layer.rotation_seconds,
            "restrict_start": _clock(layer.restrict_start),
            "restrict_end": _clock(layer.restrict_end),
        }

    def key(self, item: Item) -> str:
        return str(item["name"])

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=("name",))
        schedule = OnCallSchedule.objects.filter(name=item["name"]).first() or OnCallSchedule()
        before = self.item(schedule) if schedule.pk else None
        time_zone = item.get("time_zone", schedule.time_zone)
        time_zone_validate(time_zone if isinstance(time_zone, str) else "")
        layers = [self._layer(n, raw) for n, raw in enumerate(_list(item, "layers"))]
        overrides = [self._override(n, raw) for n, raw in enumerate(_list(item, "overrides"))]
        values: dict[str, Any] = {name: item[name] for name in ("name", "description") if name in item}
        _save(schedule, {**values, "time_zone": time_zone})
        # Layers and overrides have no key of their own: the list is the schedule's, replaced
        # as a whole when it differs, and left alone (ids and all) when it does not.
        if "layers" in item and (before is None or [self.layer(layer) for layer in layers] != before["layers"]):
            schedule.layers.all().delete()
            for layer in layers:
                layer.schedule = schedule
                layer.save()
        if "overrides" in item and (
            before is None or [self._override_item(o) for o in overrides] != before["overrides"]
        ):
            schedule.overrides.all().delete()
            for override in overrides:
                override.schedule = schedule
                override.save()
        return before, self.item(
            OnCallSchedule.objects.prefetch_related("layers", "overrides__user").get(pk=schedule.pk)
        )

    def _layer(self, n: int, raw: Any) -> OnCallLayer:
        where = f"layers[{n}]"
        try:
            if not isinstance(raw, dict):
                raise ConfigItemError({"": "expected a mapping of fields"})
            check_fields(raw, known=self.layer_fields, required=("users", "starts_at"))
            layer = OnCallLayer(
                name=raw.get("name", ""),
                priority=raw.get("priority", 0),
                users=raw["users"],
                starts_at=_parse_when("starts_at", raw["starts_at"]),
                rotation_seconds=raw.get("rotation_seconds", 7 * 86400),
                restrict_start=_parse_clock("restrict_start", raw.get("restrict_start")),
                restrict_end=_parse_clock("restrict_end", raw.get("restrict_end")),
            )
            layer_validate(
                users=layer.users,
                restrict_start=layer.restrict_start,
                restrict_end=layer.restrict_end,
                starts_at=layer.starts_at,
            )
            layer.full_clean(exclude=["schedule"])
        except ValidationError as exc:
            raise _within(where, ConfigItemError.from_validation(exc)) from exc
        except ConfigItemError as exc:
            raise _within(where, exc) from exc
        return layer

    def _override(self, n: int, raw: Any) -> OnCallOverride:
        where = f"overrides[{n}]"
        try:
            if not isinstance(raw, dict):
                raise ConfigItemError({"": "expected a mapping of fields"})
            check_fields(raw, known=self.override_fields, required=self.override_fields)
            override = OnCallOverride(
                user=_user("user", raw["user"], optional=False),
                starts_at=_parse_when("starts_at", raw["starts_at"]),
                ends_at=_parse_when("ends_at", raw["ends_at"]),
            )
            if override.ends_at <= override.starts_at:
                raise ConfigItemError({"ends_at": "an override must end after it starts"})
        except ConfigItemError as exc:
            raise _within(where, exc) from exc
        return override

    @staticmethod
    def _override_item(o: OnCallOverride) -> Item:
        return {"user": _username(o.user), "starts_at": _when(o.starts_at), "ends_at": _when(o.ends_at)}


def _list(item: Item, name: str) -> list[Any]:
    value = item.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigItemError({name: "expected a list"})
    return value


def _within(where: str, exc: ConfigItemError) -> ConfigItemError:
    return ConfigItemError({f"{where}.{name}" if name else where: why for name, why in exc.fields.items()})


# --- escalation policies ----------------------------------------------------------------------


class PoliciesSection:
    name = "policies"
    order = 40
    fields = ("name", "repeat", "description", "steps")
    step_fields = ("delay_minutes", "channels", "schedule", "users")

    def export(self, project: str | None) -> list[Item]:
        policies = EscalationPolicy.objects.prefetch_related(
            "steps__channels", "steps__users", "steps__schedule"
        ).order_by("name")
        if project is not None:
            policies = policies.filter(pk__in=_project_references(project)["policies"])
        return [self.item(p) for p in policies]

    def existing(self) -> Iterator[tuple[Item, Model]]:
        policies = EscalationPolicy.objects.prefetch_related("steps__channels", "steps__users", "steps__schedule")
        return ((self.item(p), p) for p in policies)

    @classmethod
    def item(cls, policy: EscalationPolicy) -> Item:
        return {
            "name": policy.name,
            "repeat": policy.repeat,
            "description": policy.description,
            "steps": [cls.step(s) for s in policy.steps.all()],
        }

    @staticmethod
    def step(step: EscalationStep, channels: list[Channel] | None = None, users: list[Any] | None = None) -> Item:
        return {
            "delay_minutes": step.delay_minutes,
            "channels": sorted(c.name for c in (step.channels.all() if channels is None else channels)),
            "schedule": step.schedule.name if step.schedule else None,
            "users": sorted(_username(u) for u in (step.users.all() if users is None else users)),
        }

    def key(self, item: Item) -> str:
        return str(item["name"])

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=("name",))
        policy = EscalationPolicy.objects.filter(name=item["name"]).first() or EscalationPolicy()
        before = self.item(policy) if policy.pk else None
        steps = [self._step(n, raw) for n, raw in enumerate(_list(item, "steps"))]
        _save(policy, {name: item[name] for name in ("name", "repeat", "description") if name in item})
        # The steps are the policy's list, in order: replaced as a whole only when they differ.
        if "steps" in item and (before is None or [self.step(*s) for s in steps] != before["steps"]):
            policy.steps.all().delete()
            for order, (step, channels, users) in enumerate(steps):
                step.policy, step.order = policy, order
                step.save()
                step.channels.set(channels)
                step.users.set(users)
        fresh = EscalationPolicy.objects.prefetch_related("steps__channels", "steps__users", "steps__schedule")
        return before, self.item(fresh.get(pk=policy.pk))

    def _step(self, n: int, raw: Any) -> tuple[EscalationStep, list[Channel], list[Any]]:
        try:
            if not isinstance(raw, dict):
                raise ConfigItemError({"": "expected a mapping of fields"})
            check_fields(raw, known=self.step_fields)
            schedule = raw.get("schedule")
            step = EscalationStep(
                delay_minutes=raw.get("delay_minutes", 0),
                schedule=_named(OnCallSchedule, "schedule", schedule, what="schedule") if schedule else None,
            )
            channels = _channels("channels", raw.get("channels"))
            users = _users("users", raw.get("users"), optional=True)
            if not (channels or users or step.schedule):
                raise ConfigItemError({"": "a step must page someone: give channels, a schedule or users"})
            step.full_clean(exclude=["policy"])
        except ValidationError as exc:
            raise _within(f"steps[{n}]", ConfigItemError.from_validation(exc)) from exc
        except ConfigItemError as exc:
            raise _within(f"steps[{n}]", exc) from exc
        return step, channels, users


# --- rules ----------------------------------------------------------------------------------


class RulesSection:
    name = "rules"
    order = 50
    plain = (
        "name",
        "kind",
        "params",
        "severity",
        "labels",
        "summary",
        "enabled",
        "interval_seconds",
        "for_seconds",
        "keep_firing_for_seconds",
        "no_data_policy",
        "error_policy",
        "auto_resolve",
        "group_by",
        "group_across_rules",
        "group_wait_seconds",
        "group_interval_seconds",
        "repeat_interval_seconds",
    )
    fields = ("project", *plain, "targets", "channels", "escalation_policy")

    def export(self, project: str | None) -> list[Item]:
        rules = AlertRule.objects.select_related("project", "escalation_policy").prefetch_related("channels")
        if project is not None:
            rules = rules.filter(project__slug=project)
        return [self.item(r) for r in rules.order_by("project__slug", "name", "id")]

    def existing(self) -> Iterator[tuple[Item, Model]]:
        rules = AlertRule.objects.select_related("project", "escalation_policy").prefetch_related("channels")
        return ((self.item(r), r) for r in rules)

    @classmethod
    def item(cls, rule: AlertRule) -> Item:
        item = {
            "project": rule.project.slug if rule.project else None,
            **{name: getattr(rule, name) for name in cls.plain},
            "targets": None,
            "channels": sorted(c.name for c in rule.channels.all()),
            "escalation_policy": rule.escalation_policy.name if rule.escalation_policy else None,
        }
        # A rule watching chosen targets keeps their ids in its params; the file names them
        # instead ("shop/Web"), since ids differ from one portal to the next.
        ids = rule.params.get("target_ids") if isinstance(rule.params, dict) else None
        if isinstance(ids, list):
            targets = Target.objects.filter(pk__in=ids).select_related("project")
            item["params"] = {k: v for k, v in rule.params.items() if k != "target_ids"}
            item["targets"] = sorted(f"{t.project.slug}/{t.name}" for t in targets)
        return item

    @staticmethod
    def _target_ids(names: Any) -> list[int]:
        if not isinstance(names, list):
            raise ConfigItemError({"targets": "expected a list of targets as project/name, e.g. [shop/Web]"})
        return [_target_named("targets", name).pk for name in names]

    def key(self, item: Item) -> str:
        return f"{item['project']}/{item['name']}" if item.get("project") else str(item["name"])

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=("name", "kind"))
        project = _project("project", item.get("project"))
        rules = AlertRule.objects.select_related("project", "escalation_policy").prefetch_related("channels")
        rule = _one(rules.filter(project=project, name=item["name"]), "name", "rule") or AlertRule()
        before = self.item(rule) if rule.pk else None
        kind = RULE_KINDS.get(item["kind"])
        if kind is None:
            raise ConfigItemError({"kind": f"{item['kind']!r} is not one of {', '.join(RULE_KINDS)}"})
        try:
            params = item.get("params", rule.params if rule.pk else {})
            if item.get("targets") is not None and isinstance(params, dict):
                params = {**params, "target_ids": self._target_ids(item["targets"])}
            params = kind.validate_params(params)
        except ValidationError as exc:
            raise ConfigItemError.from_validation(exc, nested=("params",)) from exc
        if kind.needs_project(params) and project is None:
            raise ConfigItemError({"project": f"{kind.label} reads one project's data: give the project"})
        labels, group_by = item.get("labels", {}), item.get("group_by", [])
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ConfigItemError({"labels": "an object of text labels, e.g. {team: payments}"})
        if not isinstance(group_by, list) or not all(isinstance(v, str) and v for v in group_by):
            raise ConfigItemError({"group_by": "a list of label names, e.g. [host]"})
        # A field the file leaves out keeps its value (a new rule's default), as with targets.
        values = {name: item[name] for name in self.plain if name in item}
        values.update(project=project, params=params)
        if "escalation_policy" in item:
            policy = item["escalation_policy"]
            values["escalation_policy"] = (
                _named(EscalationPolicy, "escalation_policy", policy, what="escalation policy") if policy else None
            )
        channels = _channels("channels", item.get("channels"))
        _save(rule, values)
        if "channels" in item and (before is None or sorted(c.name for c in channels) != before["channels"]):
            rule.channels.set(channels)
        return before, self.item(rules.get(pk=rule.pk))


# --- inhibit rules ----------------------------------------------------------------------------


class InhibitRulesSection:
    name = "inhibit_rules"
    order = 55
    fields = ("name", "source_matchers", "target_matchers", "equal", "enabled")

    def export(self, project: str | None) -> list[Item]:
        if project is not None:  # inhibit rules belong to no project
            return []
        return [self.item(r) for r in InhibitRule.objects.order_by("name", "id")]

    def existing(self) -> Iterator[tuple[Item, Model]]:
        return ((self.item(r), r) for r in InhibitRule.objects.all())

    @staticmethod
    def item(rule: InhibitRule) -> Item:
        return {
            "name": rule.name,
            "source_matchers": rule.source_matchers,
            "target_matchers": rule.target_matchers,
            "equal": rule.equal,
            "enabled": rule.enabled,
        }

    def key(self, item: Item) -> str:
        return str(item["name"])

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=("name", "source_matchers", "target_matchers"))
        rule = _one(InhibitRule.objects.filter(name=item["name"]), "name", "inhibit rule") or InhibitRule()
        before = self.item(rule) if rule.pk else None
        values: dict[str, Any] = {"name": item["name"]}
        for name in ("source_matchers", "target_matchers"):
            try:
                values[name] = [m.as_dict() for m in parse_matchers(item[name])]
            except ValidationError as exc:
                raise ConfigItemError({name: "; ".join(exc.messages)}) from exc
            if not values[name]:
                raise ConfigItemError(
                    {name: "give at least one matcher, e.g. [{name: severity, op: '=', value: critical}]"}
                )
        equal = item.get("equal", rule.equal)
        if not isinstance(equal, list) or not all(isinstance(n, str) and LABEL_NAME.match(n) for n in equal):
            raise ConfigItemError({"equal": "expected a list of label names, e.g. [target_id]"})
        values["equal"] = equal
        if "enabled" in item:
            values["enabled"] = item["enabled"]
        _save(rule, values)
        return before, self.item(rule)


# --- silences -------------------------------------------------------------------------------


class SilencesSection:
    name = "silences"
    order = 60
    fields = ("matchers", "starts_at", "ends_at", "created_by", "comment")

    def export(self, project: str | None) -> list[Item]:
        silences = Silence.objects.select_related("created_by").order_by("starts_at", "id")
        items = [self.item(s) for s in silences]
        if project is not None:  # a silence belongs to a project when it matches that project only
            wanted = {"name": "project", "op": "=", "value": project}
            items = [i for i in items if wanted in i["matchers"]]
        return items

    def existing(self) -> Iterator[tuple[Item, Model]]:
        return ((self.item(s), s) for s in Silence.objects.select_related("created_by"))

    @staticmethod
    def item(silence: Silence) -> Item:
        return {
            "matchers": silence.matchers,
            "starts_at": _when(silence.starts_at),
            "ends_at": _when(silence.ends_at),
            "created_by": _username(silence.created_by),
            "comment": silence.comment,
        }

    def key(self, item: Item) -> str:
        matchers = ", ".join(str(m) for m in parse_matchers(item["matchers"]))
        return f"{{{matchers}}} from {item['starts_at']}"

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=self.fields)
        starts_at = _parse_when("starts_at", item["starts_at"])
        ends_at = _parse_when("ends_at", item["ends_at"])
        created_by = _user("created_by", item["created_by"], optional=False)
        matchers = silence_validate(
            matchers=item["matchers"],
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            comment=item["comment"] if isinstance(item["comment"], str) else "",
        )
        # A silence has no name: the same matchers from the same moment are the same silence
        # (its end is what people change, to extend or expire it).
        candidates = Silence.objects.select_related("created_by").filter(starts_at=starts_at)
        silence = next((s for s in candidates if s.matchers == matchers), None) or Silence()
        before = self.item(silence) if silence.pk else None
        values = {
            "matchers": matchers,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "created_by": created_by,
            "comment": item["comment"].strip(),
        }
        _save(silence, values)
        return before, self.item(silence)


# --- maintenance windows ----------------------------------------------------------------------


class MaintenanceSection:
    name = "maintenance"
    order = 70
    plain = ("recurrence", "expression", "duration_minutes", "time_zone", "effect", "comment")
    fields = ("name", "project", "target", "tag", "starts_at", "until", *plain, "created_by")

    def export(self, project: str | None) -> list[Item]:
        windows = MaintenanceWindow.objects.select_related("project", "target__project", "tag", "created_by")
        if project is not None:
            windows = windows.filter(Q(project__slug=project) | Q(target__project__slug=project))
        return [self.item(w) for w in windows.order_by("name", "starts_at", "id")]

    def existing(self) -> Iterator[tuple[Item, Model]]:
        windows = MaintenanceWindow.objects.select_related("project", "target__project", "tag", "created_by")
        return ((self.item(w), w) for w in windows)

    @classmethod
    def item(cls, window: MaintenanceWindow) -> Item:
        target = window.target
        return {
            "name": window.name,
            "project": window.project.slug if window.project else None,
            "target": f"{target.project.slug}/{target.name}" if target else None,
            "tag": window.tag.name if window.tag else None,
            "starts_at": _when(window.starts_at),
            "until": _when(window.until),
            **{name: getattr(window, name) for name in cls.plain},
            "created_by": _username(window.created_by),
        }

    def key(self, item: Item) -> str:
        scope = (
            f"target {item['target']}"
            if item.get("target")
            else f"project {item['project']}"
            if item.get("project")
            else f"tag {item['tag']}"
            if item.get("tag")
            else "no scope"
        )
        return f"{item['name']} ({scope})"

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=("name", "starts_at"))
        scope = {
            "project": _project("project", item.get("project")),
            "target": _target_named("target", item["target"]) if item.get("target") is not None else None,
            "tag": _named(Tag, "tag", item["tag"], what="tag") if item.get("tag") is not None else None,
        }
        if not any(scope.values()):
            # As in the admin: a window that names nothing must not quietly mute everything.
            raise ConfigItemError({"project": "give what the window covers: a project, a target or a tag"})
        starts_at = _parse_when("starts_at", item["starts_at"])
        until = _parse_when("until", item["until"]) if item.get("until") is not None else None
        windows = MaintenanceWindow.objects.select_related("project", "target__project", "tag", "created_by")
        window = _one(windows.filter(name=item["name"], **scope), "name", "window covering the same") or (
            MaintenanceWindow()
        )
        before = self.item(window) if window.pk else None
        values = {name: item[name] for name in self.plain if name in item}
        values.update(scope, name=item["name"], starts_at=starts_at, until=until)
        if "created_by" in item:
            values["created_by"] = _user("created_by", item["created_by"])
        maintenance_validate(
            recurrence=values.get("recurrence", window.recurrence),
            expression=values.get("expression", window.expression),
            time_zone=values.get("time_zone", window.time_zone),
            starts_at=starts_at,
            until=until,
            duration_minutes=values.get("duration_minutes", window.duration_minutes),
            scoped_by=[name for name, value in scope.items() if value is not None],
        )
        _save(window, values)
        return before, self.item(windows.get(pk=window.pk))


# --- target dependencies ------------------------------------------------------------------------


class DependenciesSection:
    """`target` depends on `depends_on`: its alerts are muted while that one is down."""

    name = "dependencies"
    order = 75
    fields = ("target", "depends_on")

    def export(self, project: str | None) -> list[Item]:
        dependencies = TargetDependency.objects.select_related("target__project", "depends_on__project")
        if project is not None:
            dependencies = dependencies.filter(target__project__slug=project)
        items = [self.item(d) for d in dependencies]
        return sorted(items, key=lambda i: (i["target"], i["depends_on"]))

    def existing(self) -> Iterator[tuple[Item, Model]]:
        dependencies = TargetDependency.objects.select_related("target__project", "depends_on__project")
        return ((self.item(d), d) for d in dependencies)

    @staticmethod
    def item(dependency: TargetDependency) -> Item:
        return {
            "target": f"{dependency.target.project.slug}/{dependency.target.name}",
            "depends_on": f"{dependency.depends_on.project.slug}/{dependency.depends_on.name}",
        }

    def key(self, item: Item) -> str:
        return f"{item['target']} on {item['depends_on']}"

    def apply(self, item: Item) -> tuple[Item | None, Item]:
        check_fields(item, known=self.fields, required=self.fields)
        target, depends_on = (_target_named(name, item[name]) for name in self.fields)
        if target == depends_on:
            raise ConfigItemError({"depends_on": "a target cannot depend on itself"})
        dependency, created = TargetDependency.objects.get_or_create(target=target, depends_on=depends_on)
        after = self.item(dependency)
        return (None if created else after), after


def _target_named(field: str, value: Any) -> Target:
    """A target written as project/name, the way every file names one."""
    slug, _, name = value.partition("/") if isinstance(value, str) else ("", "", "")
    target = Target.objects.filter(project__slug=slug, name=name).first() if name else None
    if target is None:
        raise ConfigItemError({field: f"no target {value!r}; write it as project/name, e.g. shop/Web"})
    return target


# --- one project's share of what belongs to no project ------------------------------------------


def _project_references(slug: str) -> dict[str, set[int]]:
    """The channels, policies and schedules one project's rules use: exported with them, so
    a project's file imports into an empty portal without naming what it lacks."""
    rules = AlertRule.objects.filter(project__slug=slug)
    policies = set(rules.exclude(escalation_policy=None).values_list("escalation_policy", flat=True))
    steps = EscalationStep.objects.filter(policy__in=policies)
    channels = set(rules.values_list("channels", flat=True)) | set(steps.values_list("channels", flat=True))
    schedules = set(steps.exclude(schedule=None).values_list("schedule", flat=True))
    return {"channels": channels - {None}, "policies": policies, "schedules": schedules}


def register() -> None:
    for section in (
        ChannelsSection(),
        SchedulesSection(),
        PoliciesSection(),
        RulesSection(),
        InhibitRulesSection(),
        SilencesSection(),
        MaintenanceSection(),
        DependenciesSection(),
    ):
        section_register(section)
