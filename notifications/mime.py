"""Mail bytes written directly, as strings: no `email` package objects on the hot path.

What is written, and the rule for each:
- headers folded at 78 columns with CRLF and a space (RFC 5322 2.2.3); a line never exceeds 998;
- text that is not plain ASCII (or looks like an encoded word) as RFC 2047 B encoded words in UTF-8,
  a character never split between two words, each line holding encoded words within 76 columns;
- display names quoted where RFC 5322 specials appear; parameters quoted, or RFC 2231 encoded
  (in numbered sections when long) when not ASCII, as the `email` package writes them;
- bodies base64 in 76-column lines, text with CRLF line ends (RFC 2045);
- an address's domain in IDNA (督办.中国 as xn--...), here and in the SMTP envelope (`ascii_address`),
  so no SMTPUTF8 is needed; a local part that is not ASCII would need it, and is refused where an
  address is entered (config.settings.ascii_local_part).

tests/mail/test_mime.py checks the output against the `email` package's on a corpus of every mail.
"""

from __future__ import annotations

import binascii
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

CRLF = "\r\n"
MAX_LINE = 78  # RFC 5322's "should"; 998 is the "must"
MAX_ENCODED_LINE = 76  # RFC 2047: a line holding encoded words
_BASE64_LINE = re.compile(".{1,76}")  # base64 text has no line breaks: one match a body line (RFC 2045)
_CHROME = len("=?utf-8?b?") + len("?=")
_SPECIALS = frozenset('()<>@,:;."[]\\')


@dataclass(frozen=True)
class Part:
    """A leaf of the message: its Content-Type, parameters, optional disposition, and content."""

    content_type: str
    content: bytes
    params: tuple[tuple[str, str], ...] = ()
    disposition: tuple[str, tuple[tuple[str, str], ...]] | None = None


def text_part(text: str, subtype: str) -> Part:
    """Text in UTF-8, every line ending in CRLF (as the `email` package's set_content writes it)."""
    lines = text.encode().splitlines()
    return Part(f"text/{subtype}", b"\r\n".join(lines) + b"\r\n", (("charset", "utf-8"),))


def attachment_part(content_type: str, filename: str, content: bytes) -> Part:
    return Part(content_type, content, disposition=("attachment", (("filename", filename),)))


def unstructured(name: str, value: str) -> str:
    """`Name: value` for free text (Subject), folded; encoded words unless plain ASCII."""
    if _plain(value):
        return _fold_words(f"{name}:", value.split(" "))
    return _fold_words(f"{name}:", _encoded_words(value, MAX_ENCODED_LINE - len(name) - 2), MAX_ENCODED_LINE)


def ascii_domain(domain: str) -> str:
    """`domain` as DNS and SMTP take it: each label that is not ASCII in IDNA (UTS 46 mapping, so
    督办。中国 and 督办.中国 are one domain); left as it is where it cannot be encoded (a label too
    long, a symbol), for the transport to refuse as undeliverable with its own words."""
    if domain.isascii():
        return domain
    try:
        import idna  # IDNA 2008 where installed (it comes with httpx)
    except ImportError:  # pragma: no cover - the standard library's IDNA 2003
        try:
            return domain.encode("idna").decode("ascii")
        except UnicodeError:
            return domain
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain


def ascii_address(address: str) -> str:
    """`address` with its domain in IDNA (`ascii_domain`); the local part as it is."""
    local, at, domain = address.rpartition("@")
    return f"{local}@{ascii_domain(domain)}" if at and not domain.isascii() else address


def mailbox(name: str, display: str, address: str) -> str:
    """`Name: display <address>` (RFC 5322 name-addr); the display name quoted or encoded as needed."""
    address = ascii_address(address)
    if not display:
        return f"{name}: {address}"
    if not _plain(display):
        words = _encoded_words(display, MAX_ENCODED_LINE - len(name) - 2)
        return _fold_words(f"{name}:", [*words, f"<{address}>"], MAX_ENCODED_LINE)
    if _SPECIALS.intersection(display):
        display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _fold_words(f"{name}:", [*display.split(" "), f"<{address}>"])


def addresses(name: str, values: Sequence[str]) -> str:
    """`Name: a, b, c`, folded between addresses (each domain in IDNA)."""
    values = [ascii_address(value) for value in values]
    return _fold_words(f"{name}:", [f"{value}," for value in values[:-1]] + list(values[-1:]))


