from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "portal.patients"
    label = "patients"
    verbose_name = "Пациенты"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from portal.patients.signals import attach_from_registry_on_login

        user_logged_in.connect(attach_from_registry_on_login, dispatch_uid="patients_registry")
