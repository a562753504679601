"""`manage.py serve_demo`: the development stand of `make run` in one process.

What twelve `manage.py` start-ups used to do one after another (docs/performance.md,
«make run»): this process sets everything up and then serves the portal itself, so
Django is imported three times instead of twelve.

1. Development keys (PORTAL_DATA_DIR/esia-dev/) and the migrations: a no-op when
   nothing changed, and a new SQLite database starts from a kept migrated copy
   (`portal.demo.migrated`).
2. The ESIA emulator (its own settings module) starts as a child process while this one
   loads the demo region (`load_demo`'s steps, which skip what is already there).
   Then the task workers (`tasks_worker`: they also run the fair-release draws and poll
   the outbox, which sends the confirmations) start as niced children; the SMTP sink, the
   SMSC emulator, the notifications sweep (it writes reminders when they fall due) and the
   waitlist sweep run as threads here.
3. The personas are printed and the portal is served from this process (`runserver`,
   no autoreload) once the demo is loaded, so the first page never shows half a region.

Ctrl-C (or SIGTERM) stops everything: the threads die with the process, and the two
child processes are sent SIGTERM, then SIGKILL; they also get SIGTERM if this process
dies without cleaning up (PR_SET_PDEATHSIG). Development only: it refuses to run with
the ESIA emulator off.
"""

import _thread
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.demo import migrated
from portal.demo.management.commands.load_demo import DEMO_STEPS
from portal.identity.devkeys import dev_keys_ensure
from portal.notifications.delivery import EMAIL_QUEUE

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
_STOPPING = threading.Event()


def _child_setup(nice: int) -> None:
    """In the child, before exec: its niceness, and SIGTERM when the parent dies
    (PR_SET_PDEATHSIG: Linux; elsewhere skipped)."""
    if nice:
        os.nice(nice)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)


class Command(BaseCommand):
    help = "Set up the demo stand and serve it (make run): the portal and its services."
    # migrate and runserver run their own checks; nothing to check before them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        env = os.environ.get
        parser.add_argument("--port", type=int, default=int(env("PORTAL_PORT", "8000")))
        parser.add_argument("--emulator-port", type=int, default=int(env("EMULATOR_PORT", "8001")))
        parser.add_argument("--email-port", type=int, default=settings.EMAIL_PORT)
        parser.add_argument("--smpp-port", type=int, default=settings.SMPP_PORT)
        parser.add_argument("--sweep-every", type=float, default=30)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.ESIA_EMULATOR_ENABLED:
            raise CommandError("serve_demo is the development stand: the ESIA emulator is off.")
        self.children: list[subprocess.Popen[bytes]] = []
        self.started = time.monotonic()
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self._run(options)
        except KeyboardInterrupt:
            pass
        finally:
            # A second Ctrl-C (or a service thread failing as the process ends) must not
            # cut the clean-up short and leave a child behind.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            _STOPPING.set()
            self._stop_children()

    def _say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _phase(self, name: str) -> None:
        """Where the start-up is, and how long since it began (scripts/time_first_page.py
        reads these lines)."""
        self._say(f"[{time.monotonic() - self.started:4.1f} с] {name}")

    def _run(self, options: dict[str, Any]) -> None:
        port, emulator_port = options["port"], options["emulator_port"]
        self._phase("ключи ЕСИА")
        for cert in dev_keys_ensure(settings):
            self._say(f"Ключи ЕСИА для разработки: {cert}")
        self._phase("миграции")
        self._say(migrated.migrate())
        # Its own process: its own settings module. It starts while the demo loads.
        self._spawn(
            "runserver", f"127.0.0.1:{emulator_port}", "--noreload", "--skip-checks",
            env={"DJANGO_SETTINGS_MODULE": "portal.esia_emulator.settings"},
        )  # fmt: skip
        self._phase("демо-регион")
        for step in DEMO_STEPS:
            step.load(scale=1, log=self._say)
        self._phase("статика, персоны, уведомления")
        call_command("collectstatic", interactive=False, verbosity=0)
        self._say(
            f"Эмулятор ЕСИА: http://127.0.0.1:{emulator_port} "
            "(тестовые пользователи — на его странице входа)"
        )
        # Ages and birth dates are counted from this week (portal/demo/personas.py).
        call_command("demo_personas", portal_url=f"http://127.0.0.1:{port}", stdout=self.stdout)

        # Notifications (docs/notifications.md): the outbox worker in its own process (it
        # also runs the fair-release draws), niced: on a busy machine the portal's own
        # start-up comes first. The sink, the SMSC and both sweeps run as threads here,
        # started after the demo load, which they would slow down (one interpreter).
        # E-mail's worker apart: a hung relay must not hold up SMS, offers and draws.
        self._spawn("tasks_worker", "--interval", "0.5", "--queue-name", EMAIL_QUEUE, nice=10)
        self._spawn(
            "tasks_worker", "--interval", "0.5", "--queue-name", "*",
            "--exclude-queues", EMAIL_QUEUE, nice=10,
        )  # fmt: skip
        every = str(options["sweep_every"])
        for name, command_args in [
            ("notifications_smtp_sink", ["--port", str(options["email_port"])]),
            ("smsc_emulator", ["--port", str(options["smpp_port"])]),
            ("notifications_sweep", ["--every", every]),
            # Offers of a held time (docs/waitlist.md): lapsed ones pass to the next in line.
            ("waitlist_sweep", ["--every", every]),
        ]:
            _service_thread(name, command_args).start()
        self._say(
            f"Письма и SMS портала: http://127.0.0.1:{emulator_port}/dev/outbox/ "
            f"(SMTP 127.0.0.1:{options['email_port']}, SMPP 127.0.0.1:{options['smpp_port']})"
        )
        self._phase("сервер портала")
        self._say(f"Портал пациента: http://127.0.0.1:{port}")
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)

    def _spawn(self, *command: str, env: dict[str, str] | None = None, nice: int = 0) -> None:
        process = subprocess.Popen(
            [sys.executable, MANAGE, *command],
            env={**os.environ, **(env or {})},
            preexec_fn=partial(_child_setup, nice),  # both children start before any thread
        )
        self.children.append(process)

    def _stop_children(self) -> None:
        for process in self.children:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 5
        for process in self.children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                process.kill()
                process.wait()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _service_thread(name: str, args: list[str]) -> threading.Thread:
    """A long-running command in a daemon thread; if it fails, the whole stand stops
    (a taken port must not leave a stand that silently sends no mail)."""

    def run() -> None:
        try:
            call_command(name, *args)
        except BaseException as error:  # reported, then the stand stops
            if not _STOPPING.is_set():
                sys.stderr.write(f"{name} остановлен: {error!r}\n")
                _thread.interrupt_main()

    return threading.Thread(target=run, name=name, daemon=True)