def message(headers: Sequence[str], parts: Sequence[Part], attachments: Sequence[Part], boundary: str) -> str:
    """The whole message: `headers` (already written), MIME-Version, then the body.

    Several parts make a multipart/alternative (one part stands alone); with attachments, a
    multipart/mixed holds that and then each attachment, in order. Boundaries are `boundary`
    followed by _0, _1, ... from the outermost in.
    """
    names = (f"{boundary}_{i}" for i in itertools.count())
    if attachments:
        mixed = next(names)
        entity = _multipart("mixed", mixed, [_alternative(parts, names), *(_leaf(a) for a in attachments)])
    else:
        entity = _alternative(parts, names)
    return CRLF.join(headers) + CRLF + "MIME-Version: 1.0" + CRLF + entity


def _alternative(parts: Sequence[Part], names: Iterator[str]) -> str:
    if len(parts) == 1:
        return _leaf(parts[0])
    return _multipart("alternative", next(names), [_leaf(part) for part in parts])


def _multipart(subtype: str, boundary: str, entities: Sequence[str]) -> str:
    head = _with_params(f"Content-Type: multipart/{subtype}", (("boundary", boundary),))
    delimiter = f"{CRLF}--{boundary}{CRLF}"
    return f"{head}{CRLF}{CRLF}--{boundary}{CRLF}" + delimiter.join(entities) + f"{CRLF}--{boundary}--{CRLF}"


def _leaf(part: Part) -> str:
    lines = [_with_params(f"Content-Type: {part.content_type}", part.params), "Content-Transfer-Encoding: base64"]
    if part.disposition is not None:
        lines.append(_with_params(f"Content-Disposition: {part.disposition[0]}", part.disposition[1]))
    return CRLF.join(lines) + CRLF + CRLF + base64_body(part.content)


def base64_body(data: bytes) -> str:
    """Base64 in lines of 76 characters, each ended by CRLF."""
    text = binascii.b2a_base64(data, newline=False).decode("ascii")
    return CRLF.join(_BASE64_LINE.findall(text)) + CRLF if text else ""


def _with_params(line: str, params: Sequence[tuple[str, str]]) -> str:
    """A header line with `; name=value` parameters, folded the way the `email` package folds them:
    quoted ASCII where it fits, else RFC 2231 `name*=utf-8''...`, in numbered sections when long."""
    lines = [line]
    for name, value in params:
        lines[-1] += ";"
        if value.isascii() and value.isprintable():
            token = f'{name}="' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        else:
            token = f"{name}*=utf-8''{quote(value, safe='')}"
        if len(lines[-1]) + len(token) + 1 < MAX_LINE:
            lines[-1] += " " + token
        elif len(token) + 2 <= MAX_LINE:
            lines.append(" " + token)
        else:
            lines.extend(_rfc2231_sections(name, value))
    return CRLF.join(lines)


def _rfc2231_sections(name: str, value: str) -> list[str]:
    """` name*0*=utf-8''...;`, ` name*1*=...;` ... each within 78 columns, never splitting a character."""
    out, section, chrome = [], 0, "utf-8''"
    while value:
        room = MAX_LINE - (len(name) + len(str(section)) + 3 + len(chrome)) - 2
        split = room
        while len(encoded := quote(value[:split], safe="")) > room:
            split -= 1
        value = value[split:]
        out.append(f" {name}*{section}*={chrome}{encoded}" + (";" if value else ""))
        section, chrome = section + 1, ""
    return out


def _plain(text: str) -> bool:
    """Text a header can carry as is: printable ASCII that no reader would take for an encoded word."""
    return text.isascii() and text.isprintable() and "=?" not in text


def _encoded_words(text: str, first: int) -> list[str]:
    """`text` as B encoded words in UTF-8: the first within `first` columns, the others within a
    continuation line (a space, then the word); a multi-byte character is never split."""
    data, words, room = text.encode(), [], first
    while data:
        take = max(3, (room - _CHROME) // 4 * 3)
        if take < len(data):
            while take > 1 and data[take] & 0xC0 == 0x80:  # a continuation byte: back to the character's start
                take -= 1
        words.append("=?utf-8?b?" + binascii.b2a_base64(data[:take], newline=False).decode("ascii") + "?=")
        data, room = data[take:], MAX_ENCODED_LINE - 1
    return words


def _fold_words(start: str, words: Sequence[str], width: int = MAX_LINE) -> str:
    """`start` and `words` separated by spaces, a new line (CRLF, space) where the next word would pass `width`."""
    lines, line = [], start
    for word in words:
        if len(line) + 1 + len(word) > width and line != start:
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    return CRLF.join(lines)
