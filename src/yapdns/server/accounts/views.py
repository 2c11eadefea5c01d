"""A user's own query tokens over the API.

``/api/v1/tokens`` (GET the caller's tokens, POST create → token shown once) and
``/api/v1/tokens/<id>/revoke`` act on the caller's own query tokens only.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec
from django.http import HttpRequest, HttpResponse, JsonResponse

from yapdns.core.errors import ConfigurationError
from yapdns.server.accounts import services
from yapdns.server.accounts.models import ApiToken
from yapdns.server.jsonbody import decode_body
from yapdns.server.security import Principal, api_view, error


class _NewToken(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = "api"


_TOKEN_ID = re.compile(r"[1-9][0-9]{0,17}")


def token_json(token: ApiToken) -> dict[str, object]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at.isoformat(),
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
        "active": token.active,
    }


@api_view("query", methods=("GET", "POST"))
def tokens(request: HttpRequest, principal: Principal) -> HttpResponse:
    assert principal.user is not None
    if request.method == "GET":
        return JsonResponse({"tokens": [token_json(t) for t in ApiToken.objects.filter(user=principal.user)]})
    spec = decode_body(request, _NewToken, empty=b"{}")
    if isinstance(spec, HttpResponse):
        return spec
    row, token = services.create_query_token(principal.user, spec.name)
    return JsonResponse({"token": token, **token_json(row)}, status=201)


@api_view("query", methods=("POST",))
def revoke_token(request: HttpRequest, principal: Principal, token_id: str) -> HttpResponse:
    assert principal.user is not None
    if not _TOKEN_ID.fullmatch(token_id):  # the route takes any text, so that every miss is a JSON 404
        return error(404, f"no token with id {token_id[:30]!r}")
    try:
        row = services.revoke_query_token(int(token_id), principal.user)
    except ConfigurationError as exc:
        return error(404, str(exc))
    return JsonResponse(token_json(row))
