"""Bytes of a text file to ``str``: the one decoding step every text-based reader shares.

In order, the first that applies wins:

1. a byte-order mark (UTF-8, UTF-16, UTF-32, either byte order);
2. UTF-16 without a mark (Windows tools write it), told by where its zero bytes fall, or,
   for text mostly outside ASCII (Cyrillic, Chinese), by decoding to nothing but letters,
   digits, punctuation and spaces;
3. NUL bytes otherwise: binary data, refused;
4. an encoding the file declares (``<?xml ... encoding=...?>``, and for HTML a
   ``<meta charset>`` or ``http-equiv`` Content-Type), found by Beautiful Soup's
   ``EncodingDetector`` and named as browsers name it (WHATWG labels, via ``webencodings``:
   "iso-8859-1" means windows-1252 on the web);
5. UTF-8, or UTF-8 with a few bad bytes (replaced) when its multi-byte characters
   outnumber them;
6. charset-normalizer's best guess for legacy 8-bit text (cp1252, Latin-1, ...), taken
   only when it is confident; otherwise the file is refused with what to do.

Steps 2 and 3 are hand-written: charset-normalizer reads UTF-16 only with a mark, and
guesses an encoding even for binary data.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from desktop.core.library.catalog import FileStatus
from desktop.core.library.readers.base import Unreadable

_SNIFF_BYTES = 8192
_BOMS = (
    # UTF-32 first: its little-endian mark begins with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Share of the sniffed UTF-16 code units whose high byte is zero for mark-less UTF-16:
# text in a Latin script is mostly ASCII, so nearly all are; binary data rarely reaches it.
_UTF16_ZERO_SHARE = 0.6
# charset-normalizer's "chaos" (share of odd characters, 0 best) above which its guess is
# not trusted; its own default cut-off is 0.2, where mis-decoded text still passes.
_MAX_CHAOS = 0.1
_CONTROL = frozenset(range(32)) - {9, 10, 12, 13}


def _binary(path: Path) -> Unreadable:
    return Unreadable(
        FileStatus.FAILED,
        f"binary data, not text: the {path.suffix or 'file'} name does not match the content",
    )


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when the zero bytes sit where UTF-16 text puts them."""
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_zeros = sample[0 : pairs * 2 : 2].count(0)
    odd_zeros = sample[1 : pairs * 2 : 2].count(0)
    if odd_zeros >= _UTF16_ZERO_SHARE * pairs and even_zeros <= 0.05 * pairs:
        return "utf-16-le"
    if even_zeros >= _UTF16_ZERO_SHARE * pairs and odd_zeros <= 0.05 * pairs:
        return "utf-16-be"
    return None


# Share of characters that must be letters, marks, numbers, punctuation, symbols or spaces
# for mark-less UTF-16 told by its decoding: data that is not text lands on unassigned,
# private-use and control code points, or on lone surrogates, which do not decode at all.
_UTF16_TEXT_SHARE = 0.97


def _text_like(char: str) -> bool:
    category = unicodedata.category(char)
    return char in "\t\n\r" or category[0] in "LMNPS" or category == "Zs"


