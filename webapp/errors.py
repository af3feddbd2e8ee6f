"""Errors a user can cause, and the handlers that turn every error into a clear page or JSON body (never a trace).

Messages are English (a `webapp.text.Text` or a literal msgid): JSON bodies carry them as they are, for clients
that parse them; pages and flashes show `UserError.localized()`, the user's language (webapp.i18n.localize)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from webapp.i18n import localize
from webapp.text import Text

log = logging.getLogger(__name__)


class UserError(Exception):
    """Something the user can fix; `code` is stable for API clients, `message` is for people."""

    status = 400

    def __init__(self, message: str, code: str = "bad_request", status: int | None = None,
                 retry_after: int | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after  # seconds, sent as Retry-After (busy or rate-limited)
        if status is not None:
            self.status = status

    def localized(self) -> str:
        """The message in the page's language (API bodies use `message`, always English)."""
        return localize(self.message)


class ChainUnavailable(UserError):
    status = 503

    def __init__(
        self, message: str = Text("The energy chain is not reachable right now. Try again in a moment.")
    ) -> None:
        super().__init__(message, "chain_unavailable", 503)


class TransactionRejected(UserError):
    """The contract refused the transaction; `error_name` is the decoded custom error."""

    def __init__(self, message: str, error_name: str | None, tx_hash: str | None = None) -> None:
        super().__init__(message, "transaction_rejected", 422)
        self.error_name = error_name
        self.tx_hash = tx_hash


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.is_json or request.accept_mimetypes.best == "application/json"


def api_error(code: str, message: str, status: int, **extra: object):
    body: dict[str, object] = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return jsonify({"error": body}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(UserError)
    def user_error(exc: UserError):
        response = app.make_response(_user_error(exc))
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    def _user_error(exc: UserError):
        extra = {}
        if isinstance(exc, TransactionRejected):
            extra = {"error_name": exc.error_name, "tx_hash": exc.tx_hash}
        if wants_json():
            return api_error(exc.code, exc.message, exc.status, **extra)
        if request.method == "POST" and exc.status < 500:
            # A form post: show the message on the page the user came from (post/redirect/get).
            flash(exc.localized(), "error")
            return redirect(request.referrer or url_for("home.index"))
        return render_template("error.html", status=exc.status, message=exc.localized()), exc.status

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = Text("Your form expired or came from another site. Reload the page and try again.")
        if wants_json():
            return api_error("csrf", message, 400)
        return render_template("error.html", status=400, message=localize(message)), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = {
            401: Text("Please log in first."),
            403: Text("You are not allowed to see this page."),
            404: Text("There is nothing at this address."),
            405: Text("That action is not allowed here."),
            413: Text(
                "The request body is too large: at most %(limit)s bytes.",
                limit=current_app.config.get("MAX_CONTENT_LENGTH"),
            ),
            429: Text("Too many attempts. Wait a minute and try again."),
        }.get(status, exc.description or exc.name)
        if wants_json():
            return api_error(exc.name.lower().replace(" ", "_"), message, status)
        return render_template("error.html", status=status, message=localize(message)), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        message = Text("Something went wrong on our side. It has been logged; please try again.")
        if wants_json():
            return api_error("internal", message, 500)
        return render_template("error.html", status=500, message=localize(message)), 500
