"""`jobs_settings`: TESSERA_JOBS, the job engine's knobs, with their defaults."""
from apps.api.conf import AppSettings

jobs_settings = AppSettings("TESSERA_JOBS", check_id="jobs.E010", defaults={
    # A running job whose heartbeat is older than this is taken to have lost its worker (re-run or failed).
    "STALE_AFTER_SECONDS": 30,
    # A queued job no worker claimed for this long is handed to the queue again (the broker may have lost it).
    "REHAND_AFTER_SECONDS": 600,
})
