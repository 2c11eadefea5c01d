from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yapdns.server.accounts"
    label = "accounts"
    verbose_name = "Accounts"
