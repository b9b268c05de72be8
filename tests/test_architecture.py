"""docs/architecture.md, checked: what may import what, and who may start a service.

Read from the source with `ast`, so an import inside a function, a relative
import or `importlib.import_module("...")` with a literal name counts as much as
one at the top of a module. Nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "audit", "chatbot", "config", "evaluation", "knowledge")


@dataclass(frozen=True)
class Rule:
    """Modules under `source` must not import anything under `forbidden` (unless `allowed`)."""

    source: str
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[str, ...] = ()


RULES = (
    Rule("knowledge", ("chatbot",), "documents and search know nothing of answering"),
    Rule("accounts", ("knowledge", "chatbot", "evaluation"), "users and rights come first"),
    Rule("audit", ("knowledge", "chatbot", "evaluation"), "the apps above record into the log"),
    Rule(
        "knowledge.parsers",
        ("django", *PACKAGES),
        "parsers run in a sandboxed child with no Django (tests/knowledge/parsers/test_sandbox.py "
        "checks the same at run time)",
        allowed=("knowledge.parsers",),
    ),
    *(
        Rule(package, ("tests", "bench"), "product code never depends on tests or benchmarks")
        for package in PACKAGES
    ),
)

# Functions of config.embedded that start a service (or write its files).
STARTERS = frozenset(
    {
        "ensure_services",
        "ensure_redis",
        "ensure_postgres",
        "ensure_llm_worker",
        "spawn_llm_worker",
        "spawn_llm_workers",
        "secret_key_ensure",
    }
)
# Entry points: where a process begins, so where its services may be started. (Tests and
# benchmarks are entry points too; they lie outside PACKAGES and are not scanned.)
ENTRY_POINTS = (
    "config/asgi.py",
    "config/celery.py",
    "config/embedded.py",
    "config/model_workers.py",
    "config/embedded_postgres/*.py",  # PostgreSQL lazily, on the first connection
    "*/management/commands/*.py",
)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def python_files(root: Path, packages: tuple[str, ...] = PACKAGES) -> Iterator[Path]:
    """The packages' importable modules (a script in a data folder such as knowledge/sample/
    is not one), migrations left out."""
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            folders = path.relative_to(root).parents
            importable = all((root / f / "__init__.py").exists() for f in list(folders)[:-1])
            if importable and "migrations" not in path.parts:
                yield path


def imported_modules(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, wherever it sits."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            # `from chatbot import llm` imports chatbot.llm, not only chatbot.
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and _called_name(node.func) in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def import_violations(root: Path, rules: tuple[Rule, ...] = RULES) -> list[str]:
    found = []
    for path in python_files(root):
        source = module_name(path, root)
        for rule in rules:
            if not _under(source, rule.source):
                continue
            for line, module in imported_modules(path, root):
                if any(_under(module, a) for a in rule.allowed):
                    continue
                if any(_under(module, f) for f in rule.forbidden):
                    where = path.relative_to(root)
                    found.append(f"{where}:{line} imports {module} ({rule.why})")
    return sorted(set(found))


# The modules that hold the starters.
SERVICE_MODULES = frozenset({"config.embedded", "config.model_workers"})


def service_start_violations(root: Path) -> list[str]:
    """Calls of the service modules' starters outside the entry points."""
    found = []
    for path in python_files(root):
        relative = path.relative_to(root)
        if any(relative.match(pattern) for pattern in ENTRY_POINTS):
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        modules, functions = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "config":
                modules |= {
                    a.asname or a.name for a in node.names if f"config.{a.name}" in SERVICE_MODULES
                }
            elif isinstance(node, ast.ImportFrom) and node.module in SERVICE_MODULES:
                functions |= {a.asname or a.name for a in node.names if a.name in STARTERS}
            elif isinstance(node, ast.Import):
                modules |= {a.asname for a in node.names if a.name in SERVICE_MODULES and a.asname}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            by_module = (
                isinstance(func, ast.Attribute)
                and func.attr in STARTERS
                and (
                    (isinstance(func.value, ast.Name) and func.value.id in modules)
                    or ast.unparse(func.value) in SERVICE_MODULES
                )
            )
            by_name = isinstance(func, ast.Name) and func.id in functions
            if by_module or by_name:
                found.append(f"{relative}:{node.lineno} calls {ast.unparse(func)}")
    return found


# --- the project as it is --------------------------------------------------------------------


def test_no_app_imports_what_the_architecture_forbids() -> None:
    assert import_violations(ROOT) == []


def test_services_are_started_only_by_entry_points() -> None:
    assert service_start_violations(ROOT) == []


def test_every_package_is_on_the_architecture_page() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}

    assert packages - set(PACKAGES) == set(), "a new package needs its rules here and in the doc"
    assert [p for p in PACKAGES if f"`{p}`" not in page] == []


# --- the checks themselves catch what they should ---------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "knowledge" / "parsers").mkdir()
    (tmp_path / "knowledge" / "parsers" / "__init__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("knowledge/search.py", "import chatbot.cache", "chatbot.cache"),
        ("knowledge/search.py", "def f():\n    from chatbot import llm\n", "chatbot"),
        ("knowledge/views.py", "import importlib\nimportlib.import_module('chatbot.x')", "chatbot.x"),
        ("accounts/cli.py", "from knowledge.selectors import reader_scope", "knowledge.selectors"),
        ("accounts/cli.py", "from chatbot.models import Message", "chatbot.models"),
        ("knowledge/parsers/pdf.py", "from django.conf import settings", "django.conf"),
        ("knowledge/parsers/pdf.py", "from ..models import Chunk", "knowledge.models"),
        ("chatbot/answering.py", "from tests.support import ws", "tests.support"),
    ],
)
def test_a_forbidden_import_is_reported(project: Path, path: str, source: str, expected: str) -> None:
    (project / path).write_text(source)

    found = import_violations(project)

    assert found and all(f.startswith(f"{path}:") for f in found), found
    assert any(f" imports {expected} " in f for f in found), found


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("chatbot/answering.py", "from knowledge.search import chunk_search"),
        ("knowledge/parsers/pdf.py", "from knowledge.parsers.base import ParseError\nimport pypdf"),
        ("knowledge/parsers/pdf.py", "from .base import ParseError"),
        ("config/urls.py", "import chatbot.urls"),
    ],
)
def test_an_allowed_import_is_not_reported(project: Path, path: str, source: str) -> None:
    (project / path).write_text(source)

    assert import_violations(project) == []


@pytest.mark.parametrize(
    "source",
    [
        "from config import embedded\nembedded.ensure_redis()",
        "from config import embedded as e\ndef f():\n    e.ensure_llm_worker()",
        "from config.embedded import ensure_services\nensure_services(redis=True)",
        "import config.model_workers\nconfig.model_workers.spawn_llm_worker(detached=True)",
        "from config import model_workers\nmodel_workers.ensure_llm_worker()",
        "from config.model_workers import spawn_llm_workers\nspawn_llm_workers(detached=False)",
    ],
)
def test_a_service_started_outside_an_entry_point_is_reported(project: Path, source: str) -> None:
    (project / "config" / "apps.py").write_text(source)
    (project / "chatbot" / "management" / "commands").mkdir(parents=True)
    (project / "chatbot" / "management" / "commands" / "ask.py").write_text(source)

    assert [f.split(":")[0] for f in service_start_violations(project)] == ["config/apps.py"]


def test_reading_where_a_service_is_is_not_starting_it(project: Path) -> None:
    (project / "chatbot" / "llm.py").write_text(
        "from config import model_workers\nurl = model_workers.llm_worker_url()"
    )

    assert service_start_violations(project) == []
