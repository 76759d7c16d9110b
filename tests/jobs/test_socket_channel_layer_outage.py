"""A WebSocket whose channel layer is down closes with 4503, is counted, and readiness says why.

The layer points at a Redis port where nothing listens: a real refused connection, not a mock.
"""
import logging

import pytest

from apps.jobs.models import Job
from tests.servers import free_port

from .conftest import Socket, access_token

pytestmark = pytest.mark.usefixtures("transactional_db")

LAYER_UNAVAILABLE = 4503


@pytest.fixture
def dead_channel_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": [f"redis://127.0.0.1:{free_port()}/0"]}}}


@pytest.fixture
def job(user, tenant):
    return Job.objects.create(tenant=tenant, created_by=user, type="jobs.probe", status=Job.Status.RUNNING)


@pytest.mark.parametrize("path", ["/ws/jobs/", "/ws/jobs/{id}/"])
def test_a_socket_closes_with_4503_when_the_channel_layer_is_unreachable(dead_channel_layer, user, job, path):
    with Socket(path.format(id=job.pk), token=access_token(user)) as socket:
        code = socket.close_code()

    assert code == LAYER_UNAVAILABLE


class Collected(logging.Handler):
    """The records of one logger, kept on that logger itself: the socket logs from a thread of its own, and once in
    a shuffled run pytest's caplog, on the root logger, showed none of it while the console handler printed it."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def consumer_warnings():
    collected, logger = Collected(), logging.getLogger("apps.jobs.consumers")
    logger.addHandler(collected)
    yield collected.messages
    logger.removeHandler(collected)


def test_the_failure_is_logged_and_counted_in_metrics(dead_channel_layer, user, job, consumer_warnings, admin_client):
    with Socket("/ws/jobs/", token=access_token(user)) as socket:
        socket.close_code()

    metrics = admin_client.get("/metrics").content.decode()

    assert 'tessera_websocket_failures_total{reason="channel_layer"} 1.0' in metrics
    assert "Channel layer unreachable: WebSocket /ws/jobs/ closed with 4503" in consumer_warnings


def test_readiness_names_the_channel_layer_while_it_is_unreachable(dead_channel_layer, anon_client):
    response = anon_client.get("/health/ready")

    assert response.status_code == 503
    assert "channel_layer" in response.json()["error"]["details"]
