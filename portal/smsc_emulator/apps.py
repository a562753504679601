from django.apps import AppConfig


class SmscEmulatorConfig(AppConfig):
    name = "portal.smsc_emulator"
    label = "smsc_emulator"
    verbose_name = "Эмулятор SMSC (только для разработки и тестового стенда)"
