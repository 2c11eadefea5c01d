"""Django settings for the test run: the real settings, with a throwaway data directory."""

import os
import tempfile

os.environ.setdefault("YAPDNS_DATA_DIR", tempfile.mkdtemp(prefix="yapdns-test-"))
os.environ.setdefault("YAPDNS_SECRET_KEY", "test-only-secret-key-not-for-production")

from yapdns.server.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast users in tests only
