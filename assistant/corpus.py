"""The corpus: documents on disk plus a manifest, and the atomic ``add`` operation.

Documents are stored as text files in the corpus directory and never rewritten:
they are the source of truth for every quote. ``manifest.json`` lists each
document's id (its file name), title, issuer, date and source type; for a PDF it
also names the original file and the line at which each page starts in the
extracted text stored beside it. A Word file (.docx) is kept the same way, with
its text (headings, paragraphs, list items and one line per table row) beside it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import CorpusError, DocumentRejectedError
from assistant.lazyre import lazy
from assistant.normalize import normalize

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = 1
SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf", ".docx")
#: Originals kept beside their extracted text, by source type.
SOURCE_SUFFIXES = {"pdf": ".pdf", "docx": ".docx"}
#: Between the cells of a table row in the text of a .docx: one row is one line, so a
#: cell is cited by its row's line, and the separator stays visible in the quote.
CELL_SEPARATOR = " | "


def page_of_line(page_starts: Sequence[int] | None, line: int) -> int | None:
    """The 1-based page holding 1-based ``line``, given where each page starts.

    ``page_starts[i]`` is the first line of page ``i + 1`` (ascending, the first
    one 1). ``None`` for a document without pages (``page_starts`` empty or
    ``None``) and for a line number below 1; a line past the last start is on the
    last page. (``add`` gives even an empty page a line of its own, so the starts
    are strictly ascending; were two equal, the later page would win.)
    """
    if not page_starts or line < 1:
        return None
    return max(1, bisect_right(page_starts, line))


def page_label(page: int | None, page_last: int | None = None) -> str:
    """``p.3``, or ``p.3–4`` for a span that runs onto later pages; ``""`` without a page."""
    if not page:
        return ""
    if page_last and page_last != page:
        return f"p.{page}–{page_last}"
    return f"p.{page}"


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """One manifest entry. ``id`` is the file name of the text in the corpus."""

    id: str
    title: str
    issuer: str = ""
    date: str = ""
    source_type: str = "text"
    sha256: str = ""
    #: For PDFs and .docx files: the original file's name in the corpus directory.
    source_file: str | None = None
    #: For PDFs: 1-based line where each page starts in the extracted text.
    page_starts: tuple[int, ...] | None = None

    def page_of(self, line: int) -> int | None:
        """The 1-based page that holds ``line``, or ``None`` for non-paged documents."""
        return page_of_line(self.page_starts, line)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["page_starts"] = list(self.page_starts) if self.page_starts else None
        return d


@dataclass(frozen=True, slots=True)
class Document:
    """A document's manifest entry with its text (exactly as stored)."""

    info: DocumentInfo
    text: str
    lines: tuple[str, ...] = field(repr=False, default=())

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def title(self) -> str:
        return self.info.title

    def line_slice(self, first: int, last: int) -> str:
        """Original lines ``first..last`` (1-based, inclusive) joined with ``\\n``."""
        return "\n".join(self.lines[first - 1 : last])


def _sha256(data: bytes) -> str:
    import hashlib  # here, not at the top: loading OpenSSL costs a cold `shiori ask` ≈ 4 ms

    return hashlib.sha256(data).hexdigest()


