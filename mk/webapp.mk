# Web dashboard and JSON API (webapp/, tests/webapp/, tests/browser/, docs/webapp.md).
#   make upgrade          create or upgrade the dashboard's database schema (DATABASE_URL; serve and index run it)
#   make serve            the dashboard on http://127.0.0.1:$(WEB_PORT) against RPC_URL (make chain + make deploy first)
#   make seed-demo        demo households, meters, money on the local chain (prints the logins)
#   make bot              demo trading bot + auction keeper
#   make test-webapp      Flask test-client tests on a private anvil; make test-browser: headless Chromium tests

WEB_PORT    ?= 5000
WEB_THREADS ?= 16

.PHONY: browser-deps postgres-deps upgrade serve index seed-demo bot test-webapp test-browser screenshots

# Browser tests drive Debian's Chromium; nothing downloads a browser. Installed only when missing.
browser-deps: ## install chromium + chromium-driver (apt) for the browser tests, if missing
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	echo "installing Debian's chromium and chromium-driver for the browser tests"; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends \
	  chromium chromium-driver

TEST_SYSTEM_DEPS += browser-deps

# The web-app tests run on SQLite and on a PostgreSQL server they start themselves (tests/postgres_server.py):
# Debian's server binaries (/usr/lib/postgresql/<major>/bin), installed only when missing.
postgres-deps: ## install postgresql (apt) for the web-app tests' PostgreSQL runs, if missing
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi; \
	echo "installing Debian's postgresql for the web-app tests"; \
	sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
	$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y --no-install-recommends postgresql

TEST_SYSTEM_DEPS += postgres-deps

upgrade: setup ## create or upgrade the dashboard's database schema (DATABASE_URL; Alembic migrations)
	$(PY) -m webapp upgrade

serve: setup compile upgrade ## the dashboard and API on 127.0.0.1:$(WEB_PORT) (gunicorn, threads, indexer thread)
	RPC_URL=$(RPC_URL) $(PY) -m webapp serve --host 127.0.0.1 --port $(WEB_PORT) --threads $(WEB_THREADS)

index: setup upgrade ## run the chain indexer alone (then serve with WEBAPP_INDEXER=0)
	RPC_URL=$(RPC_URL) $(PY) -m webapp index

seed-demo: setup compile upgrade ## demo users, meters, money and auction schedule on the local chain
	RPC_URL=$(RPC_URL) $(PY) -m webapp seed-demo

bot: setup upgrade ## demo trading bot and auction keeper (Ctrl-C stops)
	RPC_URL=$(RPC_URL) $(PY) -m webapp bot

test-webapp: setup compile postgres-deps ## web app tests (Flask test client, private anvil; every test on SQLite and PostgreSQL)
	WEBAPP_TEST_ALL_DATABASES=1 pytest tests/webapp -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

test-browser: setup compile browser-deps ## browser tests (headless Chromium; screenshots go to var/screenshots)
	pytest tests/browser -p no:pytest-brownie -p no:cacheprovider $(PYTEST_ARGS)

screenshots: setup compile browser-deps ## refresh the README's screenshots in docs/screenshots/ (headless Chromium)
	SCREENSHOT_DIR=$(ROOT)/docs/screenshots pytest tests/browser -k "screenshots or turns_automatic_trading_on or two_users_trade_and_both_see_it" -p no:pytest-brownie -p no:cacheprovider
