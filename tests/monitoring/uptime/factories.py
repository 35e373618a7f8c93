import factory

from monitoring.models import Heartbeat, Target
from tests.factories import ProjectFactory


class TargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Target

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Target {n}")
    kind = Target.Kind.HTTP
    url = factory.Sequence(lambda n: f"https://service-{n}.example/health")


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heartbeat

    target = factory.SubFactory(TargetFactory, kind=Target.Kind.HEARTBEAT, url="")
