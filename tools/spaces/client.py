"""The Gradio HTTP client: validate, upload, call, poll once, download, with bounded retries.

One :class:`SpaceClient` per Space, over one ``httpx.Client`` (its cookie jar keeps a
multi-replica Space on one replica). A call goes:

1. check the arguments against ``/gradio_api/info``
   (:func:`spacesmith.tools.spaces.schema.bind_arguments`);
2. upload file inputs (``POST …/upload``, field ``files``) and pass them as FileData;
3. ``POST …/call/v2/<api>`` with named arguments, or ``POST …/call/<api>`` with
   ``{"data": [...]}`` for older Spaces (after a 404/405 on v2, defaults filled in);
4. read the result stream ``GET …/call/<api>/<event_id>`` **once**, under the deadline;
5. unwrap ``gr.update`` values, download every FileData into ``out_dir``.

Transient failures (429, 503, 5xx, broken connections, an event the Space lost) re-run
steps 3-4 with backoff; a ZeroGPU quota error is retried only when its "retry in" wait fits
the deadline. The token goes only where :func:`spacesmith.tools.hub.auth.may_send_token` allows.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from spacesmith.tools.errors import (
    AppError,
    DownloadError,
    ParameterError,
    QuotaError,
    SchemaError,
    SpaceError,
    SpaceTimeoutError,
    TransientSpaceError,
    UploadError,
)
from spacesmith.tools.hub.auth import auth_headers, get_token
from spacesmith.tools.hub.runtime import wait_until_running
from spacesmith.tools.spaces.agents_md import CallStyle, SpaceSpec
from spacesmith.tools.spaces.cancel import cancel_event
from spacesmith.tools.spaces.discovery import discover, resolve
from spacesmith.tools.spaces.filedata import (
    filedata,
    find_files,
    replace_files,
    safe_name,
    unwrap_updates,
)
from spacesmith.tools.spaces.http_errors import (
    raise_for_status,
    transport_error,
)
from spacesmith.tools.spaces.retry import Deadline, RetryPolicy, with_retries
from spacesmith.tools.spaces.schema import Endpoint, bind_arguments, parse_info, positional_data
from spacesmith.tools.spaces.stall import SpaceActivity, StallPolicy
from spacesmith.tools.spaces.stream import Watching, read_result
from spacesmith.tools.spaces.transfer import download, is_remote, remote_filedata

DEFAULT_TIMEOUT_S = 600.0
CONNECT_TIMEOUT_S = 120.0
MAX_DOWNLOAD_BYTES = 1 << 30
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "spacesmith/0.1 (+https://github.com/spacesmith)"
STAGES = ("started", "queued", "running", "generating", "retrying", "done", "failed")


@dataclass(frozen=True)
class ProgressEvent:
    """What a call is doing; ``stage`` is one of ``STAGES``, ``wait_s`` set on ``retrying``.

    ``call`` names the call when the caller gave it a label (``"splat 3/6"``); ``detail``
    says where it stands (``queued #2 of 5``, ``running for 40 s``); ``elapsed_s`` is the
    time since the call started (on ``done``, its whole duration).
    """

    space: str
    endpoint: str | None
    stage: str
    detail: str = ""
    wait_s: float | None = None
    call: str | None = None
    elapsed_s: float | None = None


ProgressHook = Callable[[ProgressEvent], None]


@dataclass(frozen=True, repr=False)
class CallResult:
    """One finished call.

    Attributes:
        space: the Space as named by the caller.
        endpoint: the endpoint (``/generate``).
        outputs: the output values, ``gr.update`` unwrapped, each file replaced by the path
            (a string) of its downloaded copy.
        files: the downloaded files, in output order.
        elapsed_s: wall time of the whole call, retries included.
        attempts: how many times the call was submitted.
        run_s: how long the Space worked on the last attempt (from its start to the
            result, queue wait excluded), when the Space said when it started.
    """

    space: str
    endpoint: str
    outputs: list[Any]
    files: list[Path]
    elapsed_s: float
    attempts: int
    run_s: float | None = None

    def __repr__(self) -> str:
        shown = [_short(v) for v in self.outputs]
        return (f"CallResult(space={self.space!r}, endpoint={self.endpoint!r}, "
                f"outputs={shown}, files={[f.name for f in self.files]}, "
                f"elapsed_s={self.elapsed_s:.2f}, attempts={self.attempts})")

    def to_json(self) -> dict[str, Any]:
        """The JSON form the CLI prints: ``outputs``, ``files``, ``elapsed_s``, ``attempts``."""
        return {"outputs": self.outputs, "files": [str(f) for f in self.files],
                "elapsed_s": round(self.elapsed_s, 3), "attempts": self.attempts}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def new_http_client() -> httpx.Client:
    """The client spacesmith uses when none is given: a cookie jar, no implicit redirects."""
    return httpx.Client(timeout=REQUEST_TIMEOUT, headers={"User-Agent": USER_AGENT})


class SpaceClient:
    """A connected Space: its spec and endpoints, and :meth:`call`.

    Make one with :meth:`connect`; use it as a context manager (it closes the httpx client
    it created, never one it was given). Calls may run from several threads at once (each
    call keeps its state on its own stack); give concurrent calls different ``out_dir``s.
    """

    def __init__(
        self,
        spec: SpaceSpec,
        endpoints: Mapping[str, Endpoint],
        *,
        http: httpx.Client,
        token: str | None = None,
        progress: ProgressHook | None = None,
        retry: RetryPolicy | None = None,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        owns_http: bool = False,
    ) -> None:
        self.spec = spec
        self.endpoints = dict(endpoints)
        self.retry = retry or RetryPolicy()
        self.max_download_bytes = max_download_bytes
        self._http = http
        self._activity = SpaceActivity()
        self._token = token
        self._progress = progress
        self._owns_http = owns_http
        self._style: CallStyle = spec.call_style
        self._queue_stream = True  # until the Space shows it has no queue stream

    def __repr__(self) -> str:  # no token in here, ever
        return f"SpaceClient({self.spec.space!r}, endpoints={sorted(self.endpoints)})"

    @classmethod
    def connect(
        cls,
        space: str,
        *,
        token: str | None = None,
        progress: ProgressHook | None = None,
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        runtime_wait_s: float = 300.0,
    ) -> SpaceClient:
        """Discover a Space and read its endpoints.

        Args:
            space: a Hub id, an agents.md URL or a base URL.
            token: the HF token; ``None`` looks it up (``HF_TOKEN``, then ``hf auth login``'s
                file), ``""`` sends none.
            progress: told about each stage of each call.
            http: the httpx client to use (one per Space); one is made when ``None``.
            retry: the retry policy for transient failures.
            max_download_bytes: the size cap of one downloaded file.
            runtime_wait_s: how long to wait for a Hub Space that is building or asleep.

        Returns:
            The connected client.

        Raises:
            DiscoveryError: (and subclasses) the Space or its schema cannot be had or read.
            SpaceUnavailableError: the Hub says the Space is paused or broken.
            SpaceTimeoutError: it did not start within ``runtime_wait_s``.
        """
        owns = http is None
        client = http or new_http_client()
        try:
            key = get_token() if token is None else (token or None)
            ref = resolve(space)
            if ref.space_id is not None:
                def on_wait(stage: str, wait_s: float) -> None:
                    if progress is not None:
                        progress(ProgressEvent(space, None, "queued", f"Space is {stage}", wait_s))

                wait_until_running(ref.space_id, http=client, token=key,
                                   max_wait_s=runtime_wait_s, on_wait=on_wait)
            spec = discover(space, http=client, token=key)
            policy = retry or RetryPolicy()
            endpoints = _fetch_endpoints(spec, client, key, policy)
        except BaseException:
            if owns:
                client.close()
            raise
        return cls(spec, endpoints, http=client, token=key, progress=progress, retry=policy,
                   max_download_bytes=max_download_bytes, owns_http=owns)

    def close(self) -> None:
        """Close the httpx client if this object made it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SpaceClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def endpoint(self, name: str) -> Endpoint:
        """The endpoint called ``name`` (with or without the leading slash).

        Raises:
            ParameterError: there is none; the message lists the endpoints there are.
        """
        key = name if name.startswith("/") else f"/{name}"
        if key not in self.endpoints:
            have = ", ".join(sorted(self.endpoints)) or "none"
            raise ParameterError(f"has no endpoint '{key}'; it has {have}", space=self.spec.space)
        return self.endpoints[key]

    # --- the call --------------------------------------------------------------------

    def call(
        self,
        endpoint: str,
        arguments: Mapping[str, Any],
        *,
        out_dir: Path,
        timeout: float | None = None,
        stall: StallPolicy | None = None,
        expected_s: float | None = None,
        label: str | None = None,
    ) -> CallResult:
        """Call an endpoint and download the files it returns.

        Args:
            endpoint: the endpoint name (``/generate`` or ``generate``).
            arguments: parameter names to values; a file input takes a local path (str or
                Path, uploaded), an http(s) URL, or a FileData dict.
            out_dir: where downloaded files go (created if missing).
            timeout: the overall deadline in seconds, retries included (default 600).
            stall: give the call up when it shows no progress for this policy's budget
                (see :mod:`spacesmith.tools.spaces.stall`); ``None``: only the deadline.
            expected_s: how long the caller expects the call to take (earlier calls).
            label: names the call in progress events (``"splat 3/6"``).

        Returns:
            The outputs, the downloaded files, the time taken and the number of attempts.

        Raises:
            ParameterError: the arguments do not match the endpoint.
            UploadError, DownloadError: a file could not be sent or fetched.
            AppError: the app raised.
            QuotaError: ZeroGPU quota exhausted (``retry_after_s`` says when to retry).
            TransientSpaceError: still busy after the retries.
            SpaceStalledError: no progress for the stall budget (a stuck worker).
            SpaceTimeoutError: the deadline passed.
        """
        ep = self.endpoint(endpoint)
        deadline = Deadline(DEFAULT_TIMEOUT_S if timeout is None else timeout)
        started = time.perf_counter()
        watch = Watching(stall, expected_s, label, activity=self._activity)
        self._emit(ep.name, "started", call=label)
        try:
            bound = bind_arguments(ep, arguments, space=self.spec.space)
            payload = self._prepare_files(ep, bound, deadline)
            raw, attempts = with_retries(
                lambda: self._submit_and_poll(ep, payload, deadline, watch), policy=self.retry,
                deadline=deadline, on_retry=self._on_retry(ep.name, label))
            outputs, files = self._download_outputs(ep, unwrap_updates(raw), Path(out_dir),
                                                    deadline)
        except SpaceError as exc:
            self._emit(ep.name, "failed", exc.message, call=label)
            raise
        elapsed = time.perf_counter() - started
        running = watch.marks.get("running")
        run_s = time.monotonic() - running if running is not None else None
        self._emit(ep.name, "done", f"{len(files)} file(s) in {elapsed:.1f} s", call=label,
                   elapsed_s=elapsed)
        return CallResult(self.spec.space, ep.name, outputs, files, elapsed, attempts, run_s)

    def _emit(self, endpoint: str | None, stage: str, detail: str = "",
              wait_s: float | None = None, *, call: str | None = None,
              elapsed_s: float | None = None) -> None:
        if self._progress is not None:
            self._progress(ProgressEvent(self.spec.space, endpoint, stage, detail, wait_s,
                                         call=call, elapsed_s=elapsed_s))

    def _on_retry(self, endpoint: str,
                  label: str | None = None) -> Callable[[SpaceError, int, float], None]:
        def hook(error: SpaceError, attempt: int, wait_s: float) -> None:
            self._emit(endpoint, "retrying", f"attempt {attempt} failed: {error.message}", wait_s,
                       call=label)
        return hook

    def _submit_and_poll(self, ep: Endpoint, payload: dict[str, Any], deadline: Deadline,
                         watch: Watching | None = None) -> Any:
        watch = watch or Watching(None, None, None)
        event_id = self.submit(ep.name, payload, deadline=deadline)
        self._emit(ep.name, "queued", f"event {event_id}", call=watch.label)
        return self._poll(ep, event_id, deadline, watch)

    def submit(self, endpoint: str, payload: Mapping[str, Any], *,
               deadline: Deadline | None = None) -> str:
        """Start one call (no validation, no uploads, no retries) and return its event id.

        ``payload`` holds named values ready to send (files already as FileData). The v2
        route is tried first; on 404/405 this client switches to the positional route.
        """
        ep = self.endpoint(endpoint)
        deadline = deadline or Deadline(DEFAULT_TIMEOUT_S)
        if self._style == "v2":
            response = self._send("POST", self.spec.call_url_for(ep.api_name, "v2"),
                                  ep.name, "call", deadline, json=dict(payload))
            if response.status_code not in (404, 405):
                return self._event_id(response, ep.name)
            self._style = "positional"
        response = self._send("POST", self.spec.call_url_for(ep.api_name, "positional"),
                              ep.name, "call", deadline,
                              json={"data": positional_data(ep, payload)})
        return self._event_id(response, ep.name)

    def _event_id(self, response: httpx.Response, endpoint: str) -> str:
        raise_for_status(response, space=self.spec.space, endpoint=endpoint, what="call")
        try:
            event_id = response.json()["event_id"]
        except (ValueError, KeyError, TypeError):
            event_id = None
        if not isinstance(event_id, str) or not event_id:
            raise SchemaError("the call answered without an event_id", space=self.spec.space,
                              endpoint=endpoint)
        return event_id

    def poll(self, endpoint: str, event_id: str, *, deadline: Deadline | None = None,
             stall: StallPolicy | None = None, expected_s: float | None = None,
             label: str | None = None) -> Any:
        """Read one event's result stream, once (a second read would hang), under a deadline.

        The stream is Gradio's queue stream (``GET …/queue/data?session_hash=<event id>``: the
        same messages as the call route, plus the queue position, the start of the call and
        its progress); a server without it gets the call route's stream instead.

        Returns:
            The output list of the ``complete`` event (or the last ``generating`` one).

        Raises:
            AppError, QuotaError: the app failed.
            TransientSpaceError: 5xx, a broken stream, or an event the Space does not know.
            SpaceStalledError: no sign of progress for the ``stall`` budget.
            SpaceTimeoutError: the deadline passed (a hang shows as heartbeats only).
        """
        ep = self.endpoint(endpoint)
        deadline = deadline or Deadline(DEFAULT_TIMEOUT_S)
        return self._poll(ep, event_id, deadline,
                          Watching(stall, expected_s, label, activity=self._activity))

    def _poll(self, ep: Endpoint, event_id: str, deadline: Deadline, watching: Watching) -> Any:
        try:
            return self._read_event(ep, event_id, deadline, watching)
        except (AppError, QuotaError):  # the event ended with the app's error
            raise
        except BaseException:  # a hang, the deadline, a broken stream, Ctrl-C: the event
            # may still wait or run on the Space (and a retry submits another): cancel it,
            # so it does not hold the Space's worker from the next call, ours or anyone's
            cancel_event(self._http, self.spec.api_root, ep.api_name, event_id, self._auth)
            raise

    def _read_event(self, ep: Endpoint, event_id: str, deadline: Deadline,
                    watching: Watching) -> Any:
        if self._queue_stream:
            url = f"{self.spec.api_root}/queue/data?session_hash={event_id}"
            found, result = self._read(ep, url, deadline, watching, queue=True)
            if found:
                return result
            self._queue_stream = False  # an older or a non-Gradio server: the call route
        url = self.spec.poll_url_for(ep.api_name, event_id)
        return self._read(ep, url, deadline, watching, queue=False)[1]

    def _read(self, ep: Endpoint, url: str, deadline: Deadline, watching: Watching, *,
              queue: bool) -> tuple[bool, Any]:
        def emit(stage: str, detail: str = "", *, call: str | None = None,
                 elapsed_s: float | None = None) -> None:
            self._emit(ep.name, stage, detail, call=call, elapsed_s=elapsed_s)

        return read_result(self._http, url, self._auth(url), space=self.spec.space,
                           endpoint=ep.name, deadline=deadline, watching=watching, queue=queue,
                           emit=emit)

    # --- HTTP plumbing ---------------------------------------------------------------

    def _auth(self, url: str) -> dict[str, str]:
        return auth_headers(url, self._token, self.spec.host)

    def _send(self, method: str, url: str, endpoint: str | None, what: str, deadline: Deadline,
              **kwargs: Any) -> httpx.Response:
        if deadline.expired:
            raise SpaceTimeoutError(f"{what} not started: the deadline passed",
                                    space=self.spec.space, endpoint=endpoint)
        timeout = httpx.Timeout(min(30.0, deadline.remaining() + 0.1))
        try:
            return self._http.request(method, url, headers=self._auth(url), timeout=timeout,
                                      **kwargs)
        except httpx.HTTPError as exc:
            raise transport_error(exc, space=self.spec.space, endpoint=endpoint, what=what,
                                  deadline_passed=deadline.expired) from exc

    # --- files -----------------------------------------------------------------------

    def _prepare_files(self, ep: Endpoint, bound: dict[str, Any],
                       deadline: Deadline) -> dict[str, Any]:
        payload = dict(bound)
        for param in ep.parameters:
            value = payload.get(param.name)
            if not param.is_file or value is None:
                continue
            items = value if isinstance(value, list) else [value]
            local = [v for v in items if isinstance(v, (str, Path)) and not is_remote(v)]
            for item in local:
                if not Path(item).is_file():
                    raise ParameterError(f"parameter '{param.name}': no such file {str(item)!r}",
                                         space=self.spec.space, endpoint=ep.name)
            sent_files = self.upload([Path(v) for v in local], deadline=deadline) if local else []
            uploaded = iter(sent_files)
            sent = [next(uploaded) if v in local else remote_filedata(v) for v in items]
            payload[param.name] = sent if isinstance(value, list) else sent[0]
        return payload

    def upload(
        self, paths: Sequence[Path], *, deadline: Deadline | None = None
    ) -> list[dict[str, Any]]:
        """Upload local files (one request, field ``files``), with retries.

        Returns:
            A FileData dict per file, in order, ready to pass as an input.

        Raises:
            UploadError: the Space refused the files or answered an empty list.
        """
        deadline = deadline or Deadline(DEFAULT_TIMEOUT_S)
        space = self.spec.space

        def attempt() -> list[str]:
            files = [("files", (p.name, p.read_bytes(),
                                mimetypes.guess_type(p.name)[0] or "application/octet-stream"))
                     for p in paths]
            response = self._send("POST", self.spec.upload_url, None, "upload", deadline,
                                  files=files)
            raise_for_status(response, space=space, endpoint=None, what="upload")
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, list) or len(body) != len(paths) or not all(
                    isinstance(p, str) and p for p in body):
                raise UploadError(f"upload of {len(paths)} file(s) answered {str(body)[:80]!r}",
                                  space=space)
            return body

        server_paths, _ = with_retries(attempt, policy=self.retry, deadline=deadline,
                                       on_retry=self._on_retry("upload"))
        return [filedata(s, p.name) for s, p in zip(server_paths, paths, strict=False)]

    def _download_outputs(self, ep: Endpoint, outputs: Any, out_dir: Path,
                          deadline: Deadline) -> tuple[list[Any], list[Path]]:
        found = find_files(outputs)
        local: dict[int, Path] = {}
        taken: set[str] = set()
        if found:  # never overwrite: names already in out_dir count as taken
            out_dir.mkdir(parents=True, exist_ok=True)
            taken = {p.name.lower() for p in out_dir.iterdir()}
        for fd in found:
            name = safe_name(str(fd.get("orig_name") or fd["path"]), taken)
            target = out_dir / name
            url = self._file_url(fd)

            def fetch(url: str = url, target: Path = target) -> None:
                download(self._http, url, target, headers=self._auth(url),
                         cap=self.max_download_bytes,
                         timeout=min(60.0, deadline.remaining() + 0.1), space=self.spec.space,
                         endpoint=ep.name, deadline_passed=lambda: deadline.expired)

            try:
                with_retries(fetch, policy=self.retry, deadline=deadline,
                             on_retry=self._on_retry(ep.name))
            except TransientSpaceError as exc:
                raise DownloadError(f"could not download {name}: {exc.message}",
                                    space=self.spec.space, endpoint=ep.name) from exc
            local[id(fd)] = target
        replaced = replace_files(outputs, lambda fd: str(local[id(fd)]))
        values = replaced if isinstance(replaced, list) else [replaced]
        return values, [local[id(fd)] for fd in found]

    def _file_url(self, fd: Mapping[str, Any]) -> str:
        url = fd.get("url")
        if isinstance(url, str) and (url.startswith("data:")
                                     or urlsplit(url).netloc.lower() == self.spec.host):
            return url
        return self.spec.file_url(str(fd["path"]))  # never fetch a host the Space names

def _fetch_endpoints(spec: SpaceSpec, http: httpx.Client, token: str | None,
                     policy: RetryPolicy) -> dict[str, Endpoint]:
    deadline = Deadline(CONNECT_TIMEOUT_S)

    def attempt() -> Any:
        try:
            response = http.get(spec.schema_url, headers=auth_headers(spec.schema_url, token,
                                                                      spec.host))
        except httpx.HTTPError as exc:
            raise transport_error(exc, space=spec.space, endpoint=None, what="schema",
                                  deadline_passed=deadline.expired) from exc
        raise_for_status(response, space=spec.space, endpoint=None, what="schema")
        try:
            return response.json()
        except ValueError:
            raise SchemaError(f"{spec.schema_url} did not answer JSON", space=spec.space) from None

    data, _ = with_retries(attempt, policy=policy, deadline=deadline)
    return parse_info(data, space=spec.space)
