"""Nothing but a database and URLs: the least a Django project can run."""
import os

from bench.peers.database import django_database

SECRET_KEY = os.environ["JWT_SIGNING_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = []
MIDDLEWARE = []
ROOT_URLCONF = "bench.peers.floor.urls"
DATABASES = {"default": django_database()}
USE_TZ = True
TIME_ZONE = "UTC"
