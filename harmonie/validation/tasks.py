"""The validation's background tasks (django-tasks, database backend), for the worker.

Run by `python manage.py db_worker --queue-name delivery,zips` (or `'*'`) beside the web
server. A task killed half-way is safe: see `delivery.deliveries_supervise`.

Each task is declared beside the code that runs and enqueues it (`delivery`, `archives`),
so that no module imports one that imports it back. They are named here too: tasks queued
before they moved keep their stored path (`harmonie.validation.tasks.<name>`), which the
worker imports.
"""

from harmonie.validation.archives import school_archive_build_task, school_archive_part_task
from harmonie.validation.delivery import deliveries_supervise_task, message_deliver_task

__all__ = [
    "deliveries_supervise_task",
    "message_deliver_task",
    "school_archive_build_task",
    "school_archive_part_task",
]
