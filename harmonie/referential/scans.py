"""Synthetic page scans: handwriting-like A4 pages in small grayscale PDF files.

Pages are drawn with Pillow and wrapped in a minimal PDF written here rather than by
Pillow's PDF plugin: that plugin stores grayscale pages as JPEG, several times bigger
than Flate for pen strokes on white paper, and stamps the current date into the file.
Each scan draws from its own ``random.Random`` seeded with the session seed and the scan
name, so files are byte-identical from one run to the next and can be drawn in any order.
"""

import math
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path
from random import Random

from PIL import Image, ImageDraw, ImageFont

PAGE_WIDTH, PAGE_HEIGHT = 827, 1169  # A4 at 100 dpi
_PAGE_POINTS = ("595.28", "841.89")  # A4 in PDF points
_LINE_SPACING = 32  # Seyès main ruling (8 mm)
_TOP_LINE = 200
_MARGIN_X = 110
# Pages are drawn in 16 gray levels (0 black, 15 white) and stored 4 bits a pixel: half
# the data to compress, and no visible loss for pen strokes on ruled paper.
_PAPER, _RULING, _MARGIN_INK, _BAND, _PRINT = 15, 12, 10, 14, 1
_WORD_SHAPES = 240
_HANDS = 8
_PARALLEL_FROM = 64  # below this many scans, starting worker processes costs more than it saves

WordMask = tuple[int, int, int, Image.Image]  # advance, left and top offsets, stroke mask


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=18)


@cache
def _word_shapes() -> tuple[tuple[float, tuple[tuple[float, float], ...]], ...]:
    """A fixed repertoire of cursive words: (width, points above a baseline at y = 0)."""
    rng = Random("harmonie-handwriting")
    shapes = []
    for _ in range(_WORD_SHAPES):
        points: list[tuple[float, float]] = []
        x = 0.0
        wobble = rng.uniform(0.0, math.tau)
        for _letter in range(rng.randint(2, 8)):
            kind = rng.random()
            if kind < 0.45:  # arches, as in m, n, u
                width, height, loop = rng.uniform(9, 12), rng.uniform(8, 11), 0.5
            elif kind < 0.75:  # small loops, as in e, a, o
                width, height, loop = rng.uniform(7, 10), rng.uniform(7, 10), 1.4
            elif kind < 0.9:  # ascenders, as in l, b, d
                width, height, loop = rng.uniform(7, 9), rng.uniform(20, 26), 1.3
            else:  # descenders, as in g, p, q
                width, height, loop = rng.uniform(8, 10), -rng.uniform(14, 18), 1.2
            radius = loop * width / math.tau
            for step in range(10):
                t = step * math.tau / 10
                y = -height * (1 - math.cos(t)) / 2 + 1.2 * math.sin(x * 0.05 + wobble)
                points.append((x + width * t / math.tau - radius * math.sin(t), y))
            x += width
        points.append((x + 3, 0.0))
        shapes.append((x, tuple(points)))
    return tuple(shapes)


@cache
def _hand_words(hand: int) -> tuple[WordMask, ...]:
    """The repertoire as written by one hand (size and slant), drawn once per process.

    Pasting pre-drawn words keeps a page well under 20 ms; the hands, the ink and the
    layout make scans look different from one another.
    """
    rng = Random(f"harmonie-hand-{hand}")
    scale_x, scale_y, slant = rng.uniform(1.0, 1.3), rng.uniform(0.9, 1.2), rng.uniform(0.1, 0.45)
    words = []
    for width, points in _word_shapes():
        placed = [(scale_x * px - slant * scale_y * py, scale_y * py) for px, py in points]
        left = math.floor(min(x for x, _ in placed)) - 2
        top = math.floor(min(y for _, y in placed)) - 2
        size = (
            math.ceil(max(x for x, _ in placed)) - left + 3,
            math.ceil(max(y for _, y in placed)) - top + 3,
        )
        mask = Image.new("1", size, 0)
        ImageDraw.Draw(mask).line([(x - left, y - top) for x, y in placed], fill=1, width=2)
        words.append((round(width * scale_x), left, top, mask))
    return tuple(words)


def scan_render(*, name: str, exam: str, seed: int) -> bytes:
    """One scan: a PDF of 1 or 2 handwritten pages headed by the anonymous script id.

    The header carries only the anonymous id and the exam code, never the candidate's
    name or number (R-UNIT-2).
    """
    rng = Random(f"{seed}:{name}")
    page_count = 1 if rng.random() < 0.5 else 2
    words = _hand_words(rng.randrange(_HANDS))
    ink = rng.randint(0, 4)
    pages = []
    for page in range(1, page_count + 1):
        if page < page_count:
            fill = 1.0
        else:
            fill = rng.uniform(0.5, 1.0) if page_count == 1 else rng.uniform(0.15, 0.7)
        image = Image.new("L", (PAGE_WIDTH, PAGE_HEIGHT), _PAPER)
        draw = ImageDraw.Draw(image)
        _header_draw(draw, name=name, exam=exam, page=page, page_count=page_count)
        _text_draw(rng, image, draw, words=words, ink=ink, fill=fill)
        pages.append(image)
    return _pdf(pages, title=name)


def scan_file_write(*, directory: Path, name: str, exam: str, seed: int) -> Path:
    """Write one scan as `<directory>/<name>.pdf`."""
    path = directory / f"{name}.pdf"
    path.write_bytes(scan_render(name=name, exam=exam, seed=seed))
    return path


