from django.urls import path

from chatbot import views

urlpatterns = [
    path("", views.chat, name="chat"),
    path("c/<int:conversation_id>/", views.chat, name="conversation"),
    path("frequent/", views.frequent_questions, name="frequent_questions"),
    path(
        "frequent/<str:entry_id>/retire/",
        views.frequent_question_retire,
        name="frequent_question_retire",
    ),
]
