from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("watches/", views.watch_list, name="watch-list"),
    path("watches/new/", views.watch_create, name="watch-create"),
    path("watches/<int:pk>/", views.watch_detail, name="watch-detail"),
    path("watches/<int:pk>/pause/", views.watch_pause, name="watch-pause"),
    path("watches/<int:pk>/delete/", views.watch_delete, name="watch-delete"),
]
