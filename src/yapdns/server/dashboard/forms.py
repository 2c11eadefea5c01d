"""Forms of the management pages (CSRF-protected, validated server-side)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation

from yapdns.server.accounts.roles import ROLES
from yapdns.server.accounts.usernames import USERNAME_MAX, check_username
from yapdns.server.sensors.models import SENSOR_NAME

ROLE_CHOICES = [(r, r) for r in ROLES]


class SensorForm(forms.Form):
    name = forms.CharField(max_length=64, validators=[SENSOR_NAME], help_text="Letters, digits, dots, dashes.")
    description = forms.CharField(max_length=200, required=False)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, initial="api", help_text="What the token is for.")


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=USERNAME_MAX, strip=False, help_text="Letters, digits and @ . + - _")
    password = forms.CharField(widget=forms.PasswordInput, strip=False, help_text="At least 10 characters.")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="analyst")

    def clean_username(self) -> str:
        username = check_username(self.cleaned_data["username"])
        if get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("password") and data.get("username"):
            user = get_user_model()(username=data["username"])
            try:
                password_validation.validate_password(data["password"], user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)