def scans_write(
    *, directory: Path, names: Sequence[str], exam: str, seed: int, workers: int | None = None
) -> int:
    """Write every named scan into `directory`, on all processors for big sets."""
    if not names:
        return 0
    directory.mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(names) < _PARALLEL_FROM:
        for name in names:
            scan_file_write(directory=directory, name=name, exam=exam, seed=seed)
        return len(names)
    jobs = [(directory, name, exam, seed) for name in names]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(_scan_job, jobs, chunksize=32):
            pass
    return len(names)


def _scan_job(job: tuple[Path, str, str, int]) -> None:
    directory, name, exam, seed = job
    scan_file_write(directory=directory, name=name, exam=exam, seed=seed)


def _text_draw(
    rng: Random, image: Image.Image, draw: ImageDraw.ImageDraw, *,
    words: Sequence[WordMask], ink: int, fill: float,
) -> None:  # fmt: skip
    """Ruled paper, then paragraphs of words down to `fill` of the page, one maybe crossed out."""
    for y in range(_TOP_LINE, PAGE_HEIGHT - 40, _LINE_SPACING):
        draw.line((30, y, PAGE_WIDTH - 30, y), fill=_RULING)
    draw.line((_MARGIN_X, 170, _MARGIN_X, PAGE_HEIGHT - 30), fill=_MARGIN_INK, width=2)
    line_count = int((PAGE_HEIGHT - 40 - _TOP_LINE) // _LINE_SPACING * fill)
    crossed_out = rng.randrange(line_count * 3) if line_count and rng.random() < 0.4 else -1
    word = 0
    new_paragraph = True
    skip_line = False
    for line in range(line_count):
        if skip_line:
            skip_line = False
            continue
        baseline = _TOP_LINE + line * _LINE_SPACING - 4
        x = _MARGIN_X + 15 + (40 if new_paragraph else rng.randint(0, 4))
        end = PAGE_WIDTH - 45 - rng.randint(0, 40)
        new_paragraph = rng.random() < 0.15
        if new_paragraph:
            end = x + rng.randint(120, 450)
            skip_line = rng.random() < 0.6
        while True:
            advance, left, top, mask = words[rng.randrange(len(words))]
            if x + advance > end:
                break
            image.paste(ink, (x + left, baseline + top), mask)
            if word == crossed_out:
                draw.line((x - 4, baseline - 5, x + advance + 4, baseline - 9), fill=ink, width=2)
                draw.line((x - 4, baseline - 9, x + advance + 4, baseline - 4), fill=ink, width=2)
            word += 1
            x += advance + rng.randint(12, 24)


def _header_draw(
    draw: ImageDraw.ImageDraw, *, name: str, exam: str, page: int, page_count: int
) -> None:
    # The bundled font has no accented capitals: header wording is kept to plain letters.
    draw.rectangle((30, 30, PAGE_WIDTH - 30, 140), fill=_BAND, outline=_MARGIN_INK, width=2)
    draw.text((50, 48), f"Copie anonyme : {name}", fill=_PRINT, font=_font())
    draw.text((50, 82), f"Examen : {exam}", fill=_PRINT, font=_font())
    draw.text((PAGE_WIDTH - 170, 48), f"Page {page}/{page_count}", fill=_PRINT, font=_font())
    # A bar code of the anonymous id, as printed on the anonymity band of real scripts.
    x = 430
    for byte in name.encode("ascii"):
        for bit in range(7):
            bar = 3 if byte >> bit & 1 else 1
            draw.rectangle((x, 95, x + bar - 1, 128), fill=0)
            x += bar + 2


def _pdf(pages: Sequence[Image.Image], *, title: str) -> bytes:
    """A minimal PDF 1.4 file, one full-page Flate-compressed 4-bit gray image per page."""
    objects: list[bytes] = []
    width, height = _PAGE_POINTS
    drawing = f"q {width} 0 0 {height} 0 0 cm /Scan Do Q".encode()
    for index, page in enumerate(pages):
        page_id = 3 + 3 * index
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            f"/Resources << /XObject << /Scan {page_id + 1} 0 R >> >> "
            f"/Contents {page_id + 2} 0 R >>".encode()
        )
        pixels = zlib.compress(page.tobytes("raw", "L;4"), 6)
        objects.append(
            f"<< /Type /XObject /Subtype /Image /Width {page.width} /Height {page.height} "
            f"/ColorSpace /DeviceGray /BitsPerComponent 4 /Filter /FlateDecode "
            f"/Length {len(pixels)} >>\nstream\n".encode()
            + pixels
            + b"\nendstream"
        )
        objects.append(
            f"<< /Length {len(drawing)} >>\nstream\n".encode() + drawing + b"\nendstream"
        )
    return pdf_file(objects, title=title)


def pdf_file(page_objects: Sequence[bytes], *, title: str) -> bytes:
    """A PDF 1.4 file around its pages' objects: three per page (the page, its image, its
    drawing), numbered from 3 on; the catalog, the page tree, the title and the cross
    reference table are written here (the scans and the schools' script PDFs)."""
    count = len(page_objects) // 3
    kids = " ".join(f"{3 + 3 * index} 0 R" for index in range(count))
    literal = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode(),
        *page_objects,
        f"<< /Title ({literal}) /Producer (Harmonie) >>".encode(),
    ]
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(output)
    output += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        output += f"{offset:010d} 00000 n \n".encode()
    output += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(output)
