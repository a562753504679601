"""A test SMSC speaking SMPP 3.4 over TCP, for development and the tests.

It accepts any message for any number: never enable it where real SMS must go out.
It refuses to start when DEBUG is off (see ``SMSC_EMULATOR_ENABLED`` in settings and
docs/notifications.md, "SMS over SMPP").
"""
