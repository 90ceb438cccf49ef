"""Reading feeds and sitemaps safely: gzip inflated within the size limit, the text decoded once in Python,
and the records (items, entries, urls) pulled from a hardened lxml parser that refuses entity declarations.

Entities are refused by what the parser saw, not by scanning the bytes: any layout, comment or encoding a
text scan can be fooled by is read by libxml2 exactly as it builds the tree."""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urljoin

from charset_normalizer import from_bytes
from lxml import etree

from crawler.kinds.base import SourceParseError

T = TypeVar("T")
XML_NS = "{http://www.w3.org/XML/1998/namespace}"
# Fed to lxml in pieces, so a document with a million records stops being read at the record cap.
_CHUNK = 64 * 1024
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# XML 1.0 appendix F: the first four bytes of '<?xm' in an encoding without a byte order mark.
_SNIFFED = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"), (b"\x00<\x00?", "utf-16-be"),
            (b"<\x00?\x00", "utf-16-le"))
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]{0,200}?\sencoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
# An '&' that starts no entity or character reference (a raw query string: <link>/a?x=1&y=2</link>), outside
# CDATA sections and comments, which are passed over whole (an unclosed one runs to the end: one linear pass).
_BARE_AMPERSAND = re.compile(rb"(<!\[CDATA\[.*?(?:\]\]>|\Z)|<!--.*?(?:-->|\Z))"
                             rb"|&(?!#[0-9]+;|#x[0-9A-Fa-f]+;|[A-Za-z_:][-A-Za-z0-9._:]*;)", re.DOTALL)


def local_name(element: etree._Element) -> str:
    """The tag without its namespace ('' for comments and processing instructions)."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def inflate(body: bytes, max_size: int) -> bytes:
    """The body, inflated when it is a gzip file (a ``.xml.gz`` sitemap, which Scrapy leaves compressed);
    never more than ``max_size`` bytes are allocated: ``too_large`` past it, ``corrupt_gzip`` when the
    stream is broken or cut short."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    parts: list[bytes] = []
    size = 0
    pending = body
    try:
        while pending:  # a gzip file may hold several members, one after another
            inflater = zlib.decompressobj(wbits=31)
            chunk = inflater.decompress(pending, max_size + 1 - size)
            while True:
                size += len(chunk)
                parts.append(chunk)
                if size > max_size:
                    raise SourceParseError("too_large", f"gzipped document inflates past {max_size} bytes")
                if not inflater.unconsumed_tail:
                    break
                chunk = inflater.decompress(inflater.unconsumed_tail, max_size + 1 - size)
            if not inflater.eof:
                raise SourceParseError("corrupt_gzip", "gzipped document is truncated")
            pending = inflater.unused_data.lstrip(b"\x00")  # zero padding after the last member is allowed
    except zlib.error as exc:
        raise SourceParseError("corrupt_gzip", f"gzipped document is corrupt: {exc}") from exc
    return b"".join(parts)


