"""One script as the PDF its school gets (R-VAL-7): the pages read at the zip's resolution
without rasterising when they are plain scans, rendered by pdfium otherwise, and saved the
same way every time (issue 16, item 4: cheaper per script, the same pages for the school)."""

import io
from decimal import Decimal

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from harmonie.marking.models import Script
from harmonie.referential.scans import scan_render
from harmonie.validation import rendering
from harmonie.validation.rendering import PAGE_WIDTH, script_pdf
from tests.factories import ExamFactory

pytestmark = pytest.mark.django_db


def _scan_at(dpi: int, mode: str) -> bytes:
    """A scanner's PDF: one full-page JPEG at `dpi`, as Pillow (and most scanners) write it."""
    page = pdfium.PdfDocument(scan_render(name="S-000001", exam="FRA-ECRIT", seed=4))[0]
    image = page.render(scale=dpi / 72).to_pil().convert(mode)
    if mode == "RGB":
        ImageDraw.Draw(image).rectangle((40, 300, 400, 340), fill=(20, 120, 200))
    output = io.BytesIO()
    image.save(output, format="PDF", resolution=float(dpi), quality=85)
    return output.getvalue()


def _drawn_page() -> bytes:
    """A page that is not a scan: a vector rectangle, so pdfium must render it."""
    document = pdfium.PdfDocument.new()
    page = document.new_page(595.28, 841.89)
    rectangle = pdfium_c.FPDFPageObj_CreateNewRect(100, 100, 300, 200)
    pdfium_c.FPDFPageObj_SetFillColor(rectangle, 0, 0, 0, 255)
    pdfium_c.FPDFPath_SetDrawMode(rectangle, pdfium_c.FPDF_FILLMODE_ALTERNATE, False)
    pdfium_c.FPDFPage_InsertObject(page, rectangle)
    pdfium_c.FPDFPage_GenerateContent(page)
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def _difference(direct: Image.Image, page: pdfium.PdfPage) -> float:
    rendered = page.render(scale=PAGE_WIDTH / page.get_width()).to_pil().convert("RGB")
    rendered = rendered.resize(direct.size)
    return max(ImageStat.Stat(ImageChops.difference(direct.convert("RGB"), rendered)).mean)


@pytest.mark.parametrize(
    ("label", "scan"),
    [
        ("generated scan, 4-bit gray Flate, 100 dpi", lambda: scan_render(name="S-1", exam="X", seed=4)),
        ("scanner JPEG, gray, 100 dpi", lambda: _scan_at(100, "L")),
        ("scanner JPEG, colour, 200 dpi", lambda: _scan_at(200, "RGB")),
    ],
)  # fmt: skip
def test_plain_scans_are_read_without_rasterising_and_look_the_same(label, scan):
    """A full-page scan at the zip's resolution (or a JPEG its decoder scales to it) is read
    from its own pixels, and differs from pdfium's rendering only by resampling."""
    page = pdfium.PdfDocument(scan())[0]
    direct = rendering._scanned_image(page)
    assert direct is not None, label
    assert direct.width == PAGE_WIDTH
    assert _difference(direct, page) < 4, label


@pytest.mark.parametrize(
    "scan",
    [_drawn_page, lambda: _scan_at(300, "L")],
    ids=["vector drawing", "JPEG to resample (300 dpi)"],
)
def test_other_pages_are_rendered_by_pdfium(scan):
    assert rendering._scanned_image(pdfium.PdfDocument(scan())[0]) is None


@pytest.fixture
def script(settings, tmp_path):
    settings.SCANS_ROOT = tmp_path
    (tmp_path / "vector.pdf").write_bytes(_drawn_page())
    (tmp_path / "scan.pdf").write_bytes(_scan_at(100, "L"))
    (tmp_path / "scan300.pdf").write_bytes(_scan_at(300, "L"))
    return Script(
        public_id="S-000001",
        pages=["scan.pdf", "vector.pdf", "scan300.pdf", "scan.pdf"],
        annotations=[{"kind": "tick", "page": 0, "x": 0.5, "y": 0.5}],
        marks={"Q1": 3, "Q2": 4.5, "P2": 7},
        final_mark=Decimal("14.5"),
        delta=Decimal(0),
    )


def _colour_spaces(pdf: bytes) -> list[int]:
    document = pdfium.PdfDocument(pdf)
    spaces = []
    for page in document:
        (image,) = list(page.get_objects())
        spaces.append(image.get_metadata().colorspace)
    return spaces


def test_pages_come_at_the_zips_resolution_and_stay_gray_when_nothing_is_drawn(script):
    """Every page PAGE_WIDTH wide, whichever way it was read (directly, or rendered by
    pdfium: a drawing, a 300 dpi scan); the page with the marks and the tick in colour, a
    gray scan nobody drew on kept gray (the school sees the same page, half the work to
    encode)."""
    pdf = script_pdf(script=script, exam=ExamFactory(code="FRA-ECRIT"), scheme=[])
    document = pdfium.PdfDocument(pdf)
    assert len(document) == 4
    assert [round(page.get_width() * 100 / 72) for page in document] == [PAGE_WIDTH] * 4
    gray, rgb = pdfium_c.FPDF_COLORSPACE_DEVICEGRAY, pdfium_c.FPDF_COLORSPACE_DEVICERGB
    assert _colour_spaces(pdf) == [rgb, rgb, rgb, gray]  # pdfium renders in colour


def test_the_same_script_gives_the_same_bytes(script):
    """No date or random name inside: a part rendered again, or by another worker, writes
    exactly what the first rendering wrote."""
    exam = ExamFactory(code="FRA-ECRIT")
    assert script_pdf(script=script, exam=exam, scheme=[]) == script_pdf(
        script=script, exam=exam, scheme=[]
    )
