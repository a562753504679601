from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "portal.directory"
    label = "directory"
    verbose_name = "Справочники"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from portal.directory.cache import model_changed
        from portal.directory.models import Clinic, District, Doctor, Specialty

        # Every saved or deleted directory row starts a new generation of the cache.
        for model in (District, Clinic, Specialty, Doctor):
            post_save.connect(model_changed, sender=model, dispatch_uid=f"directory-{model}")
            post_delete.connect(model_changed, sender=model, dispatch_uid=f"directory-d-{model}")
