import factory

from alerts.models import Channel


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"channel-{n}")
    kind = Channel.Kind.EMAIL
    config = factory.LazyFunction(lambda: {"to": ["oncall@example.com"]})
