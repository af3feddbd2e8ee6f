"""Languages of the dashboard (Flask-Babel): English and Malay.

The language is the user's choice from the switch in the page header (a `lang` cookie), else the browser's
Accept-Language, else English. Templates and Python mark strings with `_()`; catalogues live in
`webapp/translations/<lang>/LC_MESSAGES/messages.po` and are compiled to `.mo` by `make translations`.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

LANGUAGES = {"en": "English", "ms": "Bahasa Melayu"}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"

babel = Babel()


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def languages():
        from flask_babel import get_locale

        return {"languages": LANGUAGES, "current_language": str(get_locale() or DEFAULT_LANGUAGE)}
