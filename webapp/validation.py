"""The one validation layer for what a request carries, before any service sees it (issue 15, item 6).

- **JSON bodies**: `parse_body(spec)` checks an object against a spec of typed fields (`Field`) and answers 400 with
  a sentence naming the field ("side must be one of 'buy', 'sell' (got an object)."); the API's OpenAPI request
  schemas are made from the same specs (`body_schema`), so the document and the check cannot disagree.
- **JSON nesting**: the app's JSON provider (`BoundedJSONProvider`) refuses documents nested deeper than
  `MAX_JSON_DEPTH`; 100 000 nested arrays used to overflow the parser's recursion (a 500).
- **Integers** in paths and forms: ASCII digits only (`str.isdigit` accepts '²', which `int` refuses), bounded to
  what the column or the contract holds: order ids to uint256, block numbers to int64 (`parse_uint`, and the URL
  converters `uint256` / `int64`, which answer 404 past the bound: no such order or block can exist).
- **Strings** in query strings and forms: no NUL character (PostgreSQL refuses it in a text parameter: a 500).

The request size (MAX_CONTENT_LENGTH, 413) is set from configuration and the Host header is checked before Flask
(webapp.hostcheck).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import BaseConverter, ValidationError

from webapp.errors import UserError

UINT256_MAX = 2**256 - 1
INT64_MAX = 2**63 - 1
MAX_JSON_DEPTH = 32
_DIGITS = re.compile(r"[0-9]{1,78}")  # 2**256 - 1 has 78 digits


# ---------------------------------------------------------------------- integers
def parse_uint(text: object, maximum: int) -> int | None:
    """`text` as a non-negative integer of ASCII digits no larger than `maximum`, else None."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 0 <= text <= maximum else None
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


class _BoundedInt(BaseConverter):
    regex = r"[0-9]{1,100}"
    maximum = INT64_MAX
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = parse_uint(value, self.maximum)
        if number is None:
            raise ValidationError()  # the rule does not match: 404, nothing can live at that number
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class UInt256Converter(_BoundedInt):
    """`<uint256:order_id>`: an id as the contracts count them."""

    maximum = UINT256_MAX


class Int64Converter(_BoundedInt):
    """`<int64:number>`: a number stored in a BIGINT column (block numbers)."""

    maximum = INT64_MAX


CONVERTERS = {"uint256": UInt256Converter, "int64": Int64Converter}


# ---------------------------------------------------------------------- JSON nesting
def check_depth(value: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise ValueError when containers nest deeper than `max_depth` (iterative: no recursion of its own)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > max_depth:
            raise ValueError(f"JSON nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than MAX_JSON_DEPTH (ValueError: a 400, never a 500)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from exc
        check_depth(value)
        return value


# ---------------------------------------------------------------------- strings in queries and forms
def refuse_nul_characters() -> None:
    """before_request: a NUL in a query or form value is a 400 (PostgreSQL cannot even compare such a string)."""
    values = list(request.args.items(multi=True))
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        values += list(request.form.items(multi=True))
    if any("\x00" in key or "\x00" in value for key, value in values):
        raise UserError("The request contains a NUL character, which no field accepts.", "invalid_characters")


# ---------------------------------------------------------------------- JSON bodies
_JSON_TYPES = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}
_NAMES = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
          "object": "an object", "array": "an array"}  # fmt: skip


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "unknown")


@dataclass(frozen=True)
class Field:
    """One field of a JSON body: its JSON types, and the code of the 400 it answers when it does not fit."""

    types: tuple[str, ...]
    code: str = "invalid_field"
    required: bool = False
    enum: tuple[Any, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    description: str = ""

    def check(self, name: str, value: Any) -> Any:
        kind = json_type(value)
        if self.enum is not None:
            if kind not in self.types or value not in self.enum:
                choices = ", ".join(repr(v) for v in self.enum)
                raise UserError(f"{name} must be one of {choices} (got {_got(value)}).", self.code)
            return value
        if not any(kind == t or (t == "number" and kind == "integer") for t in self.types):
            wanted = " or ".join(_NAMES[t] for t in self.types)
            raise UserError(f"{name} must be {wanted} (got {_got(value)}).", self.code)
        if kind == "integer" and (
            (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum)
        ):
            bound = f"from {self.minimum} to {self.maximum}"
            if self.maximum is None:
                bound = f"of at least {self.minimum}"
            elif self.minimum is None:
                bound = f"of at most {self.maximum}"
            raise UserError(f"{name} must be an integer {bound}.", self.code)
        if kind == "string":
            if "\x00" in value:
                raise UserError(f"{name} must not contain a NUL character.", self.code)
            if self.max_length is not None and len(value) > self.max_length:
                raise UserError(f"{name} must be at most {self.max_length} characters.", self.code)
            if self.min_length is not None and len(value) < self.min_length:
                raise UserError(f"{name} must be at least {self.min_length} characters.", self.code)
            if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
                raise UserError(f"{name} is not in the expected form{self.description and ': ' + self.description}.",
                                self.code)  # fmt: skip
        return value

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.enum is not None:
            out["enum"] = list(self.enum)
        else:
            out["type"] = self.types[0] if len(self.types) == 1 else list(self.types)
        for key, value in (("minimum", self.minimum), ("maximum", self.maximum), ("minLength", self.min_length),
                           ("maxLength", self.max_length), ("pattern", self.pattern and f"^{self.pattern}$"),
                           ("description", self.description or None)):  # fmt: skip
            if value is not None:
                out[key] = value
        return out


def _got(value: Any) -> str:
    kind = json_type(value)
    return {"string": "a string", "null": "null", "object": "an object", "array": "an array"}.get(kind, repr(value))


def body_schema(spec: dict[str, Field], maximums: dict[str, int] | None = None) -> dict[str, Any]:
    """The JSON schema of a body spec (the OpenAPI request schema); `maximums` adds the configured upper bounds
    that the routes check (price, amount)."""
    maximums = maximums or {}
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    for name, field in spec.items():
        if name in maximums:
            field = replace(field, maximum=maximums[name])
        schema["properties"][name] = field.schema()
    required = [k for k, f in spec.items() if f.required]
    if required:
        schema["required"] = required
    return schema


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object (400 `invalid_json` with the parser's reason otherwise)."""
    try:
        body = current_app.json.loads(request.get_data(cache=True))
    except ValueError as exc:  # not JSON, not UTF-8, or nested too deep
        detail = f" ({exc})" if "nested deeper" in str(exc) else ""
        raise UserError(f"The request body must be a JSON object{detail}.", "invalid_json") from exc
    if not isinstance(body, dict):
        raise UserError("The request body must be a JSON object.", "invalid_json")
    return body


def parse_body(spec: dict[str, Field]) -> dict[str, Any]:
    """The request's JSON object with every field of `spec` type-checked; fields not in the spec are dropped."""
    body = json_object()
    out: dict[str, Any] = {}
    for name, field in spec.items():
        if name not in body:
            if field.required:
                raise UserError(f"{name} is required.", field.code)
            continue
        out[name] = field.check(name, body[name])
    return out
