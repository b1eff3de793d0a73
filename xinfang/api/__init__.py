"""The JSON API (Django Ninja). ``api.py`` holds the NinjaAPI instance and mounts the routers
(``cases.py``, ``actions.py``, ``attachments.py``); ``errors.py`` shapes every error,
``access.py`` fetches only visible cases, ``serialize.py`` builds the response dicts that
``schemas.py`` describes, and ``auth.py`` holds the token and session auth."""
