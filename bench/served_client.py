"""Django's test client with the connection handling of a served request, for the
in-process profiles (`bench.profile`, `bench.rush_profile`).

The test client unhooks ``close_old_connections`` from ``request_started``, so a request
through it keeps the previous one's connection state: no health check of the kept
connection is ever due. Under gunicorn every request starts with that reset, and the
``SELECT 1`` it led to cost 8–9 % of a page that these profiles never saw
(docs/performance.md, «The user's read as the health check»). `ServedClient` runs the
reset before each request, as the server's ``request_started`` does; import it once
Django is set up.

Its POSTs are URL-encoded, as a browser sends a form without ``enctype`` and as the load
generator sends them (`bench.loadgen`): the test client's default, multipart, cost
Django's multipart parser about 0.4 ms a POST that no served request pays.
"""

from typing import Any
from urllib.parse import urlencode

from django.db import close_old_connections
from django.test import Client


class ServedClient(Client):
    def request(self, **request: Any) -> Any:
        close_old_connections()  # what request_started runs for a served request
        return super().request(**request)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        if isinstance(data, dict):
            data = urlencode(data)
            extra.setdefault("content_type", "application/x-www-form-urlencoded")
        return super().post(path, data, **extra)
