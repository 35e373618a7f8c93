import pytest

from alerts.status.selectors import forget_domains


@pytest.fixture(autouse=True)
def _fresh_domain_map():
    """Each test starts as a fresh process would: no custom-domain map remembered."""
    forget_domains()
    yield
    forget_domains()
