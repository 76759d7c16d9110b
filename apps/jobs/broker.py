"""One django-q2 broker per process, for every hand-off to the queue, and the hand-off itself.

`async_task` builds a new broker, and with it a new Redis connection, each time it is called without one: a
TCP connect and a handshake per queued job, which was most of what queueing a job cost. The broker is kept per
process (a forked worker opens its own connections) and per broker configuration (tests point it elsewhere).
"""
import os
from functools import lru_cache

from django_q.brokers import Broker, get_broker
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf
from django_q.tasks import async_task

#: Seconds a "queued, not started yet" mark lives (`queue_unless_waiting`): past it a lost task's mark no longer
#: holds hand-offs back. Whatever such a task was to do is also done by a schedule that runs at least this often.
WAITING_MARK_SECONDS = 60


def queue_broker() -> Broker:
    """The broker `async_task(..., broker=queue_broker())` hands tasks to."""
    return _broker(os.getpid(), repr((Conf.REDIS, Conf.ORM, Conf.DJANGO_REDIS, Conf.CLUSTER_NAME)))


@lru_cache(maxsize=4)
def _broker(pid: int, configuration: str) -> Broker:
    return get_broker()


def queue_task(func: str, *args, task_name: str) -> str:
    """Hand `func(*args)` to the workers through this process's broker; returns the task id.

    A task handed over here records its own outcome where the API shows it (a job's row, an event's relayed_at,
    a delivery's attempts), so django-q2 does not also save its success as a result row: that row repeated the
    outcome as a pickled payload, and writing it (with the pruning of older rows, under a lock) cost the cluster's
    one result process more than the task itself. A failure is still saved, for the operator.
    """
    return async_task(func, *args, task_name=task_name, broker=queue_broker(), save=False)


def queue_unless_waiting(func: str, *, task_name: str, mark: str) -> bool:
    """Queue `func()`, a task that does everything pending of one kind (relay every unrelayed event), unless one
    queued under `mark` has not started yet: that one will find this caller's work too, so a burst of hand-offs
    while the workers are busy costs one task, not one each. Returns whether it queued one.

    `func` must call `task_started(mark)` before it reads what is pending: whatever was committed before a
    hand-off that found the mark is then read by the task that clears it. The mark is a Redis key beside the
    queue, set only if absent; it expires after WAITING_MARK_SECONDS, so a task lost on its way to a worker holds
    nothing back for longer. On a broker without Redis (the ORM broker of a single-machine setup) every hand-off
    queues its task, as none can see another's mark.
    """
    broker = queue_broker()
    if isinstance(broker, Redis) and not broker.connection.set(_mark_key(mark), 1, nx=True,
                                                               ex=WAITING_MARK_SECONDS):
        return False
    try:
        queue_task(func, task_name=task_name)
    except Exception:
        task_started(mark)  # nothing is waiting under the mark: the next hand-off must queue its own task
        raise
    return True


def task_started(mark: str) -> None:
    """Called by a `queue_unless_waiting` task as it starts, before it reads what is pending."""
    broker = queue_broker()
    if isinstance(broker, Redis):
        broker.connection.delete(_mark_key(mark))


def _mark_key(mark: str) -> str:
    return f"django_q:{Conf.CLUSTER_NAME}:waiting:{mark}"
