"""StaffMember moves here from the workspace app, keeping its table: state only.

The table `workspace_staffmember` was created by workspace.0001; this migration makes
the model this app's, `workspace.0002` drops it from the workspace's state, and the
content type follows so the admin's permissions keep pointing at it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_to_staff(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="workspace", model="staffmember").update(
        app_label="staff"
    )


def content_type_to_workspace(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="staff", model="staffmember").update(
        app_label="workspace"
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("workspace", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StaffMember",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("role", models.CharField(choices=[("clerk", "регистратор"), ("head", "заведующий"), ("operator", "региональный оператор")], max_length=10, verbose_name="роль")),
                        ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="staff_member", to=settings.AUTH_USER_MODEL, verbose_name="учётная запись")),
                    ],
                    options={
                        "verbose_name": "сотрудник",
                        "verbose_name_plural": "сотрудники",
                        "db_table": "workspace_staffmember",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_to_staff, content_type_to_workspace),
    ]
