"""Is a task recorded on a row still coming? The one judgement of a django-tasks result
that delivery and the school zips both make before they hand work to a new task.

Below `delivery` and `archives` (it imports neither, nor `tasks`), so that both use it.
"""

from datetime import datetime

from django_tasks import TaskResult, TaskResultStatus
from django_tasks.base import Task
from django_tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch


def task_result(task: Task, task_id: str) -> TaskResult | None:
    """The task's result as the backend keeps it; None when it has none under this id."""
    try:
        return task.get_result(task_id)
    except (TaskResultDoesNotExist, TaskResultMismatch, ValueError):
        return None


def task_alive(task: Task, task_id: str, *, started_after: datetime) -> bool:
    """Is this task still waiting to run, or running since `started_after`? (Longer, its
    worker died with it.)"""
    result = task_result(task, task_id) if task_id else None
    if result is None:
        return False
    if result.status == TaskResultStatus.READY:
        return True
    if result.status == TaskResultStatus.RUNNING:
        return bool(result.started_at and result.started_at > started_after)
    return False
