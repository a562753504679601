"""gunicorn's settings for the portal: `gunicorn -c python:portal.gunicorn_conf portal.wsgi`.

The application is loaded once, in the master, and warmed there (docs/performance.md,
«Workers forked warm»): every module the URLconf imports, every template compiled, the
Russian catalogs read. Each worker is then forked from that process and starts warm,
sharing those pages of memory with its siblings instead of building its own copy on its
first requests — which, at a fair release's opening, are the busiest second of the day.

`gc.freeze()` before each fork moves what the master built out of the collector's reach,
so a worker's collections neither walk those objects nor write to their pages (which
would copy them into the worker: the Python documentation's advice for `fork()`).

Nothing that talks to another process is opened in the master: the warm-up reads files
only, and the master closes any database connection before it forks, so no two workers
ever share a socket (a Redis client needs nothing: redis-py's pool starts afresh in a
process whose pid is not its creator's).
"""

import gc
from typing import Any

preload_app = True
worker_class = "sync"


def when_ready(server: Any) -> None:
    from portal.core.warm import process_warm

    compiled = process_warm()
    server.log.info("warmed in the master (%d templates compiled); workers fork from it", compiled)


def pre_fork(server: Any, worker: Any) -> None:
    from portal.core.warm import connections_drop

    connections_drop()
    gc.freeze()
