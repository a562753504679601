#!/usr/bin/env bash
# Serve the portal for local use. Ctrl-C stops every process started here.
set -euo pipefail
UV=${UV:-uv}
trap 'trap - INT TERM EXIT; kill 0 2>/dev/null || true' INT TERM EXIT

# The ESIA emulator: the same project on its own origin, with development keys made on
# the first run (PORTAL_DATA_DIR/esia-dev/). It refuses to start when DEBUG is off.
"$UV" run --frozen python manage.py esia_dev_keys
DJANGO_SETTINGS_MODULE=portal.esia_emulator.settings \
  "$UV" run --frozen python manage.py runserver 127.0.0.1:8001 --noreload &
echo "Эмулятор ЕСИА: http://127.0.0.1:8001 (тестовые пользователи — на его странице входа)"

echo "Портал пациента: http://127.0.0.1:8000"
"$UV" run --frozen python manage.py runserver 127.0.0.1:8000 --noreload &
wait
