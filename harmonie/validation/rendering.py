"""One script as a PDF for its school (R-VAL-7): its pages with the final annotations and
marks drawn on them. PDF pages are rendered with pypdfium2, images read with Pillow; the
drawing is Pillow's, then the pages are saved as one PDF. One script at a time.
"""

import ctypes
import io
import logging
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.scans import pdf_file
from harmonie.referential.scheme import mark_french
from harmonie.referential.selectors import SchemeNode

logger = logging.getLogger(__name__)

DPI = 100  # the scans' own resolution
PAGE_WIDTH = 827  # A4 at 100 dpi
PAGE_HEIGHT = 1169
INK = (200, 0, 0)
NO_DIVISION = "sans-division"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


# glibc's mallopt parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


@cache
def _allocator_keep_pages() -> None:
    """Keep the memory a page frees for the next page instead of handing it back each time.

    A page allocates and frees some 6 MB (its pixels in gray and in RGB, its JPEG): glibc
    gives such blocks back to the system at once and the next page faults them in again,
    a fifth of a script's time (11 -> 8.5 ms). Up to 32 MB of freed memory now stay in the
    process, whose peak does not change. Once per process; nothing outside glibc.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 16 << 20)
        libc.mallopt(_M_TRIM_THRESHOLD, 32 << 20)
    except (OSError, AttributeError):
        return


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",):
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def folder_name(name: str | None) -> str:
    """A safe file or folder name for the zip."""
    cleaned = _SAFE.sub("-", name or "").strip("-.")
    return cleaned or NO_DIVISION


def _french(value: Decimal | float | int) -> str:
    return mark_french(value)


def _page_images(script: Script) -> list[Image.Image]:
    """The script's pages at PAGE_WIDTH, gray ("L") when the scan is, else RGB."""
    images: list[Image.Image] = []
    for relative in script.pages:
        path = Path(settings.SCANS_ROOT) / relative
        try:
            if path.suffix.lower() == ".pdf":
                images.extend(_pdf_pages(path))
            else:
                with Image.open(path) as image:
                    page = _page_sized(image)
                    images.append(image.copy() if page is image else page)
        except (OSError, ValueError, pdfium.PdfiumError):
            logger.warning("copie %s : page illisible %s", script.public_id, relative)
    if not images:
        blank = Image.new("RGB", (PAGE_WIDTH, PAGE_HEIGHT), "white")
        ImageDraw.Draw(blank).text(
            (60, 400), "Copie sans numérisation disponible", fill=(80, 80, 80), font=_font(22)
        )
        images.append(blank)
    return images


def _pdf_pages(path: Path) -> list[Image.Image]:
    document = pdfium.PdfDocument(str(path))
    try:
        images = []
        for page in document:
            try:
                image = _scanned_image(page)
                if image is None:
                    scale = PAGE_WIDTH / page.get_width()
                    bitmap = page.render(scale=scale)
                    image = bitmap.to_pil().convert("RGB")
                    bitmap.close()
                images.append(_page_sized(image))
            finally:
                page.close()
        return images
    finally:
        document.close()


# A scanned page's image read from its stream when its decoded bytes say what they are:
# (components, bits per component) -> Pillow's image mode and raw mode.
_RAW_MODES = {
    (1, 1): ("1", "1"),
    (1, 2): ("L", "L;2"),
    (1, 4): ("L", "L;4"),
    (1, 8): ("L", "L"),
    (3, 8): ("RGB", "RGB"),
}
_COMPONENTS = {pdfium_c.FPDF_COLORSPACE_DEVICEGRAY: 1, pdfium_c.FPDF_COLORSPACE_DEVICERGB: 3}


