"""The portal's URLs plus a do-nothing view: the baseline every latency is compared with.

It is the first route, so the baseline is the cheapest request Django can answer here
(a route at the end would add the cost of trying every other one)."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as portal_urlpatterns


def do_nothing(request):
    return HttpResponse(b"", content_type="text/plain")


urlpatterns = [path("bench/do-nothing", do_nothing), *portal_urlpatterns]
