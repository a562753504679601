from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "portal.workspace"
    verbose_name = "Рабочее место сотрудника"
