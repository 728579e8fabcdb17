#!/usr/bin/env bash
# `make test-djangocrm`: DjangoCRM extended by complaintkit_djangocrm, running for real.
#
# 1. Without what the CRM needs to install (its mysqlclient builds against Debian's pkg-config
#    and libmariadb-dev) the tests are skipped, saying why; under COMPLAINTKIT_REQUIRE_SERVICES=1
#    or COMPLAINTKIT_REQUIRE_BROWSER=1 (CI) that is a failure instead.
# 2. The venv of its own (integrations/djangocrm/.venv: the CRM's Django pins stay out of the
#    main .venv, complaintkit installed editable) is built by make when missing or stale.
# 3. mypy (strict, with Django's stubs) on the app, then every test on SQLite (the headless-Chromium one skips without chromium, or fails under
#    COMPLAINTKIT_REQUIRE_BROWSER=1), then registration and transitions on PostgreSQL
#    ($DJANGOCRM_PG) when its server answers (required under COMPLAINTKIT_REQUIRE_SERVICES=1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pg=${DJANGOCRM_PG:-postgresql://postgres@127.0.0.1:5432/ck_djangocrm}

if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists libmariadb; then
    why="test-djangocrm SKIPPED: django-crm-admin needs mysqlclient, which builds against"
    why="$why Debian's pkg-config and libmariadb-dev (apt-get install -y pkg-config libmariadb-dev)"
    if [ "${COMPLAINTKIT_REQUIRE_SERVICES:-}" = 1 ] || [ "${COMPLAINTKIT_REQUIRE_BROWSER:-}" = 1 ]; then
        echo "$why, but COMPLAINTKIT_REQUIRE_SERVICES/BROWSER=1" >&2
        exit 1
    fi
    echo "$why"
    exit 0
fi

make -C "$root" --no-print-directory integrations/djangocrm/.venv/.installed
cd "$here"
.venv/bin/mypy
.venv/bin/pytest -q

if .venv/bin/python - "$pg" <<'PY' 2>/dev/null
import socket, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
socket.create_connection((url.hostname, url.port or 5432), timeout=2).close()
PY
then
    CK_DJANGOCRM_DATABASE=$pg .venv/bin/pytest -q crm_tests/test_complaints.py \
        -k 'stored_by_complaintkit or transitions_from'
elif [ "${COMPLAINTKIT_REQUIRE_SERVICES:-}" = 1 ]; then
    echo "test-djangocrm: PostgreSQL at $pg is not reachable but COMPLAINTKIT_REQUIRE_SERVICES=1" >&2
    exit 1
else
    echo "test-djangocrm on PostgreSQL SKIPPED: $pg is not reachable"
fi
