from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xinfang.core"
    verbose_name = "基础"

    def ready(self) -> None:
        from xinfang.core import db

        db.install()
