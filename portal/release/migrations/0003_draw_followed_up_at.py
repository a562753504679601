from django.db import migrations, models
from django.db.models import F


def finished_draws_followed_up(apps, schema_editor):
    """Draws finished before the follow-up was a task were followed up by the draw itself:
    the sweep (`release.follow_up.follow_ups_missing`) must not tell their losers again."""
    Draw = apps.get_model("release", "Draw")
    Draw.objects.filter(finished_at__isnull=False).update(followed_up_at=F("finished_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("release", "0002_request_fitting"),
    ]

    operations = [
        migrations.AddField(
            model_name="draw",
            name="followed_up_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="проигравшие обработаны"
            ),
        ),
        migrations.RunPython(finished_draws_followed_up, migrations.RunPython.noop),
    ]
