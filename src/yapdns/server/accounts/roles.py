"""The three roles and what each may do.

* ``admin``: everything, including managing users;
* ``analyst``: search, and manage sensors and their own tokens;
* ``read-only``: search only (and their own query tokens).

A role is a Django group of that name; superusers are always admins.
"""

from __future__ import annotations

from typing import Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

Role = Literal["admin", "analyst", "read-only"]
ROLES: tuple[Role, ...] = ("admin", "analyst", "read-only")


def role_of(user: AbstractBaseUser | AnonymousUser) -> Role | None:
    """The user's role, or None for anonymous or inactive users."""
    if not user.is_authenticated or not user.is_active:
        return None
    if getattr(user, "is_superuser", False):
        return "admin"
    names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    for role in ROLES:
        if role in names:
            return role
    return "read-only"


def set_role(user: AbstractBaseUser, role: Role) -> None:
    """Put ``user`` in exactly one role group."""
    groups = [Group.objects.get_or_create(name=r)[0] for r in ROLES]
    user.groups.remove(*groups)  # type: ignore[attr-defined]
    user.groups.add(next(g for g in groups if g.name == role))  # type: ignore[attr-defined]


def can_manage_sensors(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) in ("admin", "analyst")


def can_manage_users(user: AbstractBaseUser | AnonymousUser) -> bool:
    return role_of(user) == "admin"


def can_annotate(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may add and remove the team's notes and tags (everyone may read them)."""
    return role_of(user) in ("admin", "analyst")
