"""Messages for people that are English for API clients and logs and translated on pages (no Flask here).

`Text("Order #%(id)s placed.", id=7)` is the English sentence `"Order #7 placed."` — a `str`, so it goes into JSON
bodies, logs and comparisons unchanged — that also remembers its msgid and arguments, so `webapp.i18n.localize`
can look the msgid up in the current language's catalogue and fill in the same arguments. An argument that is a
`Text` itself (a field name, "Price") is translated too. `pybabel extract` collects `Text(...)` literals (the
keyword is set in mk/i18n.mk), so the catalogue knows every such msgid.
"""

from __future__ import annotations

from typing import Any


class Text(str):
    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Text:
        self = super().__new__(cls, msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self):  # flashed messages and pickles keep the English sentence
        return (str, (str(self),))


class BraceText(Text):
    """A Text whose msgid has str.format fields ("you have {balance}"), as the contract error table
    (webapp.chain.messages) writes them."""

    def __new__(cls, msgid: str, /, **params: Any) -> BraceText:
        self = str.__new__(cls, msgid.format(**params) if params else msgid)
        self.msgid = msgid
        self.params = params
        return self
