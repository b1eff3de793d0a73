from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "xinfang.reception"
    verbose_name = "接待台与领导接待"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xinfang.cases import desk
        from xinfang.reception import receivers  # noqa: F401  (connects the signal receivers)
        from xinfang.reception.services import booked_person

        if booked_person not in desk.PERSON_SOURCES:
            desk.PERSON_SOURCES.append(booked_person)
