"""The sidebar lights the one item for the page, even when a shorter item's URL is a prefix of it."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def lit(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="[^"]*\bactive"', html)


@pytest.mark.parametrize(
    ("page", "item"),
    [
        ("admin:monitoring_web_vitals", "admin:monitoring_web_vitals"),
        ("admin:monitoring_metricseries_changelist", "admin:monitoring_metricseries_changelist"),
        ("admin:monitoring_target_add", "admin:monitoring_target_changelist"),
        ("admin:alerts_incident_changelist", "admin:alerts_incident_changelist"),
        # The SLA reports live under the digests' URL: the longer link is the page.
        ("admin:alerts_sla_reports", "admin:alerts_sla_reports"),
        ("admin:alerts_subscriber_changelist", "admin:alerts_subscriber_changelist"),
    ],
)
def test_one_item_is_lit(admin_client, page, item):
    html = admin_client.get(reverse(page)).content.decode()
    assert lit(html) == [reverse(item)]


def test_the_index_lights_nothing(admin_client):
    assert lit(admin_client.get(reverse("admin:index")).content.decode()) == []
