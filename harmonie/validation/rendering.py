"""One script as a PDF for its school (R-VAL-7): its pages with the final annotations and
marks drawn on them. PDF pages are rendered with pypdfium2, images read with Pillow; the
drawing is Pillow's, then the pages are saved as one PDF. One script at a time.
"""

import io
import logging
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

import pypdfium2 as pdfium
from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from harmonie.marking.models import Script
from harmonie.referential.models import Exam
from harmonie.referential.scheme import mark_french
from harmonie.referential.selectors import SchemeNode

logger = logging.getLogger(__name__)

PAGE_WIDTH = 827  # A4 at 100 dpi, the scans' own resolution
PAGE_HEIGHT = 1169
INK = (200, 0, 0)
NO_DIVISION = "sans-division"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


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
    images: list[Image.Image] = []
    for relative in script.pages:
        path = Path(settings.SCANS_ROOT) / relative
        try:
            if path.suffix.lower() == ".pdf":
                document = pdfium.PdfDocument(str(path))
                try:
                    for index in range(len(document)):
                        page = document[index]
                        scale = PAGE_WIDTH / page.get_width()
                        bitmap = page.render(scale=scale)
                        images.append(bitmap.to_pil().convert("RGB"))
                        bitmap.close()
                        page.close()
                finally:
                    document.close()
            else:
                with Image.open(path) as image:
                    image = image.convert("RGB")
                    if image.width != PAGE_WIDTH:
                        height = round(image.height * PAGE_WIDTH / image.width)
                        image = image.resize((PAGE_WIDTH, height))
                    images.append(image)
        except (OSError, pdfium.PdfiumError):
            logger.warning("copie %s : page illisible %s", script.public_id, relative)
    if not images:
        blank = Image.new("RGB", (PAGE_WIDTH, PAGE_HEIGHT), "white")
        ImageDraw.Draw(blank).text(
            (60, 400), "Copie sans numérisation disponible", fill=(80, 80, 80), font=_font(22)
        )
        images.append(blank)
    return images


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
    images = _page_images(script)
    _stamp_marks(images[0], mark_lines(script, exam, scheme))
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
        _annotation_draw(images[index], annotation)
    if appreciations:
        _appreciation_draw(images[-1], appreciations)
    output = io.BytesIO()
    try:
        images[0].save(
            output,
            format="PDF",
            save_all=True,
            append_images=images[1:],
            resolution=100.0,
            quality=60,
            title=script.public_id,
        )
    finally:
        # Pillow's PDF writer leaves reference cycles: without closing, each page's pixels
        # would wait for the cyclic garbage collector, and memory would grow with the zip.
        for image in images:
            image.close()
    return output.getvalue()
