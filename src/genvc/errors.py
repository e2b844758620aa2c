"""The error types genvc raises on bad input. The CLI turns any `GenvcError` into one message and exit code 1."""


class GenvcError(Exception):
    """Base class of every error genvc reports to a user (never a bug in genvc itself)."""


class FormatError(GenvcError):
    """A `.gvc` stream (or a payload inside one) is malformed, truncated, corrupt or over a limit."""


class InputError(GenvcError):
    """An input file or argument cannot be used: missing, not a video, empty, unsupported size, not writable."""


class ModelError(GenvcError):
    """A model cannot be loaded or does not match what a stream names (id or weights hash)."""


class WorkerError(GenvcError):
    """A worker process died (killed, out of memory) or a Ray cluster cannot be reached or fails a task."""
