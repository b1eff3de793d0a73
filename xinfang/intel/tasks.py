"""Background tasks of the intelligence features (django-tasks; worker: ``manage.py db_worker``)."""

from __future__ import annotations

from django_tasks import task


@task()
def retrain_model(version_id: int | None = None) -> str:
    """Retrain the routing model (registry.retrain). ``version_id`` is the ``training`` row made
    by ``registry.retrain_request``; ids, not objects, cross the queue. Returns the outcome for
    the task result (the row carries the details)."""
    from xinfang.intel.registry import retrain

    mv = retrain(pending_id=version_id)
    return f"{mv.state} {mv.version[:12]}".strip()
