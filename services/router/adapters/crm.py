"""The customer directory: who a contact's customer is. The local profile (PUT
/v1/customers) is the override; otherwise an HTTP CRM's answer, cached in Redis. A slow or
failing CRM never holds a contact: the lookup has a deadline, a breaker skips a CRM that
keeps failing, and the last answer known (or none: the default tier) is used meanwhile."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from prometheus_client import Counter, Histogram

from shared import logging as log
from shared.events import Customer

from .store import RoutingStore

logger = log.get("crm")
LOOKUPS = Counter("omniroute_crm_lookups_total", "Customer lookups in the CRM, by result: "
                  "cached, found, not_found, timeout, error, skipped (breaker open)", ["result"])
LATENCY = Histogram("omniroute_crm_lookup_seconds", "CRM request time (answered or not)",
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5))
FIELDS = ("id", "tier", "name", "language", "vip", "notes")  # what a profile may say


class CrmUnavailable(Exception):
    """The CRM did not answer in time or answered with an error."""


@dataclass
class Breaker:
    """Open after `failures` failures in a row: the CRM is skipped for `open_s`."""

    failures: int = 5
    open_s: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _count: int = 0
    _until: float = 0.0

    def closed(self) -> bool:
        return self.clock() >= self._until

    def failed(self) -> None:
        self._count += 1
        if self._count >= self.failures:
            self._until, self._count = self.clock() + self.open_s, 0

    def succeeded(self) -> None:
        self._count = 0


def pick(answer: Any, path: str) -> Any:
    """`a.b.c` in the CRM's JSON answer, or None."""
    for part in path.split("."):
        if not isinstance(answer, dict):
            return None
        answer = answer.get(part)
    return answer


def profile_from(answer: Any, mapping: dict[str, str], tiers: dict[str, str]) -> dict[str, str]:
    """The CRM's answer as a profile (strings, as the local profiles are); its tier names
    translated through `tiers` when given."""
    profile = {}
    for name in FIELDS:
        value = pick(answer, mapping.get(name, name))
        if value is None or value == "":
            continue
        if name == "tier":
            value = tiers.get(str(value), value)
        profile[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return profile


class HttpCrm:
    """GET the url template ({customer_id}, {address}) with the auth header; 404 means
    the CRM does not know the customer."""

    def __init__(self, client: httpx.AsyncClient, url: str, timeout_s: float, mapping: dict[str, str],
                 tiers: dict[str, str], headers: dict[str, str]):
        self.client, self.url, self.timeout_s = client, url, timeout_s
        self.mapping, self.tiers, self.headers = mapping, tiers, headers

    async def fetch(self, customer: Customer) -> dict[str, str] | None:
        url = self.url.format(customer_id=quote(customer.id, safe=""), address=quote(customer.address, safe=""))
        started = time.perf_counter()
        try:
            r = await self.client.get(url, headers=self.headers, timeout=self.timeout_s)
        except httpx.TimeoutException as exc:
            raise CrmUnavailable("timeout") from exc
        except httpx.HTTPError as exc:
            raise CrmUnavailable(f"error: {exc!r}") from exc
        finally:
            LATENCY.observe(time.perf_counter() - started)
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise CrmUnavailable(f"error: HTTP {r.status_code}")
        try:
            return profile_from(r.json(), self.mapping, self.tiers)
        except ValueError as exc:
            raise CrmUnavailable("error: the answer is not JSON") from exc


class CustomerDirectory:
    """One routing domain's view of its customers: local profile, else the CRM (cached
    `fresh_s`; a cached answer is kept `stale_s` to stand in while the CRM is away)."""

    def __init__(self, store: RoutingStore, crm: HttpCrm | None = None, breaker: Breaker | None = None,
                 fresh_s: int = 300, stale_s: int = 86_400):
        self.store, self.crm, self.breaker = store, crm, breaker or Breaker()
        self.fresh_s, self.stale_s = fresh_s, stale_s

    def for_store(self, store: RoutingStore) -> CustomerDirectory:
        """The same CRM and breaker for another domain's store."""
        return CustomerDirectory(store, self.crm, self.breaker, self.fresh_s, self.stale_s)

    async def profile(self, customer: Customer) -> dict[str, str]:
        local = await self.store.get_customer(customer.id)
        if local or self.crm is None:
            return local or {}
        cached, age_s = await self.store.crm_answer(customer.id)
        if cached is not None and age_s < self.fresh_s:
            LOOKUPS.labels(result="cached").inc()
            return cached
        if not self.breaker.closed():
            LOOKUPS.labels(result="skipped").inc()
            return cached or {}
        try:
            answer = await self.crm.fetch(customer)
        except CrmUnavailable as exc:
            self.breaker.failed()
            result = "timeout" if str(exc) == "timeout" else "error"
            LOOKUPS.labels(result=result).inc()
            logger.warning("crm_unavailable", customer_id=customer.id, reason=str(exc),
                           using="cached" if cached else "default tier")
            return cached or {}
        self.breaker.succeeded()
        LOOKUPS.labels(result="found" if answer is not None else "not_found").inc()
        await self.store.remember_crm_answer(customer.id, answer or {}, self.stale_s)
        return answer or {}
