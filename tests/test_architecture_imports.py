"""The dependency direction holds: every router module imports on its own, first, in a fresh interpreter
(no import cycle through backend/api.py), and no app imports the composition root."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.api import ROUTERS

ROOT = Path(__file__).resolve().parent.parent
APPS = ("inspections", "analytics", "notifications", "community")


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def _app_files(app: str) -> list[Path]:
    return sorted(path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts)


@pytest.mark.parametrize("router_path", sorted({path for _, path in ROUTERS}))
def test_every_router_module_imports_first_in_a_fresh_interpreter(router_path):
    module = router_path.rsplit(".", 1)[0]
    code = (
        "import django; django.setup()\n"
        f"import {module}\n"
        "import sys\n"
        "assert 'backend.api' not in sys.modules, 'the router pulled in the composition root'\n"
        f"from {module} import router\n"
        "print(type(router).__name__)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Router"


def test_no_app_imports_the_composition_root():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for app in APPS
        for path in _app_files(app)
        for module in _imports(path)
        if module == "backend.api" or module.startswith("backend.api.")
    ]
    assert offenders == []


def test_analytics_and_notifications_take_api_basics_from_the_leaf():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for app in ("analytics", "notifications", "community")
        for path in _app_files(app)
        for module in _imports(path)
        if module.startswith("inspections.api") or module.startswith("inspections.schemas")
    ]
    assert offenders == []


def test_the_import_scan_sees_imports_inside_functions(tmp_path):
    # The checks above are only as good as this scan: an import hidden in a function counts too.
    sample = tmp_path / "sample.py"
    sample.write_text("def later():\n    from backend.api import api\n    import inspections.models\n")
    assert {"backend.api", "backend.api.api", "inspections.models"} <= _imports(sample)


def test_notifications_is_generic_and_never_imports_inspections():
    # inspections → notifications, never back: the alert policy lives in inspections/alerts.
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / "notifications").rglob("*.py"))
        for module in _imports(path)
        if module == "inspections" or module.startswith("inspections.")
    ]
    assert offenders == []
    mentions = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "notifications").rglob("*"))
        if path.is_file() and path.suffix in {".py", ".html", ".txt", ".po"} and "inspections" in path.read_text()
    ]
    assert mentions == []


def test_the_push_backends_do_not_import_each_other():
    assert not any(module.startswith("notifications.fcm") for module in _imports(ROOT / "notifications" / "push.py"))


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [
        # inspections is the base: it reads community's risk factor only through settings.RISK_EXTRA_FACTORS.
        ("inspections", ("community", "enforcement", "analytics")),
        # community reads enforcement's penalty notices (volunteers' rewards): never the other way round.
        ("enforcement", ("community", "analytics")),
        # analytics reports on community and enforcement (indicators): neither imports it back.
        ("community", ("analytics",)),
    ],
)
def test_the_base_apps_never_import_the_apps_built_on_them(app, forbidden):
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _app_files(app)
        for module in _imports(path)
        if any(module == name or module.startswith(f"{name}.") for name in forbidden)
    ]
    assert offenders == []


def test_a_web_process_loads_no_imaging_or_geometry_library_until_a_request_needs_one():
    """shapely with numpy, Pillow and segno (~30 MiB of RSS together), h3 and geographiclib (~3 MiB) are
    imported by the functions that use them (boundaries, photos, signatures, stickers, cells, distances),
    not by every gunicorn worker: the CSV export's workers stay small (bench/export.py). Django set up
    and every URL resolved, none of them loaded."""
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "import backend.api, analytics.exports, inspections.services.visits\n"
        "lazy = ('shapely', 'numpy', 'PIL', 'segno', 'h3', 'geographiclib')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "backend.settings"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
