"""A stand-in for OpenAI's fine-tuning service on 127.0.0.1, for tests.

It follows OpenAI's published API reference, in the shapes the ``openai`` SDK parses
(``openai.types.file_object``, ``openai.types.fine_tuning``): Files (upload, list, retrieve,
delete), Fine-tuning jobs (create, list, retrieve, cancel, events, checkpoints), Models (list)
and Chat Completions. Errors have OpenAI's shape, ``{"error": {"message", "type", "param",
"code"}}``, and every request needs ``Authorization: Bearer <key>``. Chat completions are
relayed to an upstream OpenAI-compatible server (llama.cpp's) with the model name replaced,
so a fine-tuned model really answers.

Nothing is trained. A job moves one step each time it is retrieved (or ``advance``d), so a
test decides how far it goes: validating_files (the files are checked the way OpenAI checks
them; a bad one fails the job with ``invalid_training_file``) → queued → running, one
``metrics`` event per training step → succeeded, with an ``ft:`` model. ``Config`` can make
a job fail at a step, block a file in moderation, or put the account out of quota.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

API_KEY = "sk-ft-test-0123456789"
ORG = "org-folio-test"
BASE_MODELS = ("gpt-4o-mini-2024-07-18", "gpt-4o-mini", "gpt-4.1-mini-2025-04-14")
SNAPSHOTS = {"gpt-4o-mini": "gpt-4o-mini-2024-07-18"}  # a job names the snapshot it trains
TERMINAL = ("succeeded", "failed", "cancelled")
MIN_EXAMPLES = 10
INVALID_FILE = "The job failed due to an invalid training file. "
BLOCKED = (
    "This training file was blocked by our moderation system because it contains too many "
    "examples that violate OpenAI's usage policies."
)
HYPERPARAMETERS = ("batch_size", "learning_rate_multiplier", "n_epochs")


@dataclass
class Config:
    """How the server behaves; tests change it between requests."""

    api_key: str = API_KEY
    steps: int = 4  # training steps of every job, one metrics event each
    advance_on_retrieve: bool = True  # one step per GET of the job; else only ``advance``
    fail_at_step: int | None = None  # a running job fails at this step...
    failure: str = "The job failed due to an internal error. Please try again."  # ...saying so
    blocked_text: str | None = None  # a file holding this text fails moderation
    quota_exceeded: bool = False  # creating a job answers 429 insufficient_quota
    account_models: list[str] = field(default_factory=list)  # ft: models made elsewhere
    upstream_model: str = "smollm2"  # the name chat completions are relayed with
    created_job_answer_delay_s: float = 0.0  # a created job is answered this late


class ApiError(Exception):
    """An error answer in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        kind: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status = status
        # A short retry-after-ms keeps the SDK's own retries of a 429 quick.
        self.headers = {"retry-after-ms": "10"} if status == 429 else {}
        self.body = {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def _page(items: list[dict], query: dict[str, list[str]]) -> dict[str, Any]:
    """OpenAI's cursor page: items after the ``after`` id, at most ``limit`` (default 20)."""
    after, limit = query.get("after", [""])[0], int(query.get("limit", ["20"])[0])
    ids = [item["id"] for item in items]
    start = ids.index(after) + 1 if after in ids else 0
    return {
        "object": "list",
        "data": items[start : start + limit],
        "has_more": start + limit < len(items),
    }


def check_training_file(data: bytes, minimum: int = MIN_EXAMPLES) -> str | None:
    """What OpenAI's validation says about a chat-format JSONL file, or None if it is fine."""
    examples = 0
    for number, raw in enumerate(data.decode("utf-8", "replace").split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            return f"Invalid file format. Line {number} is not valid JSON."
        messages = record.get("messages") if isinstance(record, dict) else None
        if not isinstance(messages, list) or not messages:
            return f'Invalid file format. Example {number} is missing key "messages".'
        for m, message in enumerate(messages, start=1):
            role = message.get("role") if isinstance(message, dict) else None
            content = message.get("content") if isinstance(message, dict) else None
            if role not in ("system", "user", "assistant", "tool"):
                return f"Invalid file format. Example {number}, message {m}: unrecognized role."
            if not isinstance(content, str) or not content.strip():
                return f"Invalid file format. Example {number}, message {m} has no content."
        if not any(message["role"] == "assistant" for message in messages):
            return f"Invalid file format. Example {number} has no assistant message."
        examples += 1
    if examples < minimum:
        return f"Training file has {examples} example(s), but must have at least {minimum}."
    return None


@dataclass
class _Run:
    """A job as OpenAI returns it, plus what the server needs to move it along."""

    job: dict[str, Any]
    suffix: str | None  # not part of OpenAI's job object, only of the model's name
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    step: int = 0


class _State:
    """Files and jobs, changed under ``lock``; jobs move along in ``advance``."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.files: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.runs: dict[str, _Run] = {}  # in creation order
        self.requests: list[tuple[str, str]] = []  # (method, path), as received

    def trained(self) -> list[str]:
        return [r.job["fine_tuned_model"] for r in self.runs.values() if r.job["fine_tuned_model"]]

    def event(self, run: _Run, message: str, level: str = "info", **data: Any) -> None:
        run.events.append(
            {
                "object": "fine_tuning.job.event",
                "id": _id("ftevent"),
                "created_at": int(time.time()),
                "level": level,
                "message": message,
                "data": data,
                "type": "metrics" if data else "message",
            }
        )

    def finish(self, run: _Run, status: str, error: dict[str, Any] | None = None) -> None:
        run.job.update(status=status, finished_at=int(time.time()), estimated_finish=None)
        if error:
            run.job["error"] = error
            self.event(run, error["message"], "error")

    def advance(self, run: _Run) -> None:
        """One step of the job's life."""
        job, config = run.job, self.config
        if job["status"] == "validating_files":
            for param in ("training_file", "validation_file"):
                data = self.files.get(job[param] or "", ({}, b""))[1]
                if job[param] is None:
                    continue
                problem = check_training_file(data, MIN_EXAMPLES if param == "training_file" else 1)
                if config.blocked_text and config.blocked_text.encode() in data:
                    problem = BLOCKED
                if problem:
                    error = {"code": f"invalid_{param}", "message": INVALID_FILE + problem}
                    return self.finish(run, "failed", {**error, "param": param})
            job["status"] = "queued"
            self.event(run, "Files validated, moving job to queued state")
        elif job["status"] == "queued":
            job.update(status="running", estimated_finish=int(time.time()) + 60)
            self.event(run, "Fine-tuning job started")
        elif job["status"] == "running":
            run.step += 1
            step, total = run.step, config.steps
            if config.fail_at_step == step:
                error = {"code": "server_error", "message": config.failure, "param": None}
                return self.finish(run, "failed", error)
            train = round(2.5 / (1 + 0.5 * step), 4)
            valid = round(train + 0.1, 4) if job["validation_file"] else None
            text = f"Step {step}/{total}: training loss={train:.2f}"
            text += f", validation loss={valid:.2f}" if valid is not None else ""
            accuracy = round(0.5 + step / (2 * total), 3)
            metrics = {"step": step, "train_loss": train, "valid_loss": valid, "total_steps": total}
            self.event(run, text, **metrics, train_mean_token_accuracy=accuracy)
            if step == total:
                self.succeed(run, train, valid)

    def succeed(self, run: _Run, train: float, valid: float | None) -> None:
        job = run.job
        model = f"ft:{job['model']}:{ORG}:{run.suffix or ''}:{job['id'][-8:]}"
        run.checkpoints.append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": _id("ftckpt"),
                "created_at": int(time.time()),
                "fine_tuning_job_id": job["id"],
                "fine_tuned_model_checkpoint": f"{model}:ckpt-step-{run.step}",
                "step_number": run.step,
                "metrics": {"step": run.step, "train_loss": train, "valid_loss": valid},
            }
        )
        size = len(self.files.get(job["training_file"], ({}, b""))[1])
        job.update(fine_tuned_model=model, trained_tokens=size // 4 * 3)
        self.event(run, f"New fine-tuned model created: {model}")
        self.event(run, "The job has successfully completed")
        self.finish(run, "succeeded")

    # -- endpoints: each returns the answer's body or raises ApiError ----------------------

    def create_job(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.config.quota_exceeded:
            message = "You exceeded your current quota, please check your plan and billing details."
            raise ApiError(429, message, None, "insufficient_quota", "insufficient_quota")
        model = request.get("model")
        if model not in BASE_MODELS and model not in self.trained():
            message = f"Model {model} is not available for fine-tuning or does not exist."
            raise ApiError(400, message, "model", "model_not_available")
        for param in ("training_file", "validation_file"):
            if request.get(param) is not None and request[param] not in self.files:
                raise ApiError(400, f"invalid {param}: {request[param]}", param, "invalid_file")
        method = request.get("method") or {}
        chosen = request.get("hyperparameters") or method.get("supervised", {}).get(
            "hyperparameters", {}
        )
        hyper = {key: chosen.get(key, "auto") for key in HYPERPARAMETERS}
        job = {
            "object": "fine_tuning.job",
            "id": _id("ftjob"),
            "model": SNAPSHOTS.get(model, model),
            "created_at": int(time.time()),
            "finished_at": None,
            "estimated_finish": None,
            "status": "validating_files",
            "fine_tuned_model": None,
            "error": None,
            "training_file": request["training_file"],
            "validation_file": request.get("validation_file"),
            "trained_tokens": None,
            "result_files": [],
            "hyperparameters": hyper,
            "method": {"type": "supervised", "supervised": {"hyperparameters": hyper}},
            "organization_id": ORG,
            "seed": request.get("seed") or 42,
            "integrations": [],
            "metadata": request.get("metadata"),
        }
        run = self.runs[job["id"]] = _Run(job, request.get("suffix"))
        self.event(run, f"Created fine-tuning job: {job['id']}")
        self.event(run, f"Validating training file: {job['training_file']}")
        return job

    def run(self, job_id: str) -> _Run:
        if job_id not in self.runs:
            message = f"No such fine-tuning job: {job_id}"
            raise ApiError(404, message, "fine_tuning_job_id", "fine_tuning_job_not_found")
        return self.runs[job_id]

    def retrieve(self, job_id: str) -> dict[str, Any]:
        run = self.run(job_id)
        if self.config.advance_on_retrieve:
            self.advance(run)
        return run.job

    def cancel(self, job_id: str) -> dict[str, Any]:
        run = self.run(job_id)
        if run.job["status"] in TERMINAL:
            raise ApiError(400, f"Job has already completed: {job_id}", None, "invalid_request")
        self.finish(run, "cancelled")
        self.event(run, "Fine-tuning job cancelled")
        return run.job

    def upload(self, content_type: str, body: bytes) -> dict[str, Any]:
        form = BytesParser(policy=policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = {p.get_param("name", header="content-disposition"): p for p in form.iter_parts()}
        if "file" not in parts or "purpose" not in parts:
            raise ApiError(400, "Both 'file' and 'purpose' are required.", "file")
        purpose = parts["purpose"].get_content().strip()
        data = parts["file"].get_payload(decode=True) or b""
        name = parts["file"].get_filename() or "upload"
        if purpose == "fine-tune" and not name.endswith(".jsonl"):
            raise ApiError(400, "Invalid file format for Fine-Tuning API. Must be .jsonl", "file")
        meta = {"object": "file", "id": _id("file"), "bytes": len(data), "filename": name}
        meta |= {"created_at": int(time.time()), "purpose": purpose, "status": "processed"}
        self.files[meta["id"]] = (meta, data)
        return meta

    def file(self, file_id: str, delete: bool = False) -> dict[str, Any]:
        if file_id not in self.files:
            raise ApiError(404, f"No such File object: {file_id}", "id")
        if delete:
            del self.files[file_id]
            return {"id": file_id, "object": "file", "deleted": True}
        return self.files[file_id][0]

    def models(self) -> dict[str, Any]:
        ids = [*BASE_MODELS, *self.config.account_models, *self.trained()]
        owner = {True: ORG, False: "system"}
        models = [
            {
                "id": i,
                "object": "model",
                "created": 1_700_000_000,
                "owned_by": owner[i[:3] == "ft:"],
            }
            for i in ids
        ]
        return {"object": "list", "data": models}


@dataclass(frozen=True)
class _Request:
    path: tuple[str, ...]  # the path pattern's groups
    query: dict[str, list[str]]
    body: bytes
    content_type: str


def _jobs(s: _State, r: _Request) -> dict[str, Any]:
    return _page([run.job for run in s.runs.values()][::-1], r.query)


_JOB = r"/v1/fine_tuning/jobs/([^/]+)"
_ROUTES: list[tuple[str, str, Callable[[_State, _Request], dict[str, Any]]]] = [
    ("POST", r"/v1/files", lambda s, r: s.upload(r.content_type, r.body)),
    ("GET", r"/v1/files", lambda s, r: _page([m for m, _ in s.files.values()][::-1], r.query)),
    ("GET", r"/v1/files/([^/]+)", lambda s, r: s.file(r.path[0])),
    ("DELETE", r"/v1/files/([^/]+)", lambda s, r: s.file(r.path[0], delete=True)),
    ("POST", r"/v1/fine_tuning/jobs", lambda s, r: s.create_job(json.loads(r.body or b"{}"))),
    ("GET", r"/v1/fine_tuning/jobs", _jobs),
    ("GET", _JOB, lambda s, r: s.retrieve(r.path[0])),
    ("POST", _JOB + "/cancel", lambda s, r: s.cancel(r.path[0])),
    ("GET", _JOB + "/events", lambda s, r: _page(s.run(r.path[0]).events[::-1], r.query)),
    ("GET", _JOB + "/checkpoints", lambda s, r: _page(s.run(r.path[0]).checkpoints[::-1], r.query)),
    ("GET", r"/v1/models", lambda s, r: s.models()),
]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_DELETE = do_GET

    def _send(self, status: int, body: dict[str, Any], **headers: str) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        state, url = self.server.state, urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        state.requests.append((self.command, url.path))
        try:
            if self.headers.get("Authorization") != f"Bearer {state.config.api_key}":
                message = "Incorrect API key provided. You can find your API key in your account."
                raise ApiError(401, message, None, "invalid_api_key")
            if (self.command, url.path) == ("POST", "/v1/chat/completions"):
                return self._relay_chat(json.loads(body))
            for method, pattern, answer in _ROUTES:
                match = re.fullmatch(pattern, url.path)
                if match and method == self.command:
                    kind = self.headers.get("Content-Type", "")
                    with state.lock:
                        result = answer(
                            state, _Request(match.groups(), parse_qs(url.query), body, kind)
                        )
                    if (self.command, url.path) == ("POST", "/v1/fine_tuning/jobs"):
                        # The job exists from here on, whether or not its client lives to
                        # hear the answer.
                        time.sleep(state.config.created_job_answer_delay_s)
                    return self._send(200, result)
            raise ApiError(404, f"Invalid URL ({self.command} {url.path})")
        except ApiError as exc:
            self._send(exc.status, exc.body, **exc.headers)

    def _relay_chat(self, request: dict[str, Any]) -> None:
        """Answer with the upstream server, as the model the client asked for."""
        state, upstream = self.server.state, self.server.upstream
        with state.lock:
            known = [*BASE_MODELS, *state.config.account_models, *state.trained()]
        if request.get("model") not in known or upstream is None:
            message = f"The model `{request.get('model')}` does not exist or you have no access."
            raise ApiError(404, message, None, "model_not_found")
        request["model"] = state.config.upstream_model
        parts = urlsplit(upstream)
        connection = http.client.HTTPConnection(parts.netloc, timeout=600)
        headers = {"Content-Type": "application/json"}
        connection.request("POST", f"{parts.path}/chat/completions", json.dumps(request), headers)
        response = connection.getresponse()
        kind = response.getheader("Content-Type") or ""
        self.send_response(response.status)
        self.send_header("Content-Type", kind)
        if "text/event-stream" not in kind:
            data = response.read()
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:  # relayed line by line, as OpenAI streams: chunked
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while line := response.readline():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: _State, upstream: str | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state
        self.upstream = upstream.rstrip("/") if upstream else None  # e.g. http://127.0.0.1:P/v1


class FineTuningServer:
    """``with FineTuningServer(upstream) as server:`` ... ``server.base_url`` (ends in /v1).

    ``upstream``: an OpenAI-compatible ``/v1`` URL that answers chat completions, or None.
    """

    def __init__(self, upstream: str | None = None, config: Config | None = None) -> None:
        self.config = config or Config()
        self.state = _State(self.config)
        self._server = _Server(self.state, upstream)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def advance(self, job_id: str, steps: int = 1) -> dict[str, Any]:
        """Move a job ``steps`` steps along, as that many retrieves would; the job then."""
        with self.state.lock:
            run = self.state.run(job_id)
            for _ in range(steps):
                self.state.advance(run)
            return dict(run.job)

    def jobs(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(run.job) for run in self.state.runs.values()]

    def files(self) -> dict[str, bytes]:
        """Every uploaded file's content, by id."""
        with self.state.lock:
            return {file_id: data for file_id, (_, data) in self.state.files.items()}

    @property
    def requests(self) -> list[tuple[str, str]]:
        return list(self.state.requests)

    def __enter__(self) -> FineTuningServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
