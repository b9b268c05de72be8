#!/bin/sh
# Generate the secrets compose.yaml reads, into ./secrets/.
#
# The folder is yours alone (0700). The files in it are 0644: compose mounts them as they are,
# and the containers' users (docent, postgres) are not you. Nothing outside the folder can
# reach them on this machine.
# Existing files are kept: run it again safely. The TLS certificate is yours to provide:
# put it in secrets/tls_cert.pem and its key in secrets/tls_key.pem.
set -eu
umask 077
cd "$(dirname "$0")/.."
mkdir -p secrets

random() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }
keep_or_write() { [ -s "secrets/$1" ] || printf '%s\n' "$2" > "secrets/$1"; }

keep_or_write secret_key "$(random)"
keep_or_write postgres_password "$(random)"
keep_or_write redis_password "$(random)"
keep_or_write llm_api_key "$(random)"
keep_or_write database_url "postgres://docent:$(cat secrets/postgres_password)@postgres:5432/docent"
keep_or_write redis_url "redis://:$(cat secrets/redis_password)@redis:6379/0"
chmod 700 secrets
chmod 644 secrets/*
ls -l secrets
