"""Background tasks (django-tasks, database backend): they take ids and re-read the state.

Run by `python manage.py db_worker --queue-name delivery,zips` (or `'*'`) beside the web
server. A task killed half-way is safe: see `delivery.deliveries_supervise`.
"""

from django_tasks import task

from harmonie.validation import archives, delivery


@task(queue_name="delivery")
def message_deliver_task(message_id: int) -> str:
    return delivery.message_deliver(message_id=message_id)


@task(queue_name="delivery")
def deliveries_supervise_task(validation_id: int) -> bool:
    return delivery.deliveries_supervise(validation_id=validation_id)


@task(queue_name="zips")
def school_archive_build_task(archive_id: int) -> str:
    return archives.school_archive_build(archive_id=archive_id)
