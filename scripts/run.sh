#!/usr/bin/env bash
# Serve the portal for local use. Ctrl-C stops every process started here.
set -euo pipefail
UV=${UV:-uv}
trap 'trap - INT TERM EXIT; kill 0 2>/dev/null || true' INT TERM EXIT

echo "Портал пациента: http://127.0.0.1:8000"
"$UV" run --frozen python manage.py runserver 127.0.0.1:8000 --noreload &
wait
