from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from accounts import auth_views
from config import views

urlpatterns = [
    # Probes and Prometheus (config.views): no sign-in, nothing sensitive.
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.prometheus_metrics, name="metrics"),
    # Sign-in (accounts.auth_views): passwords unless LOCAL_LOGIN=false; single sign-on under
    # oidc/ (authenticate/, callback/: the redirect URI to register at the provider).
    path("accounts/login/", auth_views.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.SignOutView.as_view(), name="logout"),
    path("admin/login/", auth_views.admin_sign_in),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/", include("accounts.urls")),
    path("insight/", include("chatbot.insight_urls")),  # staff: the dashboard, the gaps
    path("audit/", include("audit.urls")),  # superusers: the audit log and its CSV
    path("", include("knowledge.urls")),
    path("", include("chatbot.urls")),
]
