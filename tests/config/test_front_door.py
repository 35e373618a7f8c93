"""No dead ends at the door: the bare address, the browser's icon request and "View site"."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

# "/" may be a status page's custom domain, so answering it reads the domains' map.
pytestmark = pytest.mark.django_db


def test_the_bare_address_leads_to_the_portal(client):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))


def test_the_conventional_icon_address_leads_to_the_portals_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("lookout/favicon.svg")
    assert finders.find("lookout/favicon.svg")


def test_admin_pages_link_the_icon_and_view_site_goes_somewhere(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'rel="icon"' in page and "lookout/favicon.svg" in page
    assert 'href="/oncall/"' in page
    assert admin_client.get("/oncall/").status_code == 200
