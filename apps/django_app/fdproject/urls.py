"""URL configuration for fdproject: the six benchmark endpoints."""
from django.urls import path

from world import views

urlpatterns = [
    path("json", views.json),
    path("plaintext", views.plaintext),
    path("db", views.single_query),
    path("queries", views.queries),
    path("fortunes", views.fortunes),
    path("updates", views.updates),
]
