from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from harmonie.audit.selectors import audit_entries_for_user
from harmonie.errors import Forbidden


@login_required
def journal(request: HttpRequest) -> HttpResponse:
    try:
        entries = audit_entries_for_user(user=request.user)
    except Forbidden as refused:
        raise PermissionDenied(refused.message) from None
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/journal.html",
        {
            "page_title": "Journal des modifications",
            "page": page,
            "breadcrumb": {"current": "Journal des modifications"},
        },
    )
