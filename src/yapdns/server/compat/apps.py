from django.apps import AppConfig


class CompatConfig(AppConfig):
    name = "yapdns.server.compat"
    label = "compat"
    verbose_name = "DNSDB and CIRCL compatible APIs"
