"""The form fields of a request body that a page read, for the development
error page (explain.details): urlencoded, or multipart/form-data, where an
uploaded file is named with its size and never shown. Only what the worker
kept of the body (its first FORM_KEEP bytes) is parsed, so a field cut at
that bound shows what arrived of it. Every name and value is bounded.
"""

import email.parser
import email.policy
import reprlib
import urllib.parse

FORM_KEEP = 64 * 1024  # bytes of a request body kept for the development error page's form fields
MAX_FIELDS = 100
MAX_REPR = 300
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = MAX_REPR


def form_fields(data, content_type):
    """[[name, shown value], ...] of a form body the page read; [] for a body of any other type."""
    kind = content_type.split(";")[0].strip().lower()
    if not data:
        return []
    if kind == "application/x-www-form-urlencoded":
        text = data.decode("ascii", "replace")  # urlencoded: ASCII, with UTF-8 in its escapes
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, errors="replace")[:MAX_FIELDS]
        return [[name[:MAX_REPR], _repr.repr(value)] for name, value in pairs]
    if kind == "multipart/form-data":
        return multipart_fields(data, content_type)
    return []


def multipart_fields(data, content_type):
    """The named parts of a multipart/form-data body: a field's value as a repr, a file as its name and size."""
    head = b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n"
    try:
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + bytes(data))
        parts = list(message.iter_parts()) if message.is_multipart() else []
    except Exception:  # a body the parser cannot make sense of shows no fields, never an error of its own
        return []
    fields = []
    for part in parts[:MAX_FIELDS]:
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            fields.append([name[:MAX_REPR], shown_part(part)])
    return fields


def shown_part(part):
    """A field's text as a repr, or, for a file, '<file NAME, N bytes>' (its content stays unseen)."""
    payload = part.get_payload(decode=True) or b""
    filename = part.get_filename()
    if filename is not None:
        return "<file %s, %d bytes>" % (_repr.repr(filename), len(payload))
    charset = part.get_content_charset() or "utf-8"
    try:
        return _repr.repr(payload.decode(charset, "replace"))
    except LookupError:  # an unknown charset named by the client
        return _repr.repr(payload.decode("utf-8", "replace"))
