"""Signal receivers of the reception app (connected in ``apps.ready``)."""
