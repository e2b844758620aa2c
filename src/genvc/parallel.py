"""Where independent tasks (a clip to code, a bench point) run: in this process, in N local processes, or on a
Ray cluster. One interface, `submit(fn, *args) -> Future` and `result(future)`, so what the tasks compute does
not depend on where they ran; `result` turns a dead worker or an unreachable cluster into one `WorkerError`.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from genvc.errors import GenvcError, InputError, WorkerError

#: seconds to wait for a Ray cluster to answer before giving up (override with $GENVC_RAY_TIMEOUT)
RAY_CONNECT_TIMEOUT_S = 60.0
#: memory one clip worker needs beyond its clip's frames: torch, the generator, ffmpeg children (measured ~0.7 GB
#: RSS coding a 45-frame 640×272 clip with the sketch method; rounded up)
WORKER_BASE_BYTES = 1 << 30


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_workers(task_bytes: int = 0) -> int:
    """The cores available, as far as memory allows one worker each (its base plus a few tasks' frames)."""
    try:
        import psutil

        memory = psutil.virtual_memory().available
    except ImportError:
        return available_cores()
    per_worker = WORKER_BASE_BYTES + 4 * task_bytes
    return max(1, min(available_cores(), memory // per_worker))


def _init_worker(threads: int) -> None:
    """N workers on N cores: torch, OpenCV and the encoders ffmpeg runs (vvenc) get the worker's share of the cores,
    or they fight over them (a spawned worker starts from the defaults, not from the parent's --threads)."""
    from genvc import ffmpeg

    ffmpeg.ENCODER_THREADS = threads
    try:
        import cv2

        cv2.setNumThreads(threads)
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass


class Inline:
    """Runs each task at once, in this process (one worker: no pickling, no start-up)."""

    workers = 1

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # handed over like a pool's would be: raised by result()
            future.set_exception(exc)
        return future

    def result(self, future: Future):
        return future.result()

    def close(self, cancel: bool = False) -> None:
        pass


class ProcessPool:
    """N local worker processes (spawned: a forked copy of a process that already runs torch threads can hang)."""

    def __init__(self, workers: int) -> None:
        from genvc import ffmpeg

        self.workers = workers
        threads = ffmpeg.ENCODER_THREADS or max(1, available_cores() // workers)  # --threads, else a share
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(threads,))

    def submit(self, fn, *args) -> Future:
        try:
            return self._pool.submit(fn, *args)
        except BrokenProcessPool:
            raise _died() from None

    def result(self, future: Future):
        try:
            return future.result()
        except BrokenProcessPool:
            raise _died() from None

    def close(self, cancel: bool = False) -> None:
        """Finish (or, with `cancel`, drop) the queued tasks. Cancelling also stops the running ones: otherwise the
        interpreter's exit waits for every clip a worker is still coding (a Ctrl-C would take a minute or more)."""
        if cancel:
            terminate = getattr(self._pool, "terminate_workers", None)  # Python ≥ 3.14
            if terminate is not None:
                terminate()
                return
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                process.terminate()
        self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


def _died() -> WorkerError:
    return WorkerError("a worker process died (killed or out of memory); nothing was written. "
                       "Try fewer --workers")


class RayPool:
    """Tasks on a Ray cluster: `address` None starts a local Ray instance, "auto" joins the cluster this machine
    belongs to, "HOST:PORT" or "ray://HOST:10001" reaches a remote one."""

    def __init__(self, address: str | None, timeout_s: float | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise InputError("--ray needs Ray: pip install 'genvc[ray]'") from None
        self._ray = ray
        timeout_s = float(os.environ.get("GENVC_RAY_TIMEOUT", RAY_CONNECT_TIMEOUT_S)) if timeout_s is None \
            else timeout_s
        self._started = not ray.is_initialized()
        if self._started:
            _connect(ray, address, timeout_s)
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_call)

    def submit(self, fn, *args) -> Future:
        return self._remote.remote(fn, *args).future()

    def result(self, future: Future):
        from ray import exceptions

        try:
            return future.result()
        except GenvcError:
            raise
        except exceptions.RayTaskError as exc:  # a task raised: its cause is the error to report
            cause = exc.cause if hasattr(exc, "cause") else None
            if isinstance(cause, GenvcError):
                raise cause from None
            raise WorkerError(f"a Ray task failed: {cause or exc}") from None
        except exceptions.RayError as exc:
            raise WorkerError(f"a Ray worker or the cluster failed: {type(exc).__name__}: {exc}") from None

    def close(self, cancel: bool = False) -> None:
        if self._started:
            self._ray.shutdown()


def _call(fn, *args):
    return fn(*args)


def _connect(ray, address: str | None, timeout_s: float) -> None:
    """ray.init, but an unreachable cluster is one WorkerError after at most `timeout_s`, not Ray's long retry
    loop (which ends by killing the process): the head's port is probed first."""
    if address is None:  # a local instance, on the loopback address: a public one may not route back here
        options = {"include_dashboard": False, "_node_ip_address": "127.0.0.1"}
    else:
        options = {}
        host, _, port = address.removeprefix("ray://").rpartition(":")
        if address != "auto":
            if not host or not port.isdigit():
                raise InputError(f"--ray wants auto, HOST:PORT or ray://HOST:PORT, got {address!r}")
            try:
                socket.create_connection((host, int(port)), timeout=timeout_s).close()
            except OSError as exc:
                raise WorkerError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None
    try:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, logging_level="ERROR", **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise WorkerError(f"cannot connect to the Ray cluster at {address or 'a local instance'}: {exc}") from None


def make_pool(workers: int | None = 1, ray_address: str | None | bool = False, task_bytes: int = 0,
              tasks: int | None = None):
    """`ray_address` False: local (`workers` processes, None: `default_workers`, never more than `tasks`; one
    runs inline); None or a string: Ray."""
    if ray_address is not False:
        return RayPool(ray_address)
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    workers = workers or default_workers(task_bytes)
    if tasks is not None:
        workers = max(1, min(workers, tasks))
    return Inline() if workers == 1 else ProcessPool(workers)
