"""Processors: signed webhooks to a real local HTTP server, status callbacks, manual tasks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.requests.conftest import REDIS_URL, requests_policy, serve
from tutela import Tutela
from tutela.connectors.processors import (
    CallbackRejected,
    Processors,
    TaskStatus,
    sign,
    verify_callback,
)
from tutela.requests import Requests, RequestState, Runner

KEY = b"k" * 32
SECRET = "processor-secret-for-tests"
WEBHOOK = {
    "name": "Mail Tool B.V.",
    "role": "processor",
    "service": "email",
    "countries": ["NL"],
    "purposes": ["newsletter"],
    "requests": "webhook",
}
MANUAL = {
    "name": "Support Desk",
    "role": "processor",
    "service": "support",
    "countries": ["SE"],
    "purposes": ["provide_service"],
    "requests": "manual",
}


class Processor:
    """A processor's endpoint: answers with the queued status codes (then 200)."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.codes: list[int] = []
        self.delay = 0.0
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        processor = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with processor.lock:
                    processor.calls.append((dict(self.headers.items()), body))
                    code = processor.codes.pop(0) if processor.codes else 200
                if processor.delay:
                    time.sleep(processor.delay)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def processor(monkeypatch: pytest.MonkeyPatch) -> Iterator[Processor]:
    """A running processor endpoint, configured for the recipient Mail Tool B.V."""
    endpoint = Processor()
    server, url = serve(endpoint.handler())
    monkeypatch.setenv("TUTELA_PROCESSOR_MAIL_TOOL_B_V_URL", url + "/dsr")
    monkeypatch.setenv("TUTELA_PROCESSOR_MAIL_TOOL_B_V_SECRET", SECRET)
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


Open = Callable[..., tuple[Tutela, Runner, Processors]]


@pytest.fixture
def open_with(database_url: str, prefix: str, product: str, tmp_path: Path) -> Iterator[Open]:
    """Open a Tutela whose policy has the given recipients, with a runner that hands
    requests over to processors."""
    opened: list[Tutela] = []

    def open_(*recipients: dict[str, Any], **options: Any) -> tuple[Tutela, Runner, Processors]:
        policy = requests_policy(prefix, recipients=list(recipients))
        tutela = Tutela.open(policy=policy, database=database_url, upgrade=True)
        opened.append(tutela)
        tutela.ledger.create_subject([("email", "anna@example.se"), ("user_id", "1")])
        options.setdefault("backoff", 0.01)
        processors = Processors(tutela, callback_url="https://tutela.example/callbacks", **options)
        runner = Runner(
            tutela,
            connections={"app": product, "cache": REDIS_URL},
            packages=tmp_path / "packages",
            pseudonym_key=KEY,
            processors=processors,
        )
        return tutela, runner, processors

    yield open_
    for tutela in opened:
        tutela.close()


def erase(tutela: Tutela, runner: Runner) -> str:
    request = Requests(tutela).create("erasure", ("email", "anna@example.se"), source="product")
    return runner.run(request.id).id


def test_webhook_is_signed_and_carries_the_request(open_with: Open, processor: Processor) -> None:
    tutela, runner, processors = open_with(WEBHOOK)
    request_id = erase(tutela, runner)
    request = Requests(tutela).get(request_id)
    assert request.state is RequestState.partially_completed
    assert request.result is not None and request.result["processors"][0]["status"] == "delivered"
    [(headers, body)] = processor.calls
    assert verify_callback(body, headers["X-Tutela-Signature"], SECRET.encode())
    assert headers["Idempotency-Key"] == f"{request_id}:MAIL_TOOL_B_V"
    sent = json.loads(body)
    assert sent["request_id"] == request_id and sent["type"] == "erasure"
    assert sent["subject"] == {"email": ["anna@example.se"], "user_id": ["1"]}
    assert sent["callback_url"] == f"https://tutela.example/callbacks/{request_id}/MAIL_TOOL_B_V"
    assert sent["submitted_at"]
    [task] = processors.tasks(request_id)
    assert (task.recipient, task.channel, task.status) == (
        "Mail Tool B.V.",
        "webhook",
        TaskStatus.delivered,
    )


def test_retries_after_500s_are_one_request(open_with: Open, processor: Processor) -> None:
    processor.codes = [500, 503]
    tutela, runner, processors = open_with(WEBHOOK)
    request_id = erase(tutela, runner)
    assert len(processor.calls) == 3
    assert len({h["Idempotency-Key"] for h, _ in processor.calls}) == 1
    assert len({b for _, b in processor.calls}) == 1  # the same bytes, the same signature
    [task] = processors.tasks(request_id)
    outcomes = [(a["attempt"], a["outcome"]) for a in processors.attempts(task.id)]
    assert outcomes == [(1, "http_500"), (2, "http_503"), (3, "delivered")]
    assert task.status is TaskStatus.delivered


def test_delivery_gives_up_after_bounded_attempts_and_resumes_later(
    open_with: Open, processor: Processor
) -> None:
    processor.codes = [500] * 3
    tutela, runner, processors = open_with(WEBHOOK, max_attempts=3)
    request_id = erase(tutela, runner)
    [task] = processors.tasks(request_id)
    assert task.status is TaskStatus.pending and task.attempts == 3
    assert task.error == "not delivered after 3 attempts"
    # A later delivery continues the count under the same key; nothing new is created.
    request = Requests(tutela).get(request_id)
    again = processors.dispatch(request, runner.identities(request))
    assert [t.status for t in again] == [TaskStatus.delivered]
    assert [a["attempt"] for a in processors.attempts(task.id)] == [1, 2, 3, 4]
    assert len({h["Idempotency-Key"] for h, _ in processor.calls}) == 1


