"""The production shape: `check --deploy` is clean, files are private, no password is shipped."""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import yaml
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from config import embedded

ROOT = Path(__file__).resolve().parent.parent.parent


def production_env(var: Path) -> dict[str, str]:
    """What compose.yaml gives the web process, with the secrets inline."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS")
    }
    env.update(
        HTTPS="true",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="docent.example.com",
        DOCENT_VAR_DIR=str(var),
    )
    return env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- settings ---------------------------------------------------------------------------------


def test_check_deploy_in_production_reports_nothing(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_production_settings_trust_the_proxy_and_send_https_only(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000, s.WEBSOCKET_ALLOWED_ORIGINS)"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.stdout.strip().splitlines()[-1] == (
        "('HTTP_X_FORWARDED_PROTO', 'https') True True True True ['https://docent.example.com']"
    ), done.stderr


# --- files ------------------------------------------------------------------------------------


def test_var_is_created_closed_to_other_users(tmp_path: Path, monkeypatch) -> None:
    var = tmp_path / "var"
    monkeypatch.setenv("DOCENT_VAR_DIR", str(var))

    embedded.var_dir_ensure()

    assert mode(var) == (0o711 if os.geteuid() == 0 else 0o700)
    assert mode(var / "log") == 0o700


def test_an_older_open_var_is_closed(tmp_path: Path, monkeypatch) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    monkeypatch.setenv("DOCENT_VAR_DIR", str(var))

    embedded.var_dir_ensure()

    assert not mode(var) & 0o044  # neither group nor others may list it


def test_the_secret_key_is_written_0600_even_over_an_open_empty_file(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DOCENT_VAR_DIR", str(tmp_path))
    left_open = embedded.secret_key_path()
    left_open.touch()
    left_open.chmod(0o644)
    old_umask = os.umask(0)
    try:
        key = embedded.secret_key_ensure()
    finally:
        os.umask(old_umask)

    assert mode(left_open) == 0o600
    assert left_open.read_text() == key and len(key) >= 50


def test_stored_documents_are_readable_by_docent_alone(tmp_path: Path, settings) -> None:
    storage = FileSystemStorage(location=tmp_path / "media")

    name = storage.save("documents/1/v1/policy.md", ContentFile(b"# Policy"))

    assert mode(tmp_path / "media" / name) == 0o600
    assert mode(tmp_path / "media" / "documents") == 0o700


# --- compose.yaml, the image and the proxy ----------------------------------------------------

SECRET_NAME = re.compile(r"PASSWORD|SECRET|API_KEY|TOKEN|DATABASE_URL|REDIS_URL", re.I)


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_holds_no_password_only_files_of_secrets() -> None:
    text = (ROOT / "compose.yaml").read_text()
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) and value:
                assert key.endswith("_FILE"), f"{name}: {key} is given in clear"
    assert not re.search(r"://[^/\s:@]*:[^/\s@]+@", text)  # no user:password@ in any URL
    for secret in compose()["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    for kept_out in ("secrets/secret_key", "secret_key.txt", "var/secret_key"):
        ignored = subprocess.run(["git", "check-ignore", "-q", kept_out], cwd=ROOT)
        assert ignored.returncode == 0, f"{kept_out} could be committed"


def test_the_model_worker_beyond_loopback_requires_a_key() -> None:
    llm = compose()["services"]["llm"]
    command = llm["command"]
    host = command[command.index("--host") + 1]

    assert host in ("127.0.0.1", "localhost") or llm["environment"].get("LLM_API_KEY_FILE")


def test_only_the_proxy_is_published() -> None:
    published = [name for name, s in compose()["services"].items() if s.get("ports")]

    assert published == ["proxy"]


def test_the_image_does_not_run_as_root() -> None:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)

    assert users and users[-1] not in ("root", "0")


def test_the_proxy_limits_bodies_as_the_application_does(settings) -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    sizes = [int(m) * 1024 * 1024 for m in re.findall(r"client_max_body_size (\d+)m;", conf)]

    assert sizes == [settings.REQUEST_MAX_BYTES, settings.UPLOAD_REQUEST_MAX_BYTES]
    websocket = conf[conf.index("location /ws/") :].split("}")[0]
    assert "proxy_set_header Upgrade $http_upgrade;" in websocket
    # A location that sets any header inherits none: the socket must still say who and how.
    assert "X-Forwarded-For $remote_addr" in websocket and "X-Forwarded-Proto" in websocket


def test_every_long_running_service_has_a_health_check() -> None:
    services = compose()["services"]
    long_running = [name for name, s in services.items() if s.get("restart") != "no"]
    assert sorted(long_running) == ["llm", "postgres", "proxy", "redis", "web", "worker"]
    for name in long_running:
        assert services[name].get("healthcheck", {}).get("test"), name
    # The web process is ready only when what it needs is: /readyz, not just /healthz.
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_every_docent_command_in_compose_exists_in_the_code() -> None:
    """No Docker engine here: what can be checked is that each command names real code."""
    from django.core.management import get_commands

    commands = get_commands()
    for name, service in compose()["services"].items():
        argv = service.get("command")
        if not isinstance(argv, list) or argv[0] == "sh":
            continue
        if argv[:2] == ["python", "manage.py"]:
            assert argv[2] in commands, (name, argv)
        elif argv[0] == "daphne":
            assert argv[-1] == "config.asgi:application"
            import config.asgi  # noqa: F401 - importable
        elif argv[0] == "celery":
            assert argv[1:3] == ["-A", "config"]
            from config.celery import app

            assert app.main == "docent"  # -A config finds config.celery.app
    for name, service in compose()["services"].items():
        test = service.get("healthcheck", {}).get("test", [])
        if "deploy/probe.py" in test:
            assert (ROOT / "deploy" / "probe.py").is_file(), name


def test_the_probe_tells_a_healthy_url_from_a_refused_one(live_server) -> None:
    import subprocess
    import sys

    from config.embedded import free_port

    ok = subprocess.run(
        [sys.executable, "deploy/probe.py", f"{live_server.url}/healthz"], cwd=ROOT, timeout=30
    )
    down = subprocess.run(
        [sys.executable, "deploy/probe.py", f"http://127.0.0.1:{free_port()}/healthz"],
        cwd=ROOT, timeout=30, capture_output=True,
    )
    assert (ok.returncode, down.returncode) == (0, 1)
