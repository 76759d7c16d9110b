"""One django-q2 broker per process, for every hand-off to the queue.

`async_task` builds a new broker, and with it a new Redis connection, each time it is called without one: a
TCP connect and a handshake per queued job, which was most of what queueing a job cost. The broker is kept per
process (a forked worker opens its own connections) and per broker configuration (tests point it elsewhere).
"""
import os
from functools import lru_cache

from django_q.brokers import Broker, get_broker
from django_q.conf import Conf


def queue_broker() -> Broker:
    """The broker `async_task(..., broker=queue_broker())` hands tasks to."""
    return _broker(os.getpid(), repr((Conf.REDIS, Conf.ORM, Conf.DJANGO_REDIS, Conf.CLUSTER_NAME)))


@lru_cache(maxsize=4)
def _broker(pid: int, configuration: str) -> Broker:
    return get_broker()
