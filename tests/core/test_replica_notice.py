"""A page read from the replica (degraded mode) says so above its content."""

from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string

NOTICE = "Сведения на этой странице взяты из резервной копии"


def _page(rf, **attributes):
    request = rf.get("/districts/")
    request.user = AnonymousUser()
    request.session = {}
    for name, value in attributes.items():
        setattr(request, name, value)
    return render_to_string("base.html", request=request)


def test_only_a_page_read_from_the_replica_carries_the_notice(rf):
    assert NOTICE in _page(rf, reads_from_replica=True)
    assert NOTICE not in _page(rf)
