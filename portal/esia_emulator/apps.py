from django.apps import AppConfig


class EsiaEmulatorConfig(AppConfig):
    name = "portal.esia_emulator"
    label = "esia_emulator"
    verbose_name = "Эмулятор ЕСИА (только для разработки и тестового стенда)"
