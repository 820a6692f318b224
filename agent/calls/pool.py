"""Several Spaces per role, and chains of roles: each Space takes the next job when it is free.

A role ("image", "splat") is played by one Space or more (a :class:`RolePool`). A batch is
a list of items that each go through a chain of roles (``["image", "splat"]``, or just
``["splat"]`` for ``call_many``): as soon as an item's image is ready, its splat job is
queued for the splat role, so the splat Space never idles while images are still coming.

Each member of a pool works through a shared queue, earliest item first: one call at a time
when the role has several Spaces, ``max_workers`` at once when it has one (the Space's own
queue orders them). A job that fails goes to another Space of the role when there is one;
a Space that hangs (:class:`SpaceStalledError`), or fails three calls in a row, is set aside
for the rest of the run when another Space can take its jobs. The last Space of a role gets
probes after a hang (a hang may be one stuck call): the Space goes on probation (every call
on it, those under way included, gets the 30 s probation floor; see :class:`StallPolicy`)
and takes one new job at a time. When a call on it finishes, the probation ends; a call that
started after the last hang (a probe, or one that waited in the Space's queue behind the
hung one) hanging too is one more hang. After ``PROBES`` such hangs in a row, the Space is
set aside and every job left for the role fails at once. So a stuck Space ends the run
within one stall budget plus two probation budgets (about 180 s at the defaults), not
``call_timeout`` per call.

A job is tried at most ``call_attempts`` times per Space of its role.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from spacesmith.agent.calls.outputs import IMAGE_SUFFIXES
from spacesmith.agent.calls.session import SpaceResult, SpaceSession, worth_repeating
from spacesmith.tools.errors import AgentError, QuotaError, SpaceError, SpaceStalledError
from spacesmith.tools.splat import SPLAT_SUFFIXES

ASIDE_AFTER_FAILURES = 3
PROBES = 2  # hangs in a row, after the first, that the last Space of a role is allowed
NOUNS = {"image": "images", "splat": "splats"}


class RoleTool(Protocol):
    """An endpoint tool, as the pool sees it."""

    name: str
    space: str
    identity: str
    endpoint: Any
    file_params: set[str]


class Binding(Protocol):
    """A Space bound to a role: its endpoint tool and how role arguments map to it."""

    role: str
    tool: Any

    def arguments(self, call: Mapping[str, Any]) -> dict[str, Any]: ...


@dataclass(eq=False)
class Member:
    """One Space of a role."""

    binding: Binding
    failures: int = 0
    stalled_at: float | None = None
    hangs: int = 0
    succeeded_at: float = 0.0
    probing: bool = False

    def probe_ended(self, job: Job) -> None:
        """``job`` ended (finished or failed): when it was the probe, the next may start."""
        if job.probe:
            self.probing = False

    @property
    def on_probation(self) -> bool:
        """It hung and has not finished a call since: its next call is a probe."""
        return self.stalled_at is not None and self.succeeded_at < self.stalled_at

    @property
    def tool(self) -> RoleTool:
        tool: RoleTool = self.binding.tool
        return tool

    @property
    def space(self) -> str:
        return self.tool.space


class RolePool:
    """The Spaces that play one role, and the run-long record of which are set aside."""

    def __init__(self, role: str, bindings: Sequence[Binding], session: SpaceSession) -> None:
        if not bindings:
            raise AgentError(f"no Space plays the {role} role", hint=f"name a {role} Space")
        self.role = role
        self.members = [Member(b) for b in bindings]
        self.session = session

    @property
    def usable(self) -> list[Member]:
        return [m for m in self.members if self.session.aside_reason(m.space) is None]

    def noun(self) -> str:
        return NOUNS.get(self.role, f"{self.role} calls")


@dataclass(eq=False)
class Job:
    """One item at one stage of its chain."""

    item: int
    stage: int
    call: dict[str, Any]
    started: float = 0.0
    tries: int = 0
    avoid: Member | None = None
    probe: bool = False


@dataclass(frozen=True)
class ChainResult:
    """One item's results along its chain; ``.image`` and ``.splat`` are its files."""

    steps: tuple[SpaceResult, ...]

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(f for step in self.steps for f in step.files)

    @property
    def image(self) -> str | None:
        """The first image any step produced (the picture the splat was made from)."""
        return next((f for f in self.files if f.lower().endswith(IMAGE_SUFFIXES)), None)

    @property
    def splat(self) -> str | None:
        """The splat of the last step that made one."""
        found = [f for f in self.files if f.lower().endswith(SPLAT_SUFFIXES)]
        return found[-1] if found else None

    def __repr__(self) -> str:
        how = ", ".join(f"{s.tool} " + ("cached" if s.cached else f"{s.elapsed_s:.1f}s")
                        for s in self.steps)
        return f"ChainResult(image={self.image!r}, splat={self.splat!r}; {how})"

    __str__ = __repr__


class BatchError(AgentError):
    """Some items failed; the others finished (and are cached)."""

    def __init__(self, message: str, failures: Sequence[tuple[int, BaseException]]) -> None:
        self.failures = list(failures)
        stuck = all(isinstance(exc, SpaceStalledError) for _, exc in self.failures)
        super().__init__(message, hint=(
            "name another Space for the role, or try later; finished calls are cached" if stuck
            else "call again with the same arguments: finished calls come from the cache"))


