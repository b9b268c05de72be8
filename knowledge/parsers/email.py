"""Email (.eml): who wrote to whom and when, then the message body.

The plain-text part is preferred; an HTML-only message goes through the same
cleanup as HTML files. Attachments are not read, only named, so a question
like "who sent the Q3 budget spreadsheet?" can still be answered.
"""

from __future__ import annotations

from email import message_from_binary_file, policy
from email.errors import MessageError
from email.message import EmailMessage, MIMEPart

from .base import ParseContext, ParsedDocument, ParserSpec, Section, title_from_name
from .html import sections_from_html

_HEADERS = ("From", "To", "Cc", "Date", "Subject")
# Raised by the header and content decoders on malformed or mislabelled parts.
_BROKEN = (MessageError, LookupError, ValueError, TypeError, IndexError, AttributeError)


def _header(message: EmailMessage, name: str) -> str:
    """The decoded header, or its raw text when it is too malformed to decode."""
    try:
        value = message.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except _BROKEN:
        raw = next((v for k, v in message.raw_items() if k.lower() == name.lower()), "")
        return " ".join(str(raw).split())


def _text(part: MIMEPart) -> str:
    try:
        return str(part.get_content())
    except _BROKEN:
        # Unknown charset or bad transfer encoding: decode what is there.
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def _body(message: EmailMessage) -> tuple[MIMEPart | None, list[Section]]:
    """The body part chosen and its sections: plain text first, else HTML."""
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None:
        text = _text(plain).replace("\r\n", "\n").strip()
        return plain, [Section(text)] if text else []
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        return html, sections_from_html(_text(html))[1]
    return None, []


def _attachment_names(message: EmailMessage, body: MIMEPart | None) -> list[str]:
    names = []
    for part in message.walk():
        if part is body or part.is_multipart():
            continue
        try:
            name = part.get_filename()
        except _BROKEN:
            name = None
        if name:
            names.append(" ".join(name.split()))
    return names


def parse(ctx: ParseContext) -> ParsedDocument:
    with ctx.path.open("rb") as f:
        message: EmailMessage = message_from_binary_file(f, policy=policy.default)
    lines = [f"{name}: {value}" for name in _HEADERS if (value := _header(message, name))]
    body_part, body = _body(message)
    attachments = _attachment_names(message, body_part)
    if attachments:
        lines.append("Attachments: " + ", ".join(attachments))
    head = "\n".join(lines)
    # The headers open the first section, so who/when travel with the start of the body.
    if body and not body[0].heading_path:
        body[0] = Section(f"{head}\n\n{body[0].text}".strip())
    elif head:
        body.insert(0, Section(head))
    title = _header(message, "Subject") or title_from_name(ctx.original_name)
    return ParsedDocument(title=title, sections=body)


SPEC = ParserSpec(
    label="email",
    mime_types=("message/rfc822",),
    extensions=(".eml",),
    parse=parse,
)
