import re

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_builds_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    text = out.read_text()
    assert "/api/v1/projects" in text
    assert "apiToken" in text and "ingestKey" in text


def test_api_docs_are_served_from_the_portal_itself(admin_client):
    html = admin_client.get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    # Every script and stylesheet comes from the portal: no CDN, nothing off-site. (Not a
    # search for "cdn" in the page: a random CSRF token can spell it.)
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert addresses and not [a for a in addresses if a.startswith(("http:", "https:", "//"))]
