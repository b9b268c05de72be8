from django.urls import path

from chatbot import conversation_views, views

urlpatterns = [
    path("", conversation_views.chat, name="chat"),
    path("c/<int:conversation_id>/", conversation_views.chat, name="conversation"),
    path("conversations/", conversation_views.conversation_list, name="conversation_list"),
    path("c/<int:pk>/rename/", conversation_views.conversation_rename, name="conversation_rename"),
    path("c/<int:pk>/delete/", conversation_views.conversation_delete, name="conversation_delete"),
    path(
        "c/<int:pk>/after/<int:message_id>/",
        conversation_views.conversation_after,
        name="conversation_after",
    ),
    path("frequent/", views.frequent_questions, name="frequent_questions"),
    path(
        "frequent/<str:entry_id>/promote/",
        views.frequent_question_promote,
        name="frequent_question_promote",
    ),
    path(
        "frequent/<str:entry_id>/retire/",
        views.frequent_question_retire,
        name="frequent_question_retire",
    ),
]
