"""`projects_settings`: TESSERA_PROJECTS, which repositories a project may point at."""
from apps.api.conf import AppSettings

projects_settings = AppSettings("TESSERA_PROJECTS", check_id="projects.E001", defaults={
    # Directories under which a self-hosted deployment keeps git repositories that projects may use by path.
    # Empty by default: only GitHub repositories (https://github.com/<owner>/<name>) are accepted.
    "LOCAL_REPOSITORY_ROOTS": [],
})
