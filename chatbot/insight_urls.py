from django.urls import path

from chatbot import insight_views

urlpatterns = [
    path("", insight_views.dashboard, name="insight"),
    path("gaps/", insight_views.knowledge_gaps, name="knowledge_gaps"),
    path("gaps/conversations/<int:pk>/", insight_views.gap_conversation, name="gap_conversation"),
]
