"""Legacy release files with values the database cannot keep: a NUL in the file's URL, its dist
or its Sourcemap header was refused only by PostgreSQL, as "a value of this request does not fit
the database" naming no field; a Sourcemap header past its column was cut short silently, so
the minified file pointed at a map that does not exist. Each is a 400 naming the field."""

import pytest

from monitoring.models import ArtifactBundleFile
from tests.monitoring.errors.test_release_files import shop, token, upload  # noqa: F401 fixtures

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"name": "~/static/a\x00.js"}, "name"),
        ({"dist": "web\x00"}, "dist"),
        ({"headers": ["Sourcemap:a\x00.js.map"]}, "header"),
        ({"headers": ["Sourcemap:" + "m" * 1001]}, "header"),
    ],
)
def test_a_value_the_database_cannot_keep_is_a_400_naming_its_field(client, token, shop, extra, field):  # noqa: F811
    name = extra.pop("name", "~/static/app.min.js")

    answer = upload(client, token, name, b"var a=1;", **extra)

    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(f"{field}: ")
    assert not ArtifactBundleFile.objects.exists()