def test_timeouts_are_retried(open_with: Open, processor: Processor) -> None:
    import httpx

    processor.delay = 0.5
    tutela, runner, processors = open_with(
        WEBHOOK, max_attempts=2, client=httpx.Client(timeout=0.1)
    )
    request_id = erase(tutela, runner)
    [task] = processors.tasks(request_id)
    assert [a["outcome"] for a in processors.attempts(task.id)] == ["timeout", "timeout"]
    assert task.status is TaskStatus.pending


def test_a_refusal_is_not_retried(open_with: Open, processor: Processor) -> None:
    processor.codes = [400]
    tutela, runner, processors = open_with(WEBHOOK)
    request_id = erase(tutela, runner)
    [task] = processors.tasks(request_id)
    assert len(processor.calls) == 1 and task.status is TaskStatus.failed
    assert Requests(tutela).get(request_id).state is RequestState.partially_completed
    # A person settles it another way and confirms.
    processors.confirm_task(task.id, "dpo@exempel.se", "erased through their support form")
    assert Requests(tutela).get(request_id).state is RequestState.completed


def test_callbacks_signed_right_move_the_request_forged_ones_change_nothing(
    open_with: Open, processor: Processor
) -> None:
    tutela, runner, processors = open_with(WEBHOOK)
    request_id = erase(tutela, runner)

    def body(status: str, request: str = request_id) -> bytes:
        return json.dumps({"request_id": request, "status": status}).encode()

    received = body("received")
    task = processors.handle_callback(
        request_id, "MAIL_TOOL_B_V", received, sign(received, SECRET.encode())
    )
    assert task.status is TaskStatus.received
    trail_before = len(Requests(tutela).trail(request_id))

    done = body("completed")
    forgeries = [
        sign(done, b"not the secret"),
        sign(received, SECRET.encode()),  # a real signature of another body
        "",
        "sha256=" + "0" * 64,
    ]
    for forged in forgeries:
        with pytest.raises(CallbackRejected):
            processors.handle_callback(request_id, "MAIL_TOOL_B_V", done, forged)
    other = body("completed", "req_someone_else")
    with pytest.raises(CallbackRejected):
        processors.handle_callback(request_id, "MAIL_TOOL_B_V", other, sign(other, SECRET.encode()))
    assert processors.tasks(request_id)[0].status is TaskStatus.received
    assert len(Requests(tutela).trail(request_id)) == trail_before
    assert Requests(tutela).get(request_id).state is RequestState.partially_completed

    processors.handle_callback(request_id, "MAIL_TOOL_B_V", done, sign(done, SECRET.encode()))
    finished = Requests(tutela).get(request_id)
    assert finished.state is RequestState.completed
    assert finished.result is not None
    assert finished.result["processors"][0]["status"] == "completed"
    # A late, older status does not move the step backwards.
    late = body("processing")
    task = processors.handle_callback(
        request_id, "MAIL_TOOL_B_V", late, sign(late, SECRET.encode())
    )
    assert task.status is TaskStatus.completed


def test_manual_tasks_hold_the_request_until_confirmed(
    open_with: Open, processor: Processor
) -> None:
    second = {**MANUAL, "name": "Archive Ltd", "countries": ["GB"]}
    tutela, runner, processors = open_with(MANUAL, second)
    request_id = erase(tutela, runner)
    assert Requests(tutela).get(request_id).state is RequestState.partially_completed
    tasks = processors.tasks(status=TaskStatus.pending)
    assert [(t.recipient, t.channel) for t in tasks] == [
        ("Support Desk", "manual"),
        ("Archive Ltd", "manual"),
    ]
    assert processor.calls == []  # manual recipients get no webhook
    first = processors.confirm_task(tasks[0].id, "dpo@exempel.se", "ticket 123 closed")
    assert first.confirmed_by == "dpo@exempel.se" and first.note == "ticket 123 closed"
    assert Requests(tutela).get(request_id).state is RequestState.partially_completed
    processors.confirm_task(tasks[1].id, "dpo@exempel.se")
    done = Requests(tutela).get(request_id)
    assert done.state is RequestState.completed
    assert "identity" not in done.details
    kinds = [e["kind"] for e in Requests(tutela).trail(request_id)]
    assert kinds.count("request.processor_confirmed") == 2


def test_nothing_to_hand_over_completes_at_once(open_with: Open, processor: Processor) -> None:
    tutela, runner, processors = open_with(MANUAL)
    # Objections stay with the controller: no processor step.
    request = Requests(tutela).create(
        "objection",
        ("email", "anna@example.se"),
        source="product",
        details={"purposes": ["newsletter"]},
    )
    assert runner.run(request.id).state is RequestState.completed
    assert processors.tasks(request.id) == []


def test_a_webhook_recipient_without_settings_fails_the_request_by_name(
    open_with: Open, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TUTELA_PROCESSOR_MAIL_TOOL_B_V_URL", raising=False)
    tutela, runner, _ = open_with(WEBHOOK)
    request = Requests(tutela).create("erasure", ("email", "anna@example.se"), source="product")
    with pytest.raises(Exception, match="TUTELA_PROCESSOR_MAIL_TOOL_B_V_URL"):
        runner.run(request.id)
    assert Requests(tutela).get(request.id).state is RequestState.failed


def test_verify_callback() -> None:
    body = b'{"status":"completed"}'
    good = sign(body, b"s3cret")
    assert good.startswith("sha256=") and len(good) == 7 + 64
    assert verify_callback(body, good, b"s3cret")
    assert not verify_callback(body + b" ", good, b"s3cret")
    assert not verify_callback(body, good, b"other")
    assert not verify_callback(body, None, b"s3cret")
    assert not verify_callback(body, good, b"")
