"""The portal's URLs plus a do-nothing view: the baseline every latency is compared with."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as portal_urlpatterns


def do_nothing(request):
    return HttpResponse(b"", content_type="text/plain")


urlpatterns = [*portal_urlpatterns, path("bench/do-nothing", do_nothing)]
