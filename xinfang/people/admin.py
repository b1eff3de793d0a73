"""People are personal data: no admin list (masked views and audited reveals live in the app)."""
