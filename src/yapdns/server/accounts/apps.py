"""accounts: users, their roles and their query tokens.

Models ``ApiToken`` (``models.py``); roles are Django groups (``roles.py``);
``services.py`` creates and revokes query tokens for the CLI, the API and the
dashboard; ``views.py`` serves ``/api/v1/tokens`` (``urls.py``). Tests:
``tests/server/accounts/``.
"""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yapdns.server.accounts"
    label = "accounts"
    verbose_name = "Accounts"
