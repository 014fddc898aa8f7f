"""Counters and a latency histogram, written out in the Prometheus text format by hand.

Labels are route templates (``/v1/subjects/{subject_id}``), never raw paths:
a path may hold a subject id or a signed link, and every distinct value would
be a new time series.
"""

from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["BUCKETS", "Metrics"]

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds of the latency histogram, in seconds."""


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """What the API has done since it started. Safe to update from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)
        self._counts: dict[str, int] = defaultdict(int)
        self._decisions: dict[str, int] = {"allowed": 0, "denied": 0}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request and record how long it took."""
        with self._lock:
            self._requests[(route, method, str(status))] += 1
            buckets = self._buckets.setdefault(route, [0] * len(BUCKETS))
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self._sums[route] += seconds
            self._counts[route] += 1

    def observe_decisions(self, allowed: int, denied: int) -> None:
        """Count decisions by outcome (a bulk call counts each subject)."""
        with self._lock:
            self._decisions["allowed"] += allowed
            self._decisions["denied"] += denied

    def render(self) -> str:
        """The Prometheus text exposition (format 0.0.4)."""
        lines = [
            "# HELP tutela_http_requests_total HTTP requests by route, method and status.",
            "# TYPE tutela_http_requests_total counter",
        ]
        with self._lock:
            for (route, method, status), n in sorted(self._requests.items()):
                lines.append(
                    f'tutela_http_requests_total{{route="{_escape(route)}",method="{method}",'
                    f'status="{status}"}} {n}'
                )
            lines += [
                "# HELP tutela_http_request_duration_seconds Time to answer, by route.",
                "# TYPE tutela_http_request_duration_seconds histogram",
            ]
            for route, buckets in sorted(self._buckets.items()):
                label = f'route="{_escape(route)}"'
                for bound, n in zip(BUCKETS, buckets, strict=True):
                    lines.append(
                        f'tutela_http_request_duration_seconds_bucket{{{label},le="{bound}"}} {n}'
                    )
                lines.append(
                    f'tutela_http_request_duration_seconds_bucket{{{label},le="+Inf"}} '
                    f"{self._counts[route]}"
                )
                lines.append(
                    f"tutela_http_request_duration_seconds_sum{{{label}}} {self._sums[route]:.6f}"
                )
                lines.append(
                    f"tutela_http_request_duration_seconds_count{{{label}}} {self._counts[route]}"
                )
            lines += [
                "# HELP tutela_decisions_total Decisions answered, by outcome.",
                "# TYPE tutela_decisions_total counter",
            ]
            for outcome, n in sorted(self._decisions.items()):
                lines.append(f'tutela_decisions_total{{outcome="{outcome}"}} {n}')
        return "\n".join(lines) + "\n"
