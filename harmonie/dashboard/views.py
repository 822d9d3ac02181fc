from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from harmonie.audit.permissions import view_audit
from harmonie.dashboard.selectors import dashboard_exams


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard/home.html",
        {
            "page_title": "Tableau de bord",
            "exams": dashboard_exams(user=request.user),
            "can_view_audit": view_audit(user=request.user),
        },
    )
