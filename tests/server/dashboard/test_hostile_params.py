"""Dashboard pages and forms given hostile parameter values answer 2xx/3xx/4xx, never 5xx (issue 13)."""

from __future__ import annotations

from django.test import Client

from yapdns.storage.base import Store

HOSTILE = [
    "", "0", "-1", "9" * 25, "9" * 5000, "\u0663", "\u00b2", "NaN", "1.5", "'; DROP TABLE auth_user; --",
    "<script>alert(1)</script>", "\x00", "a" * 3000, "\ufffd", "*.*", "k4GhYQGBoWICgaFjAw", "2026-13-45",
    "-99999999999999999999",
]
GET_PAGES = ["/", "/search", "/pivot", "/record", "/domain/a.example", "/ip/192.0.2.1", "/api/v1/pivot",
             "/manage/sensors", "/manage/tokens", "/manage/users"]
GET_PARAMS = ["q", "page", "page_size", "limit", "sort", "cursor", "cursor_in", "cursor_out", "in", "node", "new",
              "from", "to", "rrtype", "sensor", "evidence", "format", "first_after", "first_before", "last_after",
              "last_before", "rrname", "rdata"]
POST_FORMS = {
    "/manage/tokens": ["action=revoke", "action=create"],
    "/manage/sensors": [""],
    "/manage/sensors/edge": ["action=revoke_token", "action=new_token", "action=bogus"],
    "/manage/users": [""],
    "/manage/users/1": ["action=role", "action=enable", "action=bogus"],
}
POST_PARAMS = ["token_id", "name", "description", "username", "password", "role", "action"]


# Parameters a page reads as numbers or tokens: also sent one at a time, so that no other one is refused first.
ALONE = {"/search": ["page", "page_size", "limit", "cursor", "sort"], "/": ["new"], "/domain/a.example": ["cursor"],
         "/ip/192.0.2.1": ["cursor"], "/api/v1/pivot": ["node", "cursor_in", "cursor_out"]}


def test_get_params_with_hostile_values_never_5xx(admin_client: Client, loaded: Store) -> None:
    for page in GET_PAGES:
        for value in HOSTILE:
            every = dict.fromkeys(GET_PARAMS, value)
            assert admin_client.get(page, every).status_code < 500, (page, value[:40])
            for name in ALONE.get(page, []):
                status = admin_client.get(page, {"q": "www.example.com", name: value}).status_code
                assert status < 500, (page, name, value[:40], status)


def test_post_forms_with_hostile_values_never_5xx(admin_client: Client, loaded: Store) -> None:
    for page, bases in POST_FORMS.items():
        for base in bases:
            fixed = dict([base.split("=", 1)]) if base else {}
            for value in HOSTILE:
                every = {**dict.fromkeys(POST_PARAMS, value), **fixed}
                assert admin_client.post(page, every).status_code < 500, (page, base, value[:40])
                status = admin_client.post(page, {**fixed, "token_id": value}).status_code
                assert status < 500, (page, base, value[:40], status)