def _usable(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _first_bytes_encoding(body: bytes) -> str | None:
    """The encoding the first bytes show: a byte order mark, or '<?' in UTF-16 or UTF-32 without one."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    for head, name in _SNIFFED:
        if body.startswith(head):
            return name
    return None


def _declared_encoding(body: bytes, content_type: str | None) -> str:
    """The encoding the document says it is in: byte order mark, then its XML declaration, then the HTTP
    charset (the declaration wins: servers mislabel far more often than files do), else UTF-8."""
    shown = _first_bytes_encoding(body)
    if shown:
        return shown
    match = _DECLARED.match(body[:512])
    declared = _usable(match.group(1).decode("ascii")) if match else None
    # A declaration read as ASCII cannot be true when it names a two- or four-byte encoding.
    if declared and not declared.startswith(("utf-16", "utf-32")):
        return declared
    header = _HEADER_CHARSET.search(content_type or "")
    return (_usable(header.group(1)) if header else None) or "utf-8"


def decode(body: bytes, content_type: str | None) -> tuple[str, str | None]:
    """The document as text, and a warning when its declared charset did not fit the bytes (they are then
    read in the charset they are detected to be in; after a byte order mark, in its own, bad bytes replaced)."""
    declared = _declared_encoding(body, content_type)
    try:
        return body.decode(declared), None
    except UnicodeDecodeError:
        pass
    # A byte order mark is not a label a server or template got wrong: a few bad bytes after one are replaced,
    # never a reason to guess another charset (which read the mark as text before '<' and lost the document).
    best = None if _first_bytes_encoding(body) else from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        try:
            text = body.decode(best.encoding)
        except (LookupError, UnicodeDecodeError):
            pass
        else:
            return text, f"declared charset {declared} does not fit the bytes; they are {best.encoding}, read as such"
    return (body.decode(declared, errors="replace"),
            f"declared charset {declared} does not fit the bytes; undecodable bytes replaced")


@dataclass
class XmlReading(Generic[T]):
    """What was read from one document: its root element (records taken out), the converted records, and
    whether more records than the cap were there or the document had to be recovered from a syntax error."""

    root: etree._Element | None = None
    records: list[T] = field(default_factory=list)
    truncated: bool = False
    problem: str | None = None
    charset_warning: str | None = None

    @property
    def root_name(self) -> str:
        """The root element's local name ('' when the document has none)."""
        return local_name(self.root) if self.root is not None else ""


def _refuse_entities(root: etree._Element) -> None:
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise SourceParseError("xml_entities", "document declares XML entities (a DTD internal subset); refused")


class _Puller(Generic[T]):
    """One pass of the hardened pull parser over UTF-8 bytes; ``is_record(element, depth)`` picks records,
    ``convert`` turns each finished one into a value (None: skip) before it is dropped from the tree."""

    def __init__(self, is_record: Callable[[etree._Element, int], bool], convert: Callable[[etree._Element], T | None],
                 max_items: int, recover: bool) -> None:
        self.is_record, self.convert, self.max_items = is_record, convert, max_items
        # No entity expansion, no DTD or network loads, libxml2's limits on depth and text size.
        self.parser = etree.XMLPullParser(events=("start", "end"), encoding="utf-8", resolve_entities=False,
                                          no_network=True, load_dtd=False, huge_tree=False, recover=recover,
                                          remove_comments=True, remove_pis=True)
        self.reading: XmlReading[T] = XmlReading()
        self.depth = 0
        self.seen = 0
        self.done: list[etree._Element] = []

    def run(self, data: bytes) -> XmlReading[T]:
        for start in range(0, len(data), _CHUNK):
            self.parser.feed(data[start:start + _CHUNK])
            if self._events():
                return self.reading
        self.parser.close()
        self._events()
        return self.reading

    def _events(self) -> bool:
        """Handle the parsed events; True once the record cap is passed."""
        for event, element in self.parser.read_events():
            if event == "start":
                if self.reading.root is None:
                    _refuse_entities(element)
                    self.reading.root = element
                self.depth += 1
                continue
            self.depth -= 1
            if self.is_record(element, self.depth) and self._record(element):
                return True
        return False

    def _record(self, element: etree._Element) -> bool:
        self.seen += 1
        if self.seen > self.max_items:
            self.reading.truncated = True
            return True
        value = self.convert(element)
        if value is not None:
            self.reading.records.append(value)
        # Earlier records are finished: drop them so memory stays at one record, whatever the count.
        for old in self.done:
            parent = old.getparent()
            if parent is not None:
                parent.remove(old)
        element.clear(keep_tail=True)
        self.done = [element]
        return False


def _escape_bare_ampersands(data: bytes) -> bytes:
    return _BARE_AMPERSAND.sub(lambda match: match.group(1) or b"&amp;", data)


def read_xml(body: bytes, content_type: str | None, is_record: Callable[[etree._Element, int], bool],
             convert: Callable[[etree._Element], T | None], max_items: int) -> XmlReading[T]:
    """Read a feed or sitemap: strict first; a document that is not well-formed is read again in libxml2's
    recovery mode, with the syntax error kept as ``problem``. Raises ``xml_entities`` for a document that
    declares entities, ``malformed_xml`` when not even a root element could be read."""
    text, charset_warning = decode(body, content_type)
    # Whitespace before the XML declaration is a common publishing slip that readers accept.
    data = text.lstrip("\ufeff \t\r\n").encode("utf-8")
    try:
        reading = _Puller(is_record, convert, max_items, recover=False).run(data)
    except etree.XMLSyntaxError as exc:
        problem = str(exc)
        try:
            # libxml2's recovery drops a bare '&' with the name after it ('?a=1&b=2' became '?a=1=2'): escape them.
            reading = _Puller(is_record, convert, max_items, recover=True).run(_escape_bare_ampersands(data))
        except etree.XMLSyntaxError:
            reading = XmlReading()
        if reading.root is None:
            raise SourceParseError("malformed_xml", f"not well-formed XML: {problem}") from exc
        reading.problem = problem
    if reading.root is None:
        raise SourceParseError("malformed_xml", "not an XML document: no root element")
    reading.charset_warning = charset_warning
    return reading


def resolve(base: str, reference: str) -> str | None:
    """``reference`` resolved against ``base``; None when it is blank (no link, not the base itself) or when
    either cannot be split as a URL (an unclosed IPv6 bracket such as ``http://[oops/``, on which urllib raises
    ValueError): one bad link is skipped, it does not fail the document."""
    reference = reference.strip()
    if not reference:
        return None
    try:
        return urljoin(base, reference)
    except ValueError:
        return None


def base_url(element: etree._Element, document_url: str) -> str:
    """The base URL links inside ``element`` resolve against: the document's URL, then every ``xml:base``
    from the root down to ``element`` itself (one that is not a URL is passed over)."""
    bases = [node.get(f"{XML_NS}base") for node in [element, *element.iterancestors()]]
    base = document_url
    for value in reversed(bases):
        if value:
            base = resolve(base, value) or base
    return base


def child_text(element: etree._Element, *names: str) -> str | None:
    """The stripped text of the first direct child with one of these local names (in the order given)."""
    for name in names:
        for child in element:
            if local_name(child) == name:
                text = "".join(child.itertext()).strip()
                if text:
                    return text
    return None
