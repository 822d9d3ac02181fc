"""HTTP answers shared by pages and API: the school's zip as a stream, a file, or 202."""

import json

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

from harmonie.validation.archives import Download

BUILDING = "Le fichier zip est en préparation : réessayez dans quelques instants."


def download_response(download: Download) -> HttpResponse:
    """Stream the zip, send the built file, or say (202) that it is still being built."""
    if download.stream is not None:
        response = StreamingHttpResponse(download.stream, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
        return response
    if download.path is not None:
        return FileResponse(
            download.path.open("rb"), as_attachment=True, filename=download.filename
        )
    response = HttpResponse(
        json.dumps({"status": "building", "message": BUILDING}, ensure_ascii=False),
        status=202,
        content_type="application/json",
    )
    response["Retry-After"] = "10"
    return response
