"""The demo region of `make run`: geography, clinics, doctors, the registry, schedules, personas.

Nothing outside this package and the ESIA emulator imports it; `manage.py load_demo`
loads it and `manage.py demo_personas` prints whom to log in as.
"""
