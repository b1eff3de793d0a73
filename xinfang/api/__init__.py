"""The JSON API (Django Ninja): ``api.py`` wires HTTP to the domain services and selectors,
``schemas.py`` holds the request/response shapes, ``auth.py`` the token and session auth."""
