"""`agents_settings`: TESSERA_AGENTS, the external agent service that runs issue_resolver and custom agents."""
from apps.api.conf import AppSettings

agents_settings = AppSettings("TESSERA_AGENTS", check_id="agents.E001", defaults={
    # Where runs of issue_resolver and custom agents are POSTed (empty: those types are not offered).
    "SERVICE_URL": "",
    # Sent as `Authorization: Bearer <secret>` so the service knows the run comes from this deployment.
    "SERVICE_SECRET": "",
    # Email of the service's account (role `agent`): its API key reports on the runs handed to it, nothing else.
    "SERVICE_ACCOUNT": "",
    # Seconds to wait for the service to accept a run.
    "SERVICE_TIMEOUT": 10,
    # This deployment's public base URL, from which the run's `report_url` is made (empty: only `report_path`).
    "CALLBACK_BASE_URL": "",
})


def service_configured() -> bool:
    return bool(agents_settings.SERVICE_URL and agents_settings.SERVICE_ACCOUNT)
