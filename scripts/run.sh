#!/usr/bin/env bash
# Serve the portal for local use. Ctrl-C stops every process started here.
set -euo pipefail
UV=${UV:-uv}
trap 'trap - INT TERM EXIT; kill 0 2>/dev/null || true' INT TERM EXIT

# The ESIA emulator: the same project on its own origin, with development keys made on
# the first run (PORTAL_DATA_DIR/esia-dev/). It refuses to start when DEBUG is off.
# Other ports need ESIA_BASE_URL, ESIA_REDIRECT_URI and ESIA_LOGOUT_REDIRECT_URL to match.
PORTAL_PORT=${PORTAL_PORT:-8000}
EMULATOR_PORT=${EMULATOR_PORT:-8001}
"$UV" run --frozen python manage.py esia_dev_keys
DJANGO_SETTINGS_MODULE=portal.esia_emulator.settings \
  "$UV" run --frozen python manage.py runserver "127.0.0.1:$EMULATOR_PORT" --noreload &
echo "Эмулятор ЕСИА: http://127.0.0.1:$EMULATOR_PORT (тестовые пользователи — на его странице входа)"
# Ages and birth dates are counted from this week (portal/demo/personas.py).
"$UV" run --frozen python manage.py demo_personas

# Notifications (docs/notifications.md): a local SMTP sink, the SMSC emulator, the outbox
# worker and the sweep that finds due reminders.
export EMAIL_PORT=${EMAIL_PORT:-8025}
export SMPP_PORT=${SMPP_PORT:-2775}
"$UV" run --frozen python manage.py notifications_smtp_sink --port "$EMAIL_PORT" &
"$UV" run --frozen python manage.py smsc_emulator --port "$SMPP_PORT" &
"$UV" run --frozen python manage.py tasks_worker --interval 0.5 &
"$UV" run --frozen python manage.py notifications_sweep --every 30 &
# Offers of a held time (docs/waitlist.md): lapsed ones expire and pass to the next in line.
"$UV" run --frozen python manage.py waitlist_sweep --every 30 &
echo "Письма и SMS портала: http://127.0.0.1:$EMULATOR_PORT/dev/outbox/ (SMTP 127.0.0.1:$EMAIL_PORT, SMPP 127.0.0.1:$SMPP_PORT)"

echo "Портал пациента: http://127.0.0.1:$PORTAL_PORT"
"$UV" run --frozen python manage.py runserver "127.0.0.1:$PORTAL_PORT" --noreload &
wait
