"""The API client fixture of tests/api, for the security tests that try the API too."""

from tests.api.conftest import as_user  # noqa: F401
