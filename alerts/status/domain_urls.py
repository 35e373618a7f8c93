"""The URL configuration a request gets when it arrives on a status page's custom domain
(CustomDomainMiddleware): the page's routes at the root, and nothing else of the portal."""

from django.urls import include, path

from alerts.status.urls import page_patterns

urlpatterns = [path("", include((page_patterns, "status")))]
