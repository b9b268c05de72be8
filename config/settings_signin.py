"""Sign-in settings: passwords and lock-outs, single sign-on (OpenID Connect), API tokens.

Part of config.settings, which imports everything here; kept apart because it is one
concern that an operator configures on its own (docs/configuration.md#single-sign-on).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_secret, env_str

# --- Sign-in (django-axes) and passwords ------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out username and address is refused before any password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# SIGNIN_FAILURE_LIMIT wrong passwords for one username from one address lock that pair out
# for SIGNIN_LOCKOUT_MINUTES; a correct password is refused meanwhile. A success resets.
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Single sign-on: OpenID Connect (accounts.oidc, docs/configuration.md#single-sign-on) ----
# On when OIDC_CLIENT_ID is set. Endpoints come from OIDC_ISSUER's discovery document, read at
# the first sign-in (not here), unless each is given. mozilla-django-oidc reads the OIDC_* names.
LOCAL_LOGIN = env_bool("LOCAL_LOGIN", True)  # false: no password form, no password backend
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
OIDC_RP_CLIENT_SECRET = env_secret("OIDC_CLIENT_SECRET", "")
OIDC_ISSUER = env_str("OIDC_ISSUER", "").rstrip("/")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_JWKS_ENDPOINT", "")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid profile email groups")
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_float("OIDC_TIMEOUT", 10)
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "single sign-on")
OIDC_USERNAME_CLAIM = env_str("OIDC_USERNAME_CLAIM", "preferred_username")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_GROUPS_MANAGED = env_list("OIDC_GROUPS_MANAGED", ["*"])  # names or patterns ("docent-*")
OIDC_STAFF_GROUP = env_str("OIDC_STAFF_GROUP", "")  # "": staff is set in Docent, never by a claim
# Signing out of Docent signs out of the provider too (its end_session_endpoint), which ends
# the person's other single sign-on sessions: off unless the company wants that.
OIDC_SIGN_OUT_AT_PROVIDER = env_bool("OIDC_SIGN_OUT_AT_PROVIDER", False)
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_END_SESSION_ENDPOINT", "")
OIDC_STORE_ID_TOKEN = OIDC_SIGN_OUT_AT_PROVIDER  # the id_token_hint that sign-out sends
OIDC_AUTHENTICATE_CLASS = "accounts.oidc.SignInStart"
OIDC_CALLBACK_CLASS = "accounts.oidc.SignInCallback"
if OIDC_ENABLED:
    if not OIDC_RP_CLIENT_SECRET:
        raise ImproperlyConfigured("OIDC_CLIENT_ID is set: set OIDC_CLIENT_SECRET (or _FILE) too")
    _endpoints = [OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT, OIDC_OP_USER_ENDPOINT]
    if not OIDC_RP_SIGN_ALGO.startswith("HS"):  # signed with the provider's key: JWKS needed
        _endpoints.append(OIDC_OP_JWKS_ENDPOINT)
    if not OIDC_ISSUER and not all(_endpoints):
        raise ImproperlyConfigured("Single sign-on needs OIDC_ISSUER, or every OIDC_*_ENDPOINT")
    AUTHENTICATION_BACKENDS.append("accounts.oidc.DirectoryBackend")
if not LOCAL_LOGIN:
    if not OIDC_ENABLED:
        raise ImproperlyConfigured("LOCAL_LOGIN=false leaves no way in: configure OIDC_CLIENT_ID")
    AUTHENTICATION_BACKENDS.remove("django.contrib.auth.backends.ModelBackend")

# --- API tokens -------------------------------------------------------------------------------
# A new token expires after this many days (0: never); `manage.py token --days` overrides.
TOKEN_LIFETIME_DAYS = env_int("TOKEN_LIFETIME_DAYS", 90)
