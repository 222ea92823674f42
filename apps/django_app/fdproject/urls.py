"""URL configuration for fdproject: the six benchmark endpoints, /twodb, a form and the admin."""
from django.contrib import admin
from django.urls import path

from world import views

urlpatterns = [
    path("json", views.json),
    path("plaintext", views.plaintext),
    path("db", views.single_query),
    path("queries", views.queries),
    path("fortunes", views.fortunes),
    path("updates", views.updates),
    path("twodb", views.twodb),
    path("form", views.form, name="form"),
    path('admin/', admin.site.urls),
]
