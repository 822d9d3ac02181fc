"""Django's admin login through the same throttle as the login page and the token endpoint
(R-ACC-1). Production does not route /admin/ at all (config/urls.py)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from harmonie.accounts.services import login_check
from harmonie.errors import DomainError


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = login_check(
                    request=self.request, username=username, password=password
                )
            except DomainError as refused:
                raise ValidationError(refused.message, code=refused.code) from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
