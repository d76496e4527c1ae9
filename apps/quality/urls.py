from django.urls import path

from . import views

urlpatterns = [
    path("quality/", views.quality, name="quality"),
]