def read_manifest(corpus_dir: Path) -> list[DocumentInfo]:
    """Read ``manifest.json``; raises ``CorpusError`` with the cause when it is unusable."""
    path = Path(corpus_dir) / MANIFEST_NAME
    if not path.exists():
        raise CorpusError(
            f"no corpus manifest at {path}",
            hint="set SHIORI_CORPUS_DIR to a corpus directory or create one with `shiori add FILE`",
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        docs = [
            DocumentInfo(
                **{
                    **d,
                    "page_starts": tuple(d["page_starts"]) if d.get("page_starts") else None,
                }
            )
            for d in raw["documents"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise CorpusError(f"corpus manifest {path} is unreadable: {e}") from e
    return docs


def _manifest_json(docs: Sequence[DocumentInfo]) -> str:
    payload = {"schema": MANIFEST_SCHEMA, "documents": [d.to_json() for d in docs]}
    return json.dumps(payload, ensure_ascii=False, indent=2) + "\n"


def load_corpus(corpus_dir: Path) -> list[Document]:
    """Load every document of the manifest, in manifest order.

    A listed file that is missing raises ``CorpusError``; a text file in the
    directory that the manifest does not list is logged and ignored.
    """
    corpus_dir = Path(corpus_dir)
    infos = read_manifest(corpus_dir)
    docs = load_documents(corpus_dir, infos)
    listed = {d.id for d in infos} | {d.source_file for d in infos if d.source_file}
    for p in sorted(corpus_dir.iterdir()):
        if p.suffix in SUPPORTED_SUFFIXES and p.name not in listed:
            logger.warning("%s is in the corpus directory but not in the manifest; ignored", p.name)
    return docs


def load_documents(corpus_dir: Path, infos: Sequence[DocumentInfo]) -> list[Document]:
    """The texts of the given manifest entries (an incremental index update reads only the new ones)."""
    docs: list[Document] = []
    for info in infos:
        path = Path(corpus_dir) / info.id
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as e:
            raise CorpusError(f"document {info.id} listed in the manifest cannot be read: {e}") from e
        except UnicodeDecodeError as e:
            raise CorpusError(f"document {info.id} is not UTF-8: {e}") from e
        docs.append(Document(info=info, text=text, lines=tuple(text.split("\n"))))
    return docs


def corpus_fingerprint(docs: Sequence[Document]) -> dict[str, str]:
    """Document id -> SHA-256 of its stored text: what an index was built from."""
    return {d.id: _sha256(d.text.encode("utf-8")) for d in docs}


# ---------------------------------------------------------------------------- add


@dataclass(frozen=True, slots=True)
class Extracted:
    """Text ready to store for a new document, with its page starts for PDFs."""

    text: str
    page_starts: tuple[int, ...] | None
    source_type: str
    #: A title the file itself declares (a .docx's document properties), if any.
    title: str | None = None


def _decode_text(data: bytes, name: str) -> str:
    for enc in ("utf-8-sig", "cp932", "euc_jp"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DocumentRejectedError(
        f"{name}: cannot decode the text (tried UTF-8, Shift_JIS/cp932, EUC-JP)",
        hint="save the file as UTF-8 and add it again",
    )


def extract_pdf(data: bytes, name: str) -> Extracted:
    """Extract the text of a PDF page by page, recording where each page starts."""
    import io

    import pypdf
    from pypdf.errors import DependencyError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            # Many official PDFs carry only an owner password (printing or editing
            # restricted): they open without one, so the text can be read too.
            try:
                opened = reader.decrypt("")
            except DependencyError as e:
                raise DocumentRejectedError(
                    f"{name}: the PDF is encrypted with a cipher that needs an extra package ({e})",
                    hint="pip install cryptography, or remove the encryption and add it again",
                ) from e
            if opened == pypdf.PasswordType.NOT_DECRYPTED:
                raise DocumentRejectedError(
                    f"{name}: the PDF is encrypted (it needs a password to open)",
                    hint="remove the password and add it again",
                )
        pages = [(p.extract_text() or "") for p in reader.pages]
    except DocumentRejectedError:
        raise
    except Exception as e:
        # A damaged PDF makes pypdf raise PdfReadError, but also NotImplementedError
        # (a garbled filter name), LimitReachedError, ValueError, KeyError...: all
        # mean the file cannot be read, and the user needs that, not a traceback.
        raise DocumentRejectedError(f"{name}: not a readable PDF ({type(e).__name__}: {e})") from e
    if not pages:
        raise DocumentRejectedError(f"{name}: the PDF has no pages")
    starts: list[int] = []
    chunks: list[str] = []
    line = 1
    for page in pages:
        body = page.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
        starts.append(line)
        chunks.append(body)
        line += body.count("\n") + 1
    text = "\n".join(chunks) + "\n"
    if not normalize(text):
        # Only whitespace, private-use glyphs or page numbers (a scan with stamped
        # page numbers): nothing to search or quote.
        raise DocumentRejectedError(
            f"{name}: the PDF has no text layer (scanned images?)",
            hint="run OCR on it first, then add the text",
        )
    return Extracted(text=text, page_starts=tuple(starts), source_type="pdf")


# ----------------------------------------------------------------------- .docx

#: An OLE2 compound file: a password-protected .docx (its package is encrypted
#: inside one) or an old Word 97-2003 .doc renamed.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADING_STYLE = lazy(r"^(?:heading|見出し)\s*(\d)$", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))


def _roman(n: int) -> str:
    out = ""
    for value, digits in _ROMAN:
        while n >= value:
            out, n = out + digits, n - value
    return out


def _list_number(n: int, fmt: str) -> str:
    """Word's rendering of item number ``n`` in number format ``fmt`` (common formats)."""
    if fmt == "decimalEnclosedCircle" and 1 <= n <= len(_CIRCLED):
        return _CIRCLED[n - 1]
    if fmt in ("lowerLetter", "upperLetter") and 1 <= n <= 26:
        letter = chr(ord("a") + n - 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman") and n >= 1:
        return _roman(n).upper() if fmt == "upperRoman" else _roman(n)
    if fmt == "aiueoFullWidth" and 1 <= n <= 46:
        return "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"[n - 1]
    if fmt == "irohaFullWidth" and 1 <= n <= 47:
        return "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセス"[n - 1]
    return str(n)


class _Numbering:
    """List markers of a .docx: Word draws them from numbering.xml, they are not in the text.

    Bullets become ``・`` (their glyph is often a private-use symbol-font
    character); numbered items get their number in the level's own pattern
    (``%1.``, ``(%1)``, ``第%1``...), counted per list and level as Word does.
    """

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for an in root.iter(f"{_W}abstractNum"):
            lv: dict[int, tuple[str, str, int]] = {}
            for lvl in an.iter(f"{_W}lvl"):
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                start = lvl.find(f"{_W}start")
                lv[int(lvl.get(f"{_W}ilvl", "0"))] = (
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "",
                    int(start.get(f"{_W}val", "1")) if start is not None else 1,
                )
            abstract[an.get(f"{_W}abstractNumId", "")] = lv
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                self.levels[num.get(f"{_W}numId", "")] = abstract.get(ref.get(f"{_W}val", ""), {})

    def marker(self, paragraph: Any) -> str | None:
        """The list marker of ``paragraph`` (``"・"``, ``"2."``...), or ``None`` if it is no list item."""
        num_id, ilvl = _num_pr(paragraph)
        if num_id is None or num_id == "0":
            style = (_style_name(paragraph) or "").lower()
            if style.startswith("list bullet"):
                return "・"
            return None
        fmt, pattern, start = self.levels.get(num_id, {}).get(ilvl, ("bullet", "", 1))
        if fmt in ("bullet", "none"):
            return "・"
        counts = self.counters.setdefault(num_id, [])
        while len(counts) <= ilvl:
            counts.append(0)
        counts[ilvl] += 1
        del counts[ilvl + 1 :]  # a deeper list under this item starts again
        levels = self.levels.get(num_id, {})

        def number(k: int) -> str:
            f, _, st = levels.get(k, ("decimal", "", 1))
            return _list_number(st + counts[k] - 1 if k < len(counts) and counts[k] else st, f)

        text = re.sub(r"%(\d)", lambda m: number(int(m.group(1)) - 1), pattern) if pattern else number(ilvl) + "."
        return text.strip() or "・"


def _num_pr(paragraph: Any) -> tuple[str | None, int]:
    """(numId, level) of a paragraph's own numbering, else of its style's."""
    for owner in (paragraph._p, getattr(paragraph.style, "element", None)):
        ppr = owner.find(f"{_W}pPr") if owner is not None else None
        num_pr = ppr.find(f"{_W}numPr") if ppr is not None else None
        if num_pr is not None:
            num_id = num_pr.find(f"{_W}numId")
            ilvl = num_pr.find(f"{_W}ilvl")
            if num_id is not None:
                return num_id.get(f"{_W}val"), int(ilvl.get(f"{_W}val", "0")) if ilvl is not None else 0
    return None, 0


def _style_name(paragraph: Any) -> str | None:
    try:
        return paragraph.style.name if paragraph.style is not None else None
    except (KeyError, AttributeError):
        return None


def _heading_level(paragraph: Any) -> int | None:
    """1-6 for a heading (style Heading N / 見出し N / Title, or one based on them), else ``None``."""
    style = getattr(paragraph, "style", None)
    for _ in range(5):  # a custom heading style is usually based on Heading N
        if style is None:
            return None
        name = style.name or ""
        if name.lower() == "title":
            return 1
        m = _HEADING_STYLE.match(name)
        if m:
            return min(6, max(1, int(m.group(1))))
        style = getattr(style, "base_style", None)
    return None


def _cell_text(cell: Any) -> str:
    """A table cell on one line: its paragraphs (and any nested table's rows) joined by spaces."""
    parts: list[str] = []
    for block in cell.iter_inner_content():
        if hasattr(block, "rows"):
            parts += [" / ".join(_cell_text(c) for c in _row_cells(r)) for r in block.rows]
        else:
            parts.append(block.text)
    return " ".join(" ".join(p.split()) for p in parts if p.strip())


def _row_cells(row: Any) -> list[Any]:
    """The distinct cells of a row: a cell spanning several grid columns is listed once.

    A vertically merged cell is repeated in every row it spans (python-docx
    returns the top cell), so each row line is complete on its own.
    """
    seen: set[int] = set()
    cells = []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def docx_lines(document: Any) -> list[str]:
    """The lines of a python-docx ``Document``'s body, in document order.

    Headings become Markdown headings (``## 見出し``, which the chunker treats as
    section starts); list items get their marker (``・``, ``1.``); each table row
    is one line of its cells joined by ``CELL_SEPARATOR``, so a cell is cited by
    its row's line. Blank lines separate blocks (one at most in a row).
    """
    numbering = _Numbering(document)
    lines: list[str] = []

    def blank() -> None:
        if lines and lines[-1] != "":
            lines.append("")

    for block in document.iter_inner_content():
        if hasattr(block, "rows"):  # a table
            blank()
            for row in block.rows:
                cells = [_cell_text(c) for c in _row_cells(row)]
                if any(cells):
                    lines.append(CELL_SEPARATOR.join(cells))
            blank()
            continue
        text = block.text.replace("\r", "")
        if not text.strip():
            blank()
            continue
        level = _heading_level(block)
        marker = numbering.marker(block)
        if level is not None:
            # A numbered heading style (第1章, 1.1) keeps its number; a bullet is noise.
            number = f"{marker} " if marker and marker != "・" else ""
            blank()
            lines.append("#" * level + " " + number + " ".join(text.split()))
            continue
        body = text.strip("\n")
        if marker:
            body = marker + ("" if marker == "・" else " ") + body
        lines.extend(body.split("\n"))
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def extract_docx(data: bytes, name: str) -> Extracted:
    """Extract the text of a Word .docx: headings, paragraphs, lists and tables in body order."""
    import io
    import zipfile

    if data.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:  # the encrypted payload's stream name
            raise DocumentRejectedError(
                f"{name}: the Word document is encrypted (it needs a password to open)",
                hint="remove the password in Word and add it again",
            )
        raise DocumentRejectedError(
            f"{name}: an old Word 97-2003 (.doc) file, not a .docx",
            hint="save it as .docx (Word document) and add it again",
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentRejectedError(f"{name}: not a readable .docx (not a Word/ZIP package; damaged?)")
    try:
        import docx  # python-docx: only the add path needs it
    except ImportError as e:  # pragma: no cover - a base dependency
        raise CorpusError("reading .docx files needs python-docx", hint="pip install python-docx") from e
    try:
        document = docx.Document(io.BytesIO(data))
        lines = docx_lines(document)
        declared = (document.core_properties.title or "").strip() or None
    except Exception as e:
        # A damaged package makes python-docx/lxml raise KeyError (a missing part),
        # BadZipFile, XMLSyntaxError, ValueError (not a Word file)...: all mean the
        # file cannot be read, and the user needs that, not a traceback.
        raise DocumentRejectedError(f"{name}: not a readable .docx ({type(e).__name__}: {e})") from e
    text = "\n".join(lines) + "\n"
    if not normalize(text):
        raise DocumentRejectedError(f"{name}: the Word document has no text")
    return Extracted(text=text, page_starts=None, source_type="docx", title=declared)


def extract(path: Path) -> Extracted:
    """Read a file offered to ``add``; raises ``DocumentRejectedError`` with the reason."""
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentRejectedError(
            f"{name}: unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentRejectedError(f"{name}: cannot read the file ({e.strerror or e})") from e
    if not data:
        raise DocumentRejectedError(f"{name}: the file is empty")
    if not data.strip():
        raise DocumentRejectedError(f"{name}: the file has no text (only whitespace)")
    if suffix == ".pdf":
        return extract_pdf(data, name)
    if suffix == ".docx":
        return extract_docx(data, name)
    if b"\x00" in data:
        raise DocumentRejectedError(f"{name}: looks like a binary file, not {suffix} text")
    text = _decode_text(data, name).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DocumentRejectedError(f"{name}: the file has no text (only whitespace)")
    return Extracted(text=text, page_starts=None, source_type="markdown" if suffix == ".md" else "text")


def _guess_title(text: str, fallback: str) -> str:
    for line in text.split("\n"):
        line = re.sub(r"^#+\s*", "", line).strip()
        if len(line) >= 2:
            return line[:80]
    return fallback


def add_document(
    corpus_dir: Path,
    path: Path,
    *,
    title: str | None = None,
    issuer: str = "",
    doc_date: str | None = None,
) -> DocumentInfo:
    """Add a .txt, .md, .pdf or .docx file to the corpus, atomically.

    The text is stored as ``NNN_<sha16>.txt|.md`` (a PDF or .docx is kept as
    ``NNN_<sha16>.pdf|.docx`` with its extracted text as ``NNN_<sha16>.txt``) and
    the manifest is rewritten. On any error nothing in the corpus directory changes.
    """
    corpus_dir = Path(corpus_dir)
    path = Path(path)
    if not path.is_file():
        raise DocumentRejectedError(f"{path}: no such file")
    existing = read_manifest(corpus_dir)
    extracted = extract(path)
    raw = path.read_bytes()
    text_bytes = extracted.text.encode("utf-8")
    digest = _sha256(text_bytes)
    for d in existing:
        if d.sha256 == digest:
            raise DocumentRejectedError(
                f"{path.name}: the same text is already in the corpus as {d.id} ({d.title})"
            )
    stem = f"{len(existing):03d}_{digest[:16]}"
    text_name = stem + (".md" if extracted.source_type == "markdown" else ".txt")
    suffix = SOURCE_SUFFIXES.get(extracted.source_type)
    source_name = stem + suffix if suffix else None
    info = DocumentInfo(
        id=text_name,
        title=title or extracted.title or _guess_title(extracted.text, path.stem),
        issuer=issuer,
        date=doc_date or date.today().isoformat(),
        source_type=extracted.source_type,
        sha256=digest,
        source_file=source_name,
        page_starts=extracted.page_starts,
    )
    staged: list[tuple[Path, Path]] = []
    tmpdir = Path(tempfile.mkdtemp(prefix=".add-", dir=corpus_dir))
    try:
        (tmpdir / text_name).write_bytes(text_bytes)
        staged.append((tmpdir / text_name, corpus_dir / text_name))
        if source_name:
            (tmpdir / source_name).write_bytes(raw)
            staged.append((tmpdir / source_name, corpus_dir / source_name))
        (tmpdir / MANIFEST_NAME).write_text(_manifest_json([*existing, info]), encoding="utf-8")
        moved: list[Path] = []
        try:
            for src, dst in staged:
                if dst.exists():
                    raise CorpusError(f"{dst.name} already exists in the corpus directory")
                os.replace(src, dst)
                moved.append(dst)
            # The manifest goes last: until it is replaced the new files are unlisted.
            os.replace(tmpdir / MANIFEST_NAME, corpus_dir / MANIFEST_NAME)
        except BaseException:
            for dst in moved:
                dst.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    logger.info("added %s as %s", path.name, text_name)
    return info


def write_manifest(corpus_dir: Path, docs: Sequence[DocumentInfo]) -> None:
    """Write the manifest atomically (used to create a corpus)."""
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    import secrets  # here, not at the top: it loads OpenSSL (hmac), which `shiori ask` never needs

    # Not mkstemp: its 0600 mode would make the manifest unreadable to other users
    # of a shared corpus; "x" mode creates the file with the usual umask.
    tmp = corpus_dir / f".manifest-{secrets.token_hex(8)}.tmp"
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(_manifest_json(docs))
        os.replace(tmp, corpus_dir / MANIFEST_NAME)
    finally:
        tmp.unlink(missing_ok=True)
