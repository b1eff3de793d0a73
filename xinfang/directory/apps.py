from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "xinfang.directory"
    verbose_name = "办事指南（管辖目录）"
    default_auto_field = "django.db.models.BigAutoField"
