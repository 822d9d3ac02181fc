from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode

from harmonie.audit.permissions import JOURNAL_REFUSED, view_audit
from harmonie.audit.selectors import (
    JournalFilter,
    journal_actions,
    journal_authors,
    journal_entries,
    journal_filter_parse,
)
from harmonie.audit.wording import action_label, state_lines, target_text
from harmonie.errors import InvalidInput

PAGE_SIZE = 50
TITLE = "Journal des modifications"


@login_required
def journal(request: HttpRequest) -> HttpResponse:
    """The academy's journal in French, filtered by action, author and dates (R-ACC-1)."""
    if not view_audit(user=request.user):
        raise PermissionDenied(JOURNAL_REFUSED)
    error = ""
    status = 200
    try:
        journal_filter = journal_filter_parse(data=request.GET)
    except InvalidInput as refused:
        journal_filter, error, status = JournalFilter(), refused.message, 400
    entries = journal_entries(user=request.user, journal_filter=journal_filter)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": entry,
            "action": action_label(entry.action),
            "target": target_text(target_type=entry.target_type, target_id=entry.target_id),
            "before": state_lines(entry.before),
            "after": state_lines(entry.after),
        }
        for entry in page
    ]
    return render(
        request,
        "audit/journal.html",
        {
            "page_title": TITLE,
            "breadcrumb": {"current": TITLE},
            "page": page,
            "rows": rows,
            "filter": journal_filter,
            "filter_query": urlencode(journal_filter.as_query()),
            "actions": journal_actions(user=request.user),
            "authors": journal_authors(user=request.user),
            "error": error,
        },
        status=status,
    )
