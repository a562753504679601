"""The draw at its opening moment, through the task queue (docs/fair-release.md).

Running it twice, late, or for a cancelled ballot does nothing harmful (`draw_run`).
`manage.py release_draws` is the fallback when the queue is down.
"""

from django_tasks import task

from portal.release.draws import draw_run


@task()
def draw_due(ballot_id: int) -> int | None:
    draw = draw_run(ballot_id=ballot_id)
    return draw.pk if draw is not None else None
