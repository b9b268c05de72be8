"""Start the test OpenID Connect provider on a loopback port and set its directory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Provider:
    issuer: str  # http://127.0.0.1:PORT/o
    env: dict[str, str]

    def manage(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"provider: {' '.join(args)} failed:\n{done.stderr}")

    def person(
        self, username: str, *, password: str, groups: list[str], active: bool = True
    ) -> None:
        self.manage(
            "directory",
            "user",
            username,
            "--password",
            password,
            "--groups",
            ",".join(groups),
            *([] if active else ["--inactive"]),
        )

    def register_client(
        self, client_id: str, *, secret: str, redirect_uri: str, post_logout_redirect_uri: str
    ) -> None:
        self.manage(
            "directory",
            "client",
            client_id,
            "--secret",
            secret,
            "--redirect-uri",
            redirect_uri,
            "--post-logout-redirect-uri",
            post_logout_redirect_uri,
        )


def _rsa_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@contextmanager
def provider_running(folder: Path) -> Iterator[Provider]:
    """A provider with a fresh sqlite directory and signing key under `folder`, until exit."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}/o"
    key = folder / "provider-key.pem"
    key.write_bytes(_rsa_key_pem())
    key.chmod(0o600)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(folder / "provider.sqlite3"),
        "OIDC_PROVIDER_KEY": str(key),
        "OIDC_PROVIDER_ISSUER": issuer,
    }
    provider = Provider(issuer=issuer, env=env)
    provider.manage("migrate", "--verbosity=0")
    with open(folder / "provider.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration", proc)
        yield provider
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the test provider exited; see provider.log")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the test provider did not start")
