from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("snapshots/<int:pk>/raw/", views.snapshot_raw, name="snapshot-raw"),
]
