from django.urls import path

from alerts.paging import views

app_name = "oncall"

urlpatterns = [
    path("", views.team, name="team"),
    path("mine", views.mine, name="mine"),
    path("incidents/<int:pk>", views.incident, name="incident"),
    path("incidents/<int:pk>/acknowledge", views.acknowledge, name="acknowledge"),
    path("incidents/<int:pk>/resolve", views.resolve, name="resolve"),
    path("incidents/<int:pk>/snooze", views.snooze, name="snooze"),
    path("incidents/<int:pk>/comment", views.comment, name="comment"),
]
