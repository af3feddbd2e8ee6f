"""Languages of the dashboard (Flask-Babel): English and Malay.

The language is the user's choice from the switch in the page header (a `lang` cookie), else the browser's
Accept-Language, else English. Templates and Python mark strings with `_()`; catalogues live in
`webapp/translations/<lang>/LC_MESSAGES/messages.po` and are compiled to `.mo` by `make translations`.

Messages that also go to API clients (UserError, InvalidAmount, the password policy) stay English where they are
made — a `webapp.text.Text` or a literal msgid — and pages translate them where they are shown, with `localize`:
the HTML error handler, flashes and the chain errors pages print. API JSON bodies are never translated (clients
parse them). Numbers keep the decimal point in both languages (people may type a point or a comma, units.py);
dates are numeric (ISO) except month names, which follow the language (`month_day`).
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime
from pathlib import Path

from babel.dates import format_date
from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale, gettext

from webapp.text import BraceText, Text

LANGUAGES = {"en": "English", "ms": "Bahasa Melayu"}
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"

babel = Babel()

# Words stored as data and shown as they are (order sides and states, trade venues, top-up states): the `term`
# filter shows them in the page's language; a value not listed here is shown unchanged.
TERMS = {
    t: t
    for t in (
        Text("buy"), Text("sell"), Text("open"), Text("filled"), Text("cancelled"), Text("expired"),
        Text("closed"), Text("cleared"), Text("book"), Text("auction"), Text("offer"), Text("pending"),
        Text("minting"), Text("credited"), Text("rejected"), Text("failed"),
    )
}  # fmt: skip


def select_locale() -> str:
    if not has_request_context():  # the demo bot, the keeper, the CLI: services speak English outside a request
        return DEFAULT_LANGUAGE
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def localize(message: str) -> str:
    """`message` in the current language: a Text by its msgid and arguments (Text arguments translated too), a
    plain string as a msgid; text the catalogue does not know stays as it is (English)."""
    if not message or not has_request_context():
        return message
    if isinstance(message, Text):
        params = {k: localize(v) if isinstance(v, Text) else v for k, v in message.params.items()}
        if isinstance(message, BraceText):
            return gettext(message.msgid).format(**params)
        return gettext(message.msgid, **params) if params else gettext(message.msgid)
    return gettext(message)


def term(value: object) -> object:
    """A stored word (an order's side or state, a trade's venue) in the page's language."""
    known = TERMS.get(value) if isinstance(value, str) else None
    return localize(known) if known is not None else value


_JS = Path(__file__).resolve().parent / "static" / "js"
# the scripts whose _("...") texts base.html passes in #messages
SCRIPTS = (_JS / "app.js", _JS / "sealed.js", _JS / "offers.js")
_SCRIPT_MSGID = re.compile(r'\b_\(\s*"((?:[^"\\]|\\.)*)"')


@functools.cache
def script_msgids() -> tuple[str, ...]:
    """The msgids of the dashboard script (its `_("...")` calls, which `make translations-extract` collects too),
    and the stored words it shows (a trade's venue)."""
    found = [json.loads(f'"{m}"') for js in SCRIPTS for m in _SCRIPT_MSGID.findall(js.read_text(encoding="utf-8"))]
    return tuple(dict.fromkeys([*found, *TERMS]))


def script_messages() -> dict[str, str]:
    """What the dashboard script needs in the page's language: {msgid: translation}, nothing in English."""
    if str(get_locale() or DEFAULT_LANGUAGE) == DEFAULT_LANGUAGE:
        return {}
    return {m: t for m in script_msgids() if (t := gettext(m)) != m}


def duration(seconds: int) -> str:
    """'3 min 2 s' in English, '3 min 2 saat' in Malay (webapp.formatting.humanize_seconds with translated units)."""
    from webapp.formatting import humanize_seconds  # formatting imports webapp.errors, which imports this module

    if not has_request_context():
        return humanize_seconds(seconds)
    units = (gettext("%(n)d d"), gettext("%(n)d h"), gettext("%(n)d min"), gettext("%(n)d s"))
    return humanize_seconds(seconds, units)


def month_day(moment: datetime) -> str:
    """'1 Dec' in English, '1 Dis' in Malay: the day and the language's abbreviated month name."""
    locale = str(get_locale() or DEFAULT_LANGUAGE) if has_request_context() else DEFAULT_LANGUAGE
    return format_date(moment, "d MMM", locale=locale)


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["term"] = term

    @app.context_processor
    def languages():
        return {"languages": LANGUAGES, "current_language": str(get_locale() or DEFAULT_LANGUAGE),
                "script_messages": script_messages}  # fmt: skip
