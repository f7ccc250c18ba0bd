"""The corpus: documents on disk plus a manifest, and the atomic ``add`` operation.

Documents are stored as text files in the corpus directory and never rewritten:
they are the source of truth for every quote. ``manifest.json`` lists each
document's id (its file name), title, issuer, date and source type; for a PDF it
also names the original file and the line at which each page starts in the
extracted text stored beside it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.errors import CorpusError, DocumentRejectedError
from assistant.normalize import normalize

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_SCHEMA = 1
SUPPORTED_SUFFIXES = (".txt", ".md", ".pdf")


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """One manifest entry. ``id`` is the file name of the text in the corpus."""

    id: str
    title: str
    issuer: str = ""
    date: str = ""
    source_type: str = "text"
    sha256: str = ""
    #: For PDFs: the original PDF's file name in the corpus directory.
    source_file: str | None = None
    #: For PDFs: 1-based line where each page starts in the extracted text.
    page_starts: tuple[int, ...] | None = None

    def page_of(self, line: int) -> int | None:
        """The 1-based page that holds ``line``, or ``None`` for non-paged documents."""
        if not self.page_starts:
            return None
        return max(1, bisect_right(self.page_starts, line))

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
    docs: list[Document] = []
    for info in infos:
        path = corpus_dir / info.id
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as e:
            raise CorpusError(f"document {info.id} listed in the manifest cannot be read: {e}") from e
        except UnicodeDecodeError as e:
            raise CorpusError(f"document {info.id} is not UTF-8: {e}") from e
        docs.append(Document(info=info, text=text, lines=tuple(text.split("\n"))))
    listed = {d.id for d in infos} | {d.source_file for d in infos if d.source_file}
    for p in sorted(corpus_dir.iterdir()):
        if p.suffix in SUPPORTED_SUFFIXES and p.name not in listed:
            logger.warning("%s is in the corpus directory but not in the manifest; ignored", p.name)
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
    """Add a .txt, .md or .pdf file to the corpus, atomically.

    The text is stored as ``NNN_<sha16>.txt|.md`` (a PDF is kept as
    ``NNN_<sha16>.pdf`` with its extracted text as ``NNN_<sha16>.txt``) and the
    manifest is rewritten. On any error nothing in the corpus directory changes.
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
    source_name = stem + ".pdf" if extracted.source_type == "pdf" else None
    info = DocumentInfo(
        id=text_name,
        title=title or _guess_title(extracted.text, path.stem),
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
    # Not mkstemp: its 0600 mode would make the manifest unreadable to other users
    # of a shared corpus; "x" mode creates the file with the usual umask.
    tmp = corpus_dir / f".manifest-{secrets.token_hex(8)}.tmp"
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(_manifest_json(docs))
        os.replace(tmp, corpus_dir / MANIFEST_NAME)
    finally:
        tmp.unlink(missing_ok=True)
