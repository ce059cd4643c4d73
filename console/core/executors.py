"""Where a sweep's points run: one small interface, two backends.

    ex = make_executor("pool", workers=4)       # local processes (standard library)
    ex = make_executor("dask", workers=4)       # a dask.distributed LocalCluster
    ex = make_executor("dask", scheduler="tcp://host:8786")   # an existing Dask cluster
    fut = ex.submit(fn, *args)                  # fn must be importable on the workers
    for fut in ex.as_completed(futs, timeout=0.2): fut.result()
    ex.cancel(fut)          # a task that has not started
    token = ex.stop_token() # passed to a batch of tasks (one sweep)
    ex.request_stop(token)  # ... whose running tasks see `token()` turn True
    ex.close()

Running tasks are stopped cooperatively: each task gets a stop token, a small picklable
callable that returns True once `request_stop(token)` was called (the pool shares an array
of flags with its processes; Dask uses a cluster-wide `distributed.Event` per token). One
executor can serve several sweeps, one after another or at once.
A third backend (e.g. Ray: `ray.remote(fn).remote`, `ray.wait`, `ray.cancel`, a named
actor as the stop flag) implements the same seven methods.

Dask is an optional extra (`pip install "paramlab[dask]"`), imported only here and only
when asked for.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol


class BackendError(Exception):
    """A backend that cannot be used (extra not installed, scheduler unreachable)."""


class Executor(Protocol):
    name: str

    def capacity(self) -> int:
        """How many tasks can run at once (the driver keeps about this many in flight)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Start `fn(*args)`; returns a future with `.done()`, `.result()`, `.cancel()`."""

    def as_completed(self, futures: Sequence[Any], timeout: float | None = None
                     ) -> Iterator[Any]:
        """Yield the futures that are done or complete within `timeout` seconds, then
        return (no TimeoutError: the caller loops and stays responsive to cancel)."""

    def cancel(self, future: Any) -> bool:
        """Cancel a task that has not started; True when it will not run."""

    def stop_token(self) -> Callable[[], bool]:
        """A new picklable callable for tasks: True once `request_stop(it)` was called."""

    def request_stop(self, token: Callable[[], bool]) -> None:
        """Ask the running tasks given `token` to stop at their next check."""

    def close(self) -> None:
        ...


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def make_executor(kind: str = "pool", *, workers: int | None = None,
                  scheduler: str | None = None) -> Executor:
    if scheduler:
        return DaskExecutor(scheduler=scheduler)
    if kind == "dask":
        return DaskExecutor(workers=workers or default_workers())
    if kind == "pool":
        return PoolExecutor(workers or default_workers())
    raise ValueError(f"unknown backend {kind!r}; choose pool or dask")


# ------------------------------------------------------------------ process pool

STOP_SLOTS = 256
_POOL_STOP: Any = None  # the shared stop flags, set in each pool process by _init_pool_worker


def _init_pool_worker(stop_flags: Any, threads: int, life: Any = None) -> None:
    # Ctrl-C reaches the whole process group: the driver alone decides what stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if life is not None:  # a driver killed outright takes its workers with it
        from paramlab.console.core.processes import die_with_parent

        def stop_all() -> None:
            for i in range(len(stop_flags)):
                stop_flags[i] = 1

        die_with_parent(life, stop_all)
    # N processes x all-core BLAS/torch pools oversubscribe the CPU: size the pools before
    # numpy / torch load (each point then applies the thread policy, core/threads.py)
    from paramlab.console.core.threads import export_env

    export_env(threads)
    global _POOL_STOP
    _POOL_STOP = stop_flags


class PoolStop:
    """Stop token of the process pool: one flag of the array the worker inherited."""

    def __init__(self, slot: int) -> None:
        self.slot = slot

    def __call__(self) -> bool:
        return _POOL_STOP is not None and bool(_POOL_STOP[self.slot])


class PoolExecutor:
    """concurrent.futures.ProcessPoolExecutor with a forkserver (or spawn) context: never
    fork, since the driver has threads."""

    name = "pool"

    def __init__(self, workers: int, *, threads_per_worker: int = 1) -> None:
        self.workers = max(1, int(workers))
        from paramlab.console.core.processes import process_context

        ctx = process_context()
        self._stop = ctx.Array("b", STOP_SLOTS, lock=False)  # one byte per live token
        self._next_slot = 0
        threads = max(1, int(threads_per_worker))
        from paramlab.console.core.processes import lifeline

        self._life = lifeline(ctx)  # (reader, writer): the writer never leaves this process
        self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=ctx,
                                            initializer=_init_pool_worker,
                                            initargs=(self._stop, threads, self._life[0]))

    def capacity(self) -> int:
        return self.workers

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future:
        return self._pool.submit(fn, *args)

    def as_completed(self, futures: Sequence[Any], timeout: float | None = None
                     ) -> Iterator[Any]:
        try:
            yield from cf.as_completed(futures, timeout)
        except TimeoutError:
            return

    def cancel(self, future: Any) -> bool:
        return future.cancel()

    def stop_token(self) -> Callable[[], bool]:
        slot = self._next_slot % STOP_SLOTS  # reused after 256 sweeps on one pool
        self._next_slot += 1
        self._stop[slot] = 0
        return PoolStop(slot)

    def request_stop(self, token: Callable[[], bool]) -> None:
        if isinstance(token, PoolStop):
            self._stop[token.slot] = 1

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for end in self._life:
            end.close()

    def __enter__(self) -> PoolExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ------------------------------------------------------------------ dask


class DaskStop:
    """Stop token on a Dask worker: a named cluster-wide Event, asked at most every
    `every` seconds (each question is a round trip to the scheduler)."""

    def __init__(self, name: str, every: float = 0.5) -> None:
        self.name = name
        self.every = every
        self._event: Any = None
        self._next = 0.0
        self._stopped = False

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "every": self.every}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["name"], state["every"])  # type: ignore[misc]

    def __call__(self) -> bool:
        if self._stopped:
            return True
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.every
        try:
            if self._event is None:
                from distributed import Event

                self._event = Event(self.name)
            self._stopped = bool(self._event.is_set())
        except Exception:  # outside a Dask task, or the scheduler is gone
            return False
        return self._stopped


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise BackendError('the Dask backend needs the dask extra: '
                           'pip install "paramlab[dask]"') from None
    return distributed


_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[^\s:/\[\]]+):(\d{1,5})$")


def check_scheduler_address(address: str) -> None:
    """BackendError (one line) unless `address` reads [PROTOCOL://]HOST:PORT."""
    m = _ADDRESS.match(address.strip())
    if not m or not 0 < int(m.group(3)) < 65536:
        raise BackendError(f"--scheduler {address!r}: expected an address such as "
                           f"tcp://host:8786 (protocol, host and port)")


def _connect(distributed: Any, address: str, timeout: float) -> Any:
    """A Client on `address`, the whole handshake bounded by `timeout` (+ 5 s): the
    client's own timeout covers only the TCP connect, and a server that accepts but does
    not speak Dask's protocol would hold it for minutes."""
    box: dict[str, Any] = {}

    def connect() -> None:
        try:
            box["client"] = distributed.Client(address, timeout=timeout)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    t = threading.Thread(target=connect, name="paramlab-dask-connect", daemon=True)
    t.start()
    t.join(timeout + 5.0)
    if "client" in box:
        return box["client"]
    exc = box.get("error")
    why = f"{type(exc).__name__}: {exc}" if exc is not None else \
        f"no Dask scheduler answered within {timeout + 5:.0f} s"
    raise BackendError(f"cannot reach the Dask scheduler at {address}: "
                       f"{str(why).splitlines()[0] if why else why}")


class DaskExecutor:
    """A `dask.distributed` client: on a LocalCluster it starts (processes, one thread
    each) or on an existing cluster at `scheduler` ("tcp://host:8786")."""

    name = "dask"

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None,
                 connect_timeout: float = 20.0) -> None:
        distributed = _import_distributed()
        self._distributed = distributed
        self.cluster = None
        if scheduler:
            check_scheduler_address(scheduler)
            self.client = _connect(distributed, scheduler, connect_timeout)
            self.name = f"dask {scheduler}"
        else:
            self.cluster = _local_cluster(distributed, workers or default_workers())
            self.client = distributed.Client(self.cluster)
            self.name = f"dask LocalCluster({workers})"

    def capacity(self) -> int:
        try:
            n = sum(self.client.nthreads().values())
        except Exception:
            n = 0
        return max(1, n)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def as_completed(self, futures: Sequence[Any], timeout: float | None = None
                     ) -> Iterator[Any]:
        done = [f for f in futures if f.done()]
        if not done and futures:
            try:
                self._distributed.wait(list(futures), timeout=timeout,
                                       return_when="FIRST_COMPLETED")
            except TimeoutError:
                return
            done = [f for f in futures if f.done()]
        yield from done

    def cancel(self, future: Any) -> bool:
        # a client future is "pending" whether queued or running: ask the scheduler, and
        # leave running tasks to the stop token (they then return a proper result)
        if future.status != "pending":
            return False
        try:
            processing = {k for keys in self.client.processing().values() for k in keys}
        except Exception:
            return False
        if future.key in processing:
            return False
        future.cancel()
        return True

    def stop_token(self) -> Callable[[], bool]:
        return DaskStop(f"paramlab-stop-{uuid.uuid4().hex}")

    def request_stop(self, token: Callable[[], bool]) -> None:
        if isinstance(token, DaskStop):
            try:
                self._distributed.Event(token.name, client=self.client).set()
            except Exception:
                pass

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _local_cluster(distributed: Any, workers: int) -> Any:
    """A LocalCluster of worker processes. Started with SIGINT ignored (when we can:
    only the main thread sets handlers), so that the worker processes, which inherit it,
    keep running on Ctrl-C until the driver has stopped them cleanly."""
    kwargs = dict(n_workers=workers, threads_per_worker=1, processes=True,
                  dashboard_address=None)
    if threading.current_thread() is not threading.main_thread():
        return distributed.LocalCluster(**kwargs)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return distributed.LocalCluster(**kwargs)
    finally:
        signal.signal(signal.SIGINT, previous)
