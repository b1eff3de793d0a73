from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "xinfang.org"
    verbose_name = "单位与用户"
