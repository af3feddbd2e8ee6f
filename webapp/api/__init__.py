"""JSON API under /api/v1 (OpenAPI document at /api/v1/openapi.json).

Authentication: the session cookie (browsers) or `Authorization: Bearer <token>` from POST /api/v1/auth/login.
CSRF: the API is exempt from form tokens because every write must be `Content-Type: application/json`
(a cross-site form cannot send that without a CORS preflight, which this app never grants) and cookies are
SameSite=Lax. Errors are 4xx/503 with {"error": {"code", "message"}}.
"""

from __future__ import annotations

from flask import Blueprint, request

from webapp.errors import UserError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def require_json_writes():
    if request.method in {"POST", "PUT", "PATCH"} and not request.is_json:
        raise UserError("Send a JSON body with Content-Type: application/json.", "json_required", 415)


from webapp.api import routes  # noqa: E402,F401 - registers the routes on bp
