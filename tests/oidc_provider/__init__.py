"""A small OpenID Connect provider (django-oauth-toolkit) that the sign-in tests run.

A Django project of its own, in its own process and sqlite database: the company's
directory as Docent would meet it. `harness.provider_running` starts it; the
`directory` command sets its people, groups and the registered Docent client.
"""
