"""StaffMember now belongs to the staff app (staff.0001 took it over, table and all)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("workspace", "0001_initial"),
        ("staff", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StaffMember")],
            database_operations=[],
        ),
    ]