def _scanned_image(page: pdfium.PdfPage) -> Image.Image | None:
    """A scanner's page, one upright image over the whole page at the resolution the zip
    needs (PAGE_WIDTH wide, a JPEG after its decoder's own scaling), read without rasterising.

    pdfium's rendering resamples the page (11 ms for an A4 page at 100 dpi); reading the
    image's own pixels takes 1–2 ms. Anything else (text, several objects, a rotation,
    another colour space or filter, a size to resample) returns None and is rendered.
    """
    if page.get_rotation():
        return None
    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        return None
    image = objects[0]
    matrix = image.get_matrix()
    left, bottom, right, top = page.get_cropbox()
    placed = (matrix.e, matrix.f, matrix.e + matrix.a, matrix.f + matrix.d)
    if (
        matrix.b
        or matrix.c
        or any(abs(a - b) > 1 for a, b in zip(placed, (left, bottom, right, top), strict=True))
    ):
        return None
    metadata = image.get_metadata()
    components = _COMPONENTS.get(metadata.colorspace)
    filters = image.get_filters()
    if components is None:
        return None
    width, height = metadata.width, metadata.height
    if filters == ["DCTDecode"]:
        jpeg = Image.open(io.BytesIO(bytes(image.get_data())))
        jpeg.draft(None, (PAGE_WIDTH, height * PAGE_WIDTH // width))
        return jpeg if jpeg.mode in ("L", "RGB") and jpeg.width == PAGE_WIDTH else None
    if width != PAGE_WIDTH or any(f not in pdfium.PdfImage.SIMPLE_FILTERS for f in filters):
        return None
    data = image.get_data(decode_simple=True)
    for (count, bits), (mode, raw) in _RAW_MODES.items():
        if count == components and len(data) == (width * count * bits + 7) // 8 * height:
            return Image.frombuffer(mode, (width, height), bytes(data), "raw", raw, 0, 1)
    return None


def _page_sized(image: Image.Image) -> Image.Image:
    """The page PAGE_WIDTH wide, in "L" or "RGB"; a JPEG is decoded at the nearest scale."""
    height = round(image.height * PAGE_WIDTH / image.width)
    if image.format == "JPEG":
        image.draft(None, (PAGE_WIDTH, image.height * PAGE_WIDTH // image.width))
    if image.mode not in ("L", "RGB"):
        image = image.convert("L" if image.mode in ("1", "LA", "I", "I;16", "F") else "RGB")
    else:
        image.load()
    if image.width != PAGE_WIDTH:
        image = image.resize((PAGE_WIDTH, height))
    return image


def _coloured(images: list[Image.Image], index: int) -> Image.Image:
    """The page made RGB before red ink is drawn on it; a page left as it is stays gray."""
    if images[index].mode != "RGB":
        gray = images[index]
        # The gray channel three times: what convert("RGB") gives, in half its time.
        images[index] = Image.merge("RGB", (gray, gray, gray))
        gray.close()
    return images[index]


def _leaf_total(node: SchemeNode, marks: dict) -> Decimal | None:
    if node.is_leaf:
        value = marks.get(node.code)
        return None if value is None else Decimal(str(value))
    totals = [_leaf_total(child, marks) for child in node.children]
    if any(total is None for total in totals):
        return None
    return sum((t for t in totals if t is not None), Decimal(0))


def mark_lines(script: Script, exam: Exam, scheme: list[SchemeNode]) -> list[str]:
    maximum = _french(exam.max_mark)
    if script.special_mark:
        lines = [f"Note : {script.special_mark}"]
    elif script.final_mark is not None:
        lines = [f"Note finale : {_french(script.final_mark)} / {maximum}"]
    else:
        lines = ["Note : —"]
    leaf_marks = script.final_marks if script.final_marks is not None else script.marks
    if not script.special_mark and leaf_marks and scheme:
        for node in scheme:
            total = _leaf_total(node, leaf_marks)
            if total is None:
                continue
            line = f"{node.label or node.code} : {_french(total)} / {_french(node.max_mark)}"
            leaves = [
                f"{child.code} {_french(value)}"
                for child in node.children
                if (value := _leaf_total(child, leaf_marks)) is not None
            ]
            if leaves:
                line += f" ({', '.join(leaves)})"
            lines.append(line)
        if script.final_marks is None and script.delta:
            sign = "+" if script.delta > 0 else ""
            lines.append(f"Harmonisation : {sign}{_french(script.delta)}")
    return lines


def _stamp_marks(image: Image.Image, lines: list[str]) -> None:
    draw = ImageDraw.Draw(image)
    font = _font(15)
    width = max(draw.textlength(line, font=font) for line in lines) + 24
    left = image.width - width - 20
    top = 148
    draw.rectangle(
        (left, top, image.width - 20, top + 22 * len(lines) + 12),
        fill="white",
        outline=INK,
        width=2,
    )
    for index, line in enumerate(lines):
        draw.text((left + 12, top + 8 + 22 * index), line, fill=INK, font=font)


def _point(annotation: dict, image: Image.Image) -> tuple[float, float] | None:
    """Annotation coordinates are fractions of the page (as the marking editor stores them)."""
    x, y = annotation.get("x"), annotation.get("y")
    if not isinstance(x, int | float) or not isinstance(y, int | float):
        return None
    if not (0 <= x <= 1 and 0 <= y <= 1):
        return None
    return x * image.width, y * image.height


def _size(annotation: dict, image: Image.Image) -> tuple[float, float]:
    w, h = annotation.get("w"), annotation.get("h")
    w = w if isinstance(w, int | float) and 0 < w <= 1 else 0.2
    h = h if isinstance(h, int | float) and 0 < h <= 1 else 0.02
    return w * image.width, h * image.height


def _annotation_draw(image: Image.Image, annotation: dict) -> None:
    kind = str(annotation.get("kind") or "comment")
    text = str(annotation.get("text") or annotation.get("comment") or "")
    point = _point(annotation, image)
    draw = ImageDraw.Draw(image, "RGBA")
    if point is None:
        return
    x, y = point
    if kind == "tick":
        draw.line([(x, y), (x + 8, y + 10), (x + 24, y - 12)], fill=INK, width=4)
    elif kind == "cross":
        draw.line([(x, y), (x + 20, y + 20)], fill=INK, width=4)
        draw.line([(x + 20, y), (x, y + 20)], fill=INK, width=4)
    elif kind == "highlight":
        w, h = _size(annotation, image)
        draw.rectangle((x, y, x + w, y + h), fill=(255, 230, 0, 90))
    elif kind == "underline":
        w, _ = _size(annotation, image)
        draw.line([(x, y), (x + w, y)], fill=INK, width=3)
    if text:
        font = _font(14)
        left, top = (x + 28, y - 8) if kind in {"tick", "cross"} else (x, y)
        box = draw.textbbox((left, top), text, font=font)
        draw.rectangle((box[0] - 4, box[1] - 3, box[2] + 4, box[3] + 3), fill=(255, 255, 255, 220))
        draw.text((left, top), text, fill=INK, font=font)


def _appreciation_draw(image: Image.Image, texts: list[str]) -> None:
    draw = ImageDraw.Draw(image)
    font = _font(15)
    lines = [f"Appréciation : {text}" for text in texts]
    top = image.height - 30 - 22 * len(lines)
    draw.rectangle(
        (30, top - 10, image.width - 30, image.height - 20), fill="white", outline=INK, width=2
    )
    for index, line in enumerate(lines):
        draw.text((42, top + 22 * index), line, fill=INK, font=font)


def script_pdf(*, script: Script, exam: Exam, scheme: list[SchemeNode]) -> bytes:
    """The script's pages with its final annotations and marks, as one PDF."""
    _allocator_keep_pages()
    images = _page_images(script)
    _stamp_marks(_coloured(images, 0), mark_lines(script, exam, scheme))
    appreciations = []
    for annotation in script.annotations or []:
        if not isinstance(annotation, dict):
            continue
        kind = str(annotation.get("kind") or "")
        if kind == "appreciation":
            appreciations.append(str(annotation.get("text") or ""))
            continue
        # Pages are numbered from 0 across the script's rendered pages, as in the editor.
        page = annotation.get("page", 0)
        index = page if isinstance(page, int) and 0 <= page < len(images) else 0
        _annotation_draw(_coloured(images, index), annotation)
    if appreciations:
        _appreciation_draw(_coloured(images, len(images) - 1), appreciations)
    try:
        return _pdf_of_jpegs(images, title=script.public_id)
    finally:
        for image in images:
            image.close()


def _pdf_of_jpegs(pages: list[Image.Image], *, title: str) -> bytes:
    """A minimal PDF 1.4 file, one full-page JPEG (quality 60) per page at 100 dpi.

    Written here rather than by Pillow's PDF plugin, which costs as much again as the
    JPEG encoding of a page and stamps the current date into the file.
    """
    objects: list[bytes] = []
    for index, page in enumerate(pages):
        page_id = 3 + 3 * index
        width, height = page.width * 72 / DPI, page.height * 72 / DPI
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:.2f} {height:.2f}] "
            f"/Resources << /XObject << /Page {page_id + 1} 0 R >> >> "
            f"/Contents {page_id + 2} 0 R >>".encode()
        )
        jpeg = io.BytesIO()
        page.save(jpeg, format="JPEG", quality=60)
        colours = "/DeviceRGB" if page.mode == "RGB" else "/DeviceGray"
        objects.append(
            f"<< /Type /XObject /Subtype /Image /Width {page.width} /Height {page.height} "
            f"/ColorSpace {colours} /BitsPerComponent 8 /Filter /DCTDecode "
            f"/Length {jpeg.tell()} >>\nstream\n".encode()
            + jpeg.getbuffer()
            + b"\nendstream"
        )
        drawing = f"q {width:.2f} 0 0 {height:.2f} 0 0 cm /Page Do Q".encode()
        objects.append(
            f"<< /Length {len(drawing)} >>\nstream\n".encode() + drawing + b"\nendstream"
        )
    return pdf_file(objects, title=title)