def _utf16_by_decoding(sample: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the sample decodes to text-like characters.

    Both byte orders can: Cyrillic read the wrong way round is letters too (U+041A becomes
    U+1A04). Text keeps to a few Unicode blocks of 256 code points (its script, ASCII), the
    swapped reading scatters over many, so the order using fewer blocks wins; a tie is no
    answer.
    """
    if len(sample) < 8:
        return None
    blocks: dict[str, int] = {}
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            # Not final: a sample cut inside a character (or a surrogate pair) ends early.
            text = codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        # A repeated binary pattern can decode to a few letters; prose uses many characters.
        varied = len(set(text)) >= min(8, len(text) // 16)
        if varied and sum(map(_text_like, text)) >= _UTF16_TEXT_SHARE * len(text):
            blocks[encoding] = len({ord(char) >> 8 for char in text})
    ranked = sorted(blocks, key=blocks.__getitem__)
    if len(ranked) == 2 and blocks[ranked[0]] == blocks[ranked[1]]:
        return None
    return ranked[0] if ranked else None


def _declared(data: bytes, html: bool) -> str | None:
    """The Python codec for the encoding the document declares, if any and known."""
    # Imported on first use: it loads webencodings, which takes a while.
    import webencodings
    from bs4.dammit import EncodingDetector

    label = EncodingDetector.find_declared_encoding(data[:_SNIFF_BYTES], is_html=html)
    if not label:
        return None
    if html:
        encoding = webencodings.lookup(label)
        # A page that declares UTF-16 in ASCII bytes is not UTF-16 (WHATWG: use UTF-8).
        if encoding is None or encoding.name.startswith("utf-16"):
            return None
        return str(encoding.codec_info.name)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _looks_like_text(text: str) -> bool:
    sample = text[:_SNIFF_BYTES]
    controls = sum(1 for char in sample if ord(char) in _CONTROL)
    return controls <= 0.01 * max(len(sample), 1)


def decode_text(path: Path, data: bytes, html: bool = False) -> str:
    """The text of ``data`` read from ``path``, decoded as the module docstring says.

    ``html`` makes ``<meta>`` charset declarations count and names encodings as browsers
    do. NUL characters are dropped from the text: a file whose first 8 KB are text but
    which holds NUL bytes further on (a log preallocated, or cut short by a crash, pads
    with them) is indexed for its text, not for runs of invisible characters. Raises
    ``Unreadable`` (failed) for binary data and for text whose encoding cannot be told
    with confidence.
    """
    return _decoded(path, data, html).replace("\x00", "")


def _decoded(path: Path, data: bytes, html: bool) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise Unreadable(
                    FileStatus.FAILED,
                    f"damaged {encoding.removesuffix('-sig').upper()} text (bad bytes at "
                    f"offset {exc.start}); re-save the file as UTF-8 and sync again",
                ) from exc
    sample = data[:_SNIFF_BYTES]
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            text = None
        if text is not None and _looks_like_text(text):
            return text
    if b"\x00" in sample:
        by_decoding = _utf16_by_decoding(sample)
        if by_decoding is not None:
            try:
                return data.decode(by_decoding)
            except UnicodeDecodeError:
                pass
        raise _binary(path)
    declared = _declared(data, html)
    if declared is not None:
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass  # a wrong declaration: find the encoding as for an undeclared file
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _damaged_utf8(data) or _legacy(path, data, exc)


# A character UTF-8 writes in two, three or four bytes (RFC 3629, section 4).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _damaged_utf8(data: bytes) -> str | None:
    """UTF-8 text with a few bad bytes, the bad bytes replaced (U+FFFD); else None.

    Legacy 8-bit text almost never forms a multi-byte UTF-8 character by chance, so more
    of those than bad spots means UTF-8 damaged in places (a cut download, a bad paste):
    the rest of the text is kept, where a legacy guess would garble all of it.
    """
    characters = len(_UTF8_MULTIBYTE.findall(data))
    if not characters:
        return None
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    return text if characters > bad else None


def _legacy(path: Path, data: bytes, error: UnicodeDecodeError) -> str:
    """8-bit text in a legacy encoding, when charset-normalizer is sure enough which.

    Windows-1252, the legacy default of Western Windows and of browsers, is taken when it
    reads the file as cleanly (the same mess score) as the best candidate: on short text the
    language score that ranks candidates is noise. Otherwise the best candidate is taken
    when all those tied with it give the same text, and the file is refused when they differ.
    """
    from charset_normalizer import from_bytes  # loaded only for files that are not UTF-8

    matches = list(from_bytes(data))
    if matches and matches[0].chaos <= _MAX_CHAOS:
        best = matches[0]
        clean = [m for m in matches if m.chaos == best.chaos]
        tied = [m for m in clean if m.coherence == best.coherence]
        texts = {str(match) for match in tied}
        text = None
        try:
            western = data.decode("cp1252")
        except UnicodeDecodeError:
            western = None
        # charset-normalizer lists one of the encodings that give the same text, so
        # windows-1252 may stand under another name (cp1250 for German text).
        if western is not None and any(
            match.encoding == "cp1252" or str(match) == western for match in clean
        ):
            text = western
        elif len(texts) == 1:
            text = texts.pop()
        if text is not None and _looks_like_text(text):
            return text
    if not _looks_like_text(data[:_SNIFF_BYTES].decode("latin-1")):
        raise _binary(path)
    raise Unreadable(
        FileStatus.FAILED,
        f"not valid UTF-8 text (bad byte at offset {error.start}), and its encoding could "
        "not be told with confidence; re-save the file as UTF-8 and sync again",
    )
