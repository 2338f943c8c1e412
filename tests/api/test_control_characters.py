"""NUL and other control characters: a 422 naming the field, on SQLite and PostgreSQL.

Before: PostgreSQL answered 500 ("text fields cannot contain NUL") and on
SQLite ``q=%00`` matched every offer.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from territorio.api._middleware import control_character_field
from territorio.api.models import OfferList, OfferOut

from .conftest import ADMIN_TOKEN
from .support import auth, body, problem
from .test_accounts import new_member
from .test_offers import OFFER


def _field(resp: object, field: str) -> None:
    p = problem(resp, 422)  # type: ignore[arg-type]
    assert p.errors is not None and [e.field for e in p.errors] == [field]
    assert "control characters" in (p.detail or "")


def test_nul_in_body_and_query_is_422_on_both_engines(any_db_client: TestClient) -> None:
    c = any_db_client
    _, token = new_member(c, "Coop NUL", "cooperative", "nul@coop.it")
    ok = body(c.post("/offers", json=OFFER, headers=auth(token)), OfferOut, 201)
    # every string field of the body, nested ones included
    _field(c.post("/offers", json={**OFFER, "title": "Doposcuola\u0000"}, headers=auth(token)),
           "body.title")  # fmt: skip
    _field(c.post("/offers", json={**OFFER, "description": "a\x07b"}, headers=auth(token)),
           "body.description")  # fmt: skip
    _field(c.post("/offers", json={**OFFER, "municipalities": ["001002", "00100\u0000"]},
                  headers=auth(token)), "body.municipalities.1")  # fmt: skip
    _field(c.patch(f"/offers/{ok.id}", json={"provider": "x\u0000"}, headers=auth(token)),
           "body.provider")  # fmt: skip
    _field(c.post("/organisations", json={"name": "Evil\u0000", "role": "business"},
                  headers=auth(ADMIN_TOKEN)), "body.name")  # fmt: skip
    # query parameters: q and the others
    _field(c.get("/offers", params={"q": "\u0000"}), "query.q")
    _field(c.get("/offers", params={"q": "dopo\x00scuola"}), "query.q")
    _field(c.get("/municipalities", params={"q": "Tor\x1bino"}), "query.q")
    _field(c.get("/offers", params={"category": "childcare\x00"}), "query.category")
    # nothing was stored, and ordinary text (accents, newlines, tabs) is fine
    listed = body(c.get("/offers"), OfferList)
    assert [o.id for o in listed.items] == [ok.id]
    text = {**OFFER, "description": "Riga 1\nRiga 2\tcon tab, àèìòù"}
    assert c.post("/offers", json=text, headers=auth(token)).status_code == 201
    assert body(c.get("/offers", params={"q": "doposcuola"}), OfferList).total == 2


def test_control_character_field() -> None:
    assert control_character_field("/offers", b"q=%00", None) == "query.q"
    assert control_character_field("/offers", b"q=ok&limit=10", None) is None
    assert control_character_field("/offers/\x00", b"", None) == "path"
    assert control_character_field("/x", b"", b'{"a": {"b": ["ok", "\\u0000"]}}') == "body.a.b.1"
    assert control_character_field("/x", b"", b'{"a": "line\\nnext\\ttab"}') is None
    assert control_character_field("/x", b"", b"not json \x00") is None  # left to validation
