"""The one place where spacesmith's exceptions live.

Every error carries a one-line ``message`` that says what went wrong and a
``hint`` that says what to do next; the CLI prints ``Error: <message> (<hint>)``
and exits with ``exit_code``.  Low-level exceptions (httpx, plyfile, OSError)
are mapped once, at the boundary, to the most specific class below and raised
``from`` the original.

    SpacesmithError                      exit 1
    ├── InputError                       exit 2: the user's input is wrong
    │   ├── GoalFileError                a goal file (TOML) is malformed
    │   ├── GalleryError                 a gallery JSON is malformed
    │   └── SplatFormatError             a file is not a readable splat (a SplatError too)
    ├── SpaceError                       anything about one Space (space, endpoint)
    │   ├── DiscoveryError               agents.md / schema could not be had or read
    │   │   ├── AgentsMdError            agents.md is malformed
    │   │   ├── SchemaError              /gradio_api/info is malformed
    │   │   └── ForeignHostError         a URL points outside the Space's own host
    │   ├── ParameterError               arguments do not match the endpoint's /info
    │   ├── SpaceUnavailableError        paused / runtime error / build failed
    │   ├── TransientSpaceError          429, 503, 5xx, connection errors (retried);
    │   │                                carries retry_after_s from Retry-After
    │   ├── SpaceTimeoutError            a deadline passed (hang, slow Space)
    │   │   └── SpaceStalledError        no progress for the stall budget (stuck worker)
    │   ├── QuotaError                   ZeroGPU quota; carries retry_after_s
    │   ├── AppError                     the app raised (gr.Error or any exception)
    │   ├── UploadError                  an upload was refused or answered empty
    │   ├── DownloadError                a download failed, was truncated or too big
    │   └── BadOutputError               the Space returned a file that cannot be read
    ├── SplatError                       a splat operation cannot be done
    ├── SiteError                        a site cannot be built or served
    ├── DeployError                      a push to the Hub failed
    │   └── AuthError                    no token / no permission
    ├── WorkspaceError                   a path escapes the run's workspace
    └── AgentError                       the agent harness cannot run
        ├── GoalNotReachedError          the run ended without reaching its goal
        └── ModelError                   the model server failed (hung, refused, HTTP
                                         error, context too small); names the server
"""

from __future__ import annotations


class SpacesmithError(Exception):
    """Base class: a one-line message and a hint that says what to do."""

    exit_code: int = 1
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = " ".join(str(message).split())
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


# --- the user's input -------------------------------------------------------------------


class InputError(SpacesmithError):
    exit_code = 2


class GoalFileError(InputError):
    default_hint = "see the goal file schema in README.md"


class GalleryError(InputError):
    default_hint = "see the gallery JSON format in README.md"


class SplatError(SpacesmithError):
    pass


class SplatFormatError(InputError, SplatError):
    default_hint = "give a 3D Gaussian splat .ply, .splat, .ksplat or .spz file"


# --- Spaces -----------------------------------------------------------------------------


class SpaceError(SpacesmithError):
    """An error about one Space; names the Space and, when known, the endpoint.

    ``retry_after_s`` is set when the Space said how long to wait (Retry-After on a 429 or
    503, "retry in H:MM:SS" in a ZeroGPU quota error).
    """

    def __init__(
        self,
        message: str,
        *,
        space: str,
        endpoint: str | None = None,
        retry_after_s: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.space = space
        self.endpoint = endpoint
        self.retry_after_s = retry_after_s
        where = f"Space '{space}'" + (f" endpoint '{endpoint}'" if endpoint else "")
        super().__init__(f"{where}: {message}", hint=hint)


class DiscoveryError(SpaceError):
    default_hint = "check the Space id or URL; a base URL must serve /agents.md or /gradio_api/info"


class AgentsMdError(DiscoveryError):
    default_hint = "the Space's agents.md is malformed; pass the Space's base URL instead"


class SchemaError(DiscoveryError):
    default_hint = "the Space's /gradio_api/info is malformed; is it a Gradio app?"


class ForeignHostError(DiscoveryError):
    default_hint = "refusing to call a host that is not the Space's own"


class ParameterError(SpaceError):
    default_hint = "run 'spacesmith spaces inspect SPACE' to see the accepted parameters"


class SpaceUnavailableError(SpaceError):
    default_hint = "restart the Space on the Hub or pick another one"


class TransientSpaceError(SpaceError):
    default_hint = "the Space is busy or restarting; try again later"


class SpaceTimeoutError(SpaceError):
    default_hint = "raise --timeout or try again when the Space is less busy"


class SpaceStalledError(SpaceTimeoutError):
    """A call showed no progress (queue position, start, progress, output) for its stall
    budget: the Space's worker is stuck. The run sets such a Space aside.

    ``ran_at`` is when (``time.monotonic()``) a worker took the call, or None when it never
    left the Space's queue; ``given_up_at`` is when the client gave it up (before it
    cancelled the event, which may let the next call start).
    """

    default_hint = "name another Space for the role, or try later"

    def __init__(self, message: str, *, space: str, endpoint: str | None = None,
                 hint: str | None = None, ran_at: float | None = None,
                 given_up_at: float | None = None) -> None:
        super().__init__(message, space=space, endpoint=endpoint, hint=hint)
        self.ran_at = ran_at
        self.given_up_at = given_up_at


class QuotaError(SpaceError):
    default_hint = "log in with 'hf auth login' (or set HF_TOKEN) for more GPU quota, or wait"


class AppError(SpaceError):
    default_hint = "the Space's app failed on this input; change the input or try again"


class UploadError(SpaceError):
    default_hint = "check that the file exists and that the Space accepts uploads"


class DownloadError(SpaceError):
    default_hint = "try the call again; raise the size cap if the file is legitimately large"


class BadOutputError(SpaceError):
    default_hint = "the Space returned a broken file; rerun the same command to try again"


# --- local work -------------------------------------------------------------------------


class SiteError(SpacesmithError):
    pass


class DeployError(SpacesmithError):
    pass


class AuthError(DeployError):
    default_hint = "log in with 'hf auth login' or set HF_TOKEN to a token with write access"


class WorkspaceError(SpacesmithError):
    default_hint = "write only inside the run's workspace"


class AgentError(SpacesmithError):
    pass


class GoalNotReachedError(AgentError):
    default_hint = "see the run report; rerun the same command to resume"


class ModelError(AgentError):
    default_hint = "run 'spacesmith doctor' to check the model"


class Cancelled(BaseException):
    """A person stopped the running turn (Ctrl-C in the chat, Stop in the studio).

    A BaseException, like KeyboardInterrupt: agent-written ``except Exception`` cannot
    swallow it, and it is never reported as a failure of the Space or the agent.
    """
