"""Endpoints for load balancers and Prometheus: /healthz, /readyz, /metrics.

No sign-in: probes carry no session. They tell nothing sensitive (docs/operations.md):
/healthz only that the process answers, /readyz each dependency's state with a short
reason, /metrics counts and durations, behind an address allow-list or a token.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from config import health, metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up and serving requests; no dependency is touched."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every dependency answers, 503 naming the ones that do not."""
    results = health.readiness()
    ready = all(result.ok for result in results)
    checks = {
        result.name: {
            "status": "ok" if result.ok else "error",
            "reason": result.reason,
            "latency_ms": result.latency_ms,
        }
        for result in results
    }
    return JsonResponse(
        {"status": "ok" if ready else "error", "checks": checks}, status=200 if ready else 503
    )


@never_cache
@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    if not metrics.scrape_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
