from django.urls import path

from knowledge import views

urlpatterns = [
    path("documents/<int:pk>/", views.document, name="document"),
]
