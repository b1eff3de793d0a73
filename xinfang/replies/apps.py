from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "xinfang.replies"
    verbose_name = "答复意见书"
    default_auto_field = "django.db.models.BigAutoField"
