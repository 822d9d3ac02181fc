"""A script's pages as images for the browser: PDF pages rendered with pypdfium2,
image files re-encoded with Pillow, both cached on disk under MEDIA_ROOT/page-cache.

Pages are numbered from 1 across the script's files in order (a PDF contributes each of
its pages). Widths are rounded up to a few sizes so that the cache stays bounded.
"""

import hashlib
import io
import os
import threading
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from PIL import Image

from harmonie.errors import InvalidInput, NotFound
from harmonie.marking.models import Script

WIDTHS = (160, 800, 1200, 1600, 2400)
DEFAULT_WIDTH = 1200
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".webp", ".bmp")
# PDFium is not thread-safe: one render at a time per process.
_PDFIUM = threading.Lock()


def _source_path(relative: str) -> Path | None:
    """The scan file, or None for a path that would leave the scans folder."""
    root = Path(settings.SCANS_ROOT).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        return None
    return path


@lru_cache(maxsize=4096)
def _pdf_page_count(path: str, mtime_ns: int) -> int:
    import pypdfium2

    with _PDFIUM:
        pdf = pypdfium2.PdfDocument(path)
        try:
            return len(pdf)
        finally:
            pdf.close()


def script_page_sources(*, script: Script) -> list[tuple[Path, int]]:
    """(file, page index inside the file) for each page of the script, in order.

    A missing file counts as no page (the viewer says so rather than failing).
    """
    sources: list[tuple[Path, int]] = []
    for relative in script.pages:
        path = _source_path(relative)
        if path is None or not path.is_file():
            continue
        if path.suffix.lower() == ".pdf":
            try:
                count = _pdf_page_count(str(path), path.stat().st_mtime_ns)
            except Exception:
                count = 0
            sources.extend((path, index) for index in range(count))
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            sources.append((path, 0))
    return sources


def script_page_count(*, script: Script) -> int:
    return len(script_page_sources(script=script))


def width_choose(raw: object) -> int:
    if raw in (None, ""):
        return DEFAULT_WIDTH
    try:
        width = int(str(raw))
    except ValueError:
        raise InvalidInput("« width » doit être un entier (largeur en pixels).") from None
    if not 1 <= width <= WIDTHS[-1]:
        raise InvalidInput(f"« width » doit être compris entre 1 et {WIDTHS[-1]}.")
    return next(size for size in WIDTHS if size >= width)


def _render(path: Path, index: int, width: int) -> bytes:
    if path.suffix.lower() == ".pdf":
        import pypdfium2

        with _PDFIUM:
            pdf = pypdfium2.PdfDocument(str(path))
            try:
                page = pdf[index]
                scale = width / page.get_width()
                image = page.render(scale=scale, grayscale=True).to_pil()
                page.close()
            finally:
                pdf.close()
    else:
        with Image.open(path) as source:
            source.load()
            ratio = width / source.width
            image = source.convert("L").resize(
                (width, max(1, round(source.height * ratio))), Image.Resampling.LANCZOS
            )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=width <= WIDTHS[0])
    return buffer.getvalue()


def page_image(*, script: Script, number: int, width: int) -> Path:
    """The PNG of page `number` (from 1) at `width` pixels, rendered once and cached."""
    sources = script_page_sources(script=script)
    if not 1 <= number <= len(sources):
        raise NotFound(f"Page {number} introuvable pour cette copie.")
    path, index = sources[number - 1]
    stat = path.stat()
    key = hashlib.sha256(
        f"{path}|{stat.st_mtime_ns}|{stat.st_size}|{index}|{width}".encode()
    ).hexdigest()
    cached = Path(settings.MEDIA_ROOT) / "page-cache" / key[:2] / f"{key}.png"
    if cached.is_file():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    data = _render(path, index, width)
    partial = cached.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, cached)
    return cached
