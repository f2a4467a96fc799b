"""The HTTP side of 1C's standard OData interface: reads (one, paged, by keys) and writes (PATCH
under `If-Match`, bound actions), every failure translated once into a gateway error.

It knows URLs, `$format`, paging and key batches; it knows nothing of tasks, profiles or caches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final
from urllib.parse import quote

from adapters.onec import odata_values as v
from adapters.onec.odata_errors import odata_error
from adapters.onec.odata_values import Row
from adapters.onec.session import UPSTREAM, OneCSession, safe_url
from gateway.errors import MalformedAnswer

ODATA_ROOT: Final = "/odata/standard.odata"
BATCH: Final = 40  # GUIDs per `or` filter: keeps the URL well under web servers' 8 KB limit
KEY: Final = "Ref_Key"
# Characters of a resource path 1C must see unescaped: `Set(guid'…')/Action`.
RESOURCE_SAFE: Final = "'(),="
FORMAT: Final = {"$format": "json"}
WRITTEN: Final = (200, 204)


class ODataTransport:
    """Requests to one publication's `standard.odata`, answers as JSON rows."""

    def __init__(self, session: OneCSession, base_url: str) -> None:
        self._session = session
        self.root = f"{base_url.rstrip('/')}{ODATA_ROOT}"

    def url(self, resource: str) -> str:
        """The absolute URL of `resource` (an entity set, an entity, an action)."""
        return f"{self.root}/{quote(resource, safe=RESOURCE_SAFE)}"

    def get(self, resource: str, params: Mapping[str, object]) -> Row:
        """One entity (or any JSON object) read with a GET."""
        body = self._get(resource, params)
        if not isinstance(body, dict):
            url = safe_url(self.url(resource))
            raise MalformedAnswer(UPSTREAM, f"{url} answered JSON that is not an object")
        return body

    def rows(self, resource: str, params: Mapping[str, object]) -> list[Row]:
        """The `value` rows of one GET of a collection; an answer without them is malformed."""
        body = self._get(resource, params)
        rows = body.get("value") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise MalformedAnswer(UPSTREAM, f"{resource}: answer without a `value` list of rows")
        return rows

    def paged(self, resource: str, params: Mapping[str, object], size: int) -> Iterator[Row]:
        """Every row of a collection, `size` at a time (`$top`/`$skip`; `params` should order)."""
        skip = 0
        while True:
            page = self.rows(resource, {**params, "$top": size, "$skip": skip})
            yield from page
            if len(page) < size:
                return
            skip += size

    def by_keys(self, resource: str, keys: list[str], select: str) -> list[Row]:
        """The rows whose `Ref_Key` is one of `keys`, BATCH keys a request; absent keys are
        simply not answered."""
        rows: list[Row] = []
        for start in range(0, len(keys), BATCH):
            chunk = keys[start : start + BATCH]
            rows += self.rows(resource, {"$filter": v.any_of(KEY, chunk), "$select": select})
        return rows

    def patch(self, resource: str, body: Mapping[str, object], if_match: str) -> Row | None:
        """PATCH `resource` under `If-Match: if_match`; the entity 1C answered, if it did."""
        answer = self._session.request(
            "PATCH",
            self.url(resource),
            params=FORMAT,
            json_body=body,
            headers={"If-Match": if_match},
        )
        if answer.status not in WRITTEN:
            raise odata_error(answer)
        patched = answer.json() if answer.status == 200 and answer.body else None
        return patched if isinstance(patched, dict) else None

    def act(self, resource: str, action: str) -> None:
        """POST a bound action (`ВыполнитьЗадачу`, ...) of the entity `resource`."""
        answer = self._session.request("POST", f"{self.url(resource)}/{action}", params=FORMAT)
        if answer.status not in WRITTEN:
            raise odata_error(answer)

    def _get(self, resource: str, params: Mapping[str, object]) -> Any:
        answer = self._session.request("GET", self.url(resource), params={**FORMAT, **params})
        if answer.status != 200:
            raise odata_error(answer)
        return answer.json()
