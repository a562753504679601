#!/usr/bin/env bash
# Serve the portal for local use (`make run`). Ctrl-C stops every process started here.
#
# One process (`manage.py serve_demo`) migrates, loads the demo region, starts the ESIA
# emulator and the notification worker as its own children, runs the SMTP sink, the SMSC
# emulator and the sweeps as threads, and serves the portal; see its docstring.
set -euo pipefail
UV=${UV:-uv}

# The ports, and the addresses that have to agree with them: the ESIA emulator is a
# separate origin, and the portal's callback and logout addresses are registered with it.
# Set any of them yourself to override (docs/operations.md, «Local development»).
export PORTAL_PORT=${PORTAL_PORT:-8000}
export EMULATOR_PORT=${EMULATOR_PORT:-8001}
export EMAIL_PORT=${EMAIL_PORT:-8025}
export SMPP_PORT=${SMPP_PORT:-2775}
portal="http://127.0.0.1:$PORTAL_PORT"
emulator="http://127.0.0.1:$EMULATOR_PORT"
export ESIA_BASE_URL=${ESIA_BASE_URL:-$emulator}
export ESIA_ISSUER=${ESIA_ISSUER:-$emulator/}
export ESIA_EMULATOR_ISSUER=${ESIA_EMULATOR_ISSUER:-$emulator/}
export ESIA_REDIRECT_URI=${ESIA_REDIRECT_URI:-$portal/login/esia/callback/}
export ESIA_LOGOUT_REDIRECT_URL=${ESIA_LOGOUT_REDIRECT_URL:-$portal/}
export NOTIFICATIONS_PORTAL_URL=${NOTIFICATIONS_PORTAL_URL:-$portal}
export FHIR_SYSTEM_BASE=${FHIR_SYSTEM_BASE:-$portal/fhir}

exec "$UV" run --frozen python manage.py serve_demo