def run_batch(pools: Sequence[RolePool], calls: Sequence[Mapping[str, Any]], *,
              max_workers: int,
              progress: Callable[[Any], None] | None = None) -> list[list[SpaceResult]]:
    """Run every call through the chain of ``pools``, pipelined; results in order.

    Args:
        pools: the roles of the chain, in order (the first takes ``calls``).
        calls: one dict of role arguments per item (``{"prompt": ...}`` for the image role).
        max_workers: calls in flight per Space when a role has one Space.
        progress: told when a Space is set aside.

    Returns:
        Per item, its result at each stage.

    Raises:
        BatchError: some items failed (after every other item finished); one line that
            names the Space and what it saw, and how many items each role finished.
    """
    return _Batch(list(pools), [dict(c) for c in calls], max_workers, progress).run()


class _Batch:
    def __init__(self, pools: list[RolePool], calls: list[dict[str, Any]], max_workers: int,
                 progress: Callable[[Any], None] | None) -> None:
        self.pools = pools
        self.n = len(calls)
        self.max_workers = max(1, max_workers)
        self.progress = progress
        self.cond = threading.Condition()
        self.queues: list[list[Job]] = [[] for _ in pools]
        self.stage_of = [0] * self.n
        self.results: list[list[SpaceResult]] = [[] for _ in range(self.n)]
        self.failed: dict[int, BaseException] = {}
        self.queues[0] = [Job(i, 0, c) for i, c in enumerate(calls)]

    # --- running ----------------------------------------------------------------------

    def run(self) -> list[list[SpaceResult]]:
        if not self.n:
            return []
        threads: list[threading.Thread] = []
        for stage, pool in enumerate(self.pools):
            slots = self.max_workers if len(pool.members) == 1 else 1
            for member in pool.members:
                for _ in range(min(slots, self.n)):
                    thread = threading.Thread(target=self._work, args=(stage, member),
                                              daemon=True, name=f"{pool.role}-worker")
                    threads.append(thread)
        with self.cond:
            for stage, pool in enumerate(self.pools):
                if not pool.usable:
                    self._fail_stage(stage, self._aside_error(pool, pool.members[0]))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for i in range(self.n):  # a guard: every item ends finished or failed
            if self.stage_of[i] < len(self.pools) and i not in self.failed:
                pool = self.pools[self.stage_of[i]]
                self.failed[i] = self._aside_error(pool, pool.members[0])
        if self.failed:
            raise BatchError(self._summary(), sorted(self.failed.items()))
        return self.results

    def _closed(self, stage: int) -> bool:
        """No job will come to ``stage`` any more (every item failed or went past it)."""
        return all(i in self.failed or self.stage_of[i] > stage for i in range(self.n))

    def _take(self, stage: int, member: Member) -> Job | None:
        pool = self.pools[stage]
        with self.cond:
            while True:
                if self.session_aside(member):
                    return None
                queue = self.queues[stage]
                only = len(pool.usable) <= 1
                # a Space on probation takes one job at a time: the probe
                busy = member.on_probation and member.probing
                for job in [] if busy else queue:
                    if only or job.avoid is not member:
                        queue.remove(job)
                        job.probe = member.probing = member.on_probation
                        return job
                if self._closed(stage):
                    return None
                self.cond.wait(1.0)

    def session_aside(self, member: Member) -> bool:
        return self.pools[0].session.aside_reason(member.space) is not None

    def _work(self, stage: int, member: Member) -> None:
        pool = self.pools[stage]
        session = pool.session
        while True:
            job = self._take(stage, member)
            if job is None:
                return
            tool = member.tool
            args = member.binding.arguments(job.call)
            label = f"{pool.role} {job.item + 1}/{self.n}"
            job.started = time.monotonic()
            job.tries += 1
            try:
                hit = self._cached(pool, job)
                result = hit or session.call(
                    tool.name, tool.space, tool.endpoint, args, tool.file_params,
                    identity=tool.identity, label=label,
                    attempts=None if len(pool.members) == 1 else 1)
            except SpaceError as exc:
                self._failed(stage, member, job, exc)
                continue
            except BaseException as exc:  # a bug or a budget: this item ends here
                with self.cond:
                    member.probe_ended(job)
                    self.failed[job.item] = exc
                    self.cond.notify_all()
                continue
            with self.cond:
                member.probe_ended(job)
                if not result.cached:  # a stored result says nothing of the Space now
                    member.failures = 0
                    member.succeeded_at = time.monotonic()
                    session.probation(member.space).clear()
                self._advance(job, result)

    def _cached(self, pool: RolePool, job: Job) -> SpaceResult | None:
        for other in pool.members:
            tool = other.tool
            found = pool.session.lookup(tool.name, tool.space, tool.endpoint,
                                        other.binding.arguments(job.call), tool.file_params,
                                        identity=tool.identity)
            if found is not None:
                return found
        return None

    def _advance(self, job: Job, result: SpaceResult) -> None:
        self.results[job.item].append(result)
        nxt = job.stage + 1
        self.stage_of[job.item] = nxt
        if nxt < len(self.pools):
            pool = self.pools[nxt]
            key = "prompt" if pool.role == "image" else "image"
            value = result.image if key == "image" else None
            if key == "image" and value is None:
                value = result.files[0] if result.files else None
            if value is None:
                self.failed[job.item] = AgentError(
                    f"{self.pools[job.stage].role} {job.item + 1} returned no file to pass "
                    f"to the {pool.role} role")
            else:
                self.queues[nxt].append(Job(job.item, nxt, {key: value}))
                self.queues[nxt].sort(key=lambda j: j.item)
                if not pool.usable:
                    self._fail_stage(nxt, self._aside_error(pool, pool.members[0]))
        self.cond.notify_all()

    # --- failures ---------------------------------------------------------------------

    def _failed(self, stage: int, member: Member, job: Job, exc: SpaceError) -> None:
        pool = self.pools[stage]
        session = pool.session
        with self.cond:
            member.probe_ended(job)
            if session.aside_reason(member.space) is not None:  # set aside meanwhile
                self._requeue_or_fail(stage, job, exc, member)
                return
            others = [m for m in pool.usable if m is not member]
            if isinstance(exc, SpaceStalledError):
                # a hang counts when it is the first since the Space last finished a call,
                # or the call started after the last counted one (a probe, or one queued
                # behind the hung call); calls that were merely waiting behind it do not
                last = member.stalled_at if member.on_probation else None
                counted = last is None or job.started > last or (
                    exc.ran_at is not None and exc.ran_at > last)
                if counted:  # from when the call was given up: its cancel may have let
                    # the next call start before this line runs
                    member.hangs = member.hangs + 1 if last is not None else 1
                    member.stalled_at = exc.given_up_at or time.monotonic()
                    session.probation(member.space).set()
                if others or member.hangs > PROBES:
                    self._set_aside(pool, member, _bare(exc))
            elif len(pool.members) > 1 and (worth_repeating(exc) or isinstance(exc, QuotaError)):
                # another Space may take it (ZeroGPU refusing one Space says nothing of another)
                member.failures += 1
                if others and member.failures >= ASIDE_AFTER_FAILURES:
                    self._set_aside(pool, member, f"{member.failures} calls in a row failed, "
                                                  f"the last with: {_bare(exc)}")
            else:  # wrong arguments, a refused upload, or the Space's own re-calls are spent
                self.failed[job.item] = exc
                self.cond.notify_all()
                return
            self._requeue_or_fail(stage, job, exc, member)

    def _requeue_or_fail(self, stage: int, job: Job, exc: SpaceError, member: Member) -> None:
        pool = self.pools[stage]
        limit = pool.session.call_attempts * len(pool.members)
        if pool.usable and job.tries < limit:
            job.avoid = member
            self.queues[stage].append(job)
            self.queues[stage].sort(key=lambda j: j.item)
        else:
            self.failed[job.item] = exc if pool.usable else self._aside_error(pool, member)
        if not pool.usable:
            self._fail_stage(stage, self._aside_error(pool, member))
        self.cond.notify_all()

    def _set_aside(self, pool: RolePool, member: Member, reason: str) -> None:
        pool.session.set_aside(member.space, reason)
        if self.progress is not None:
            from spacesmith.tools.spaces.client import ProgressEvent

            left = len(pool.usable)
            self.progress(ProgressEvent(member.space, getattr(member.tool.endpoint, "name", None),
                                        "failed", f"set aside for the rest of the run: {reason}"
                                        f" ({left} other {pool.role} Space(s) left)"))

    def _aside_error(self, pool: RolePool, member: Member) -> SpaceError:
        reason = pool.session.aside_reason(member.space) or "set aside"
        return SpaceStalledError(reason, space=member.space,
                                 endpoint=getattr(member.tool.endpoint, "name", None))

    def _fail_stage(self, stage: int, exc: SpaceError) -> None:
        """No Space is left for ``stage``: every job waiting for it fails at once, except
        those a finished call already answered (the cache keeps what a Space did before it
        was set aside)."""
        waiting, self.queues[stage] = self.queues[stage], []
        for job in waiting:
            hit = self._cached(self.pools[stage], job)
            if hit is not None:
                self._advance(job, hit)
            else:
                self.failed.setdefault(job.item, exc)
        self.cond.notify_all()

    def _summary(self) -> str:
        """One line: the first failure, and how far each role got."""
        _, first = min(self.failed.items())
        text = first.message if isinstance(first, SpaceError) else str(first)
        done = []
        for stage, pool in enumerate(self.pools):
            count = sum(1 for i in range(self.n) if self.stage_of[i] > stage)
            done.append(f"{count} of {self.n} {pool.noun()} done")
        return f"{text}; {', '.join(done)}"


def _bare(exc: SpaceError) -> str:
    """The error's message without its ``Space '…' endpoint '…': `` prefix."""
    where = f"Space '{exc.space}'" + (f" endpoint '{exc.endpoint}'" if exc.endpoint else "")
    return exc.message.removeprefix(where + ": ")
