"""Every exception the grader raises, in one hierarchy.

* GraderError                 anything the grader reports to its user (exit code 2 at the CLI)
  + UsageError                bad input from the user: unknown homework, missing path, bad option
  + ConfigError               the course manifest or a setting is wrong
  + SubmissionError           a submission cannot be read at all (binary, too large, bad notebook)
  + ExecutorError             the sandbox could not be started (infrastructure, never a student's zero)
* StudentFailure              raised inside a test when the student's code did not answer;
  + StudentException          the student's code raised
  + NotImplementedByStudent   the student's code raised NotImplementedError (an untouched stub)
  + MissingName               the name is not defined, or has the wrong kind or signature
  + RequestTimeout            a request ran past its deadline (or timed out earlier)
  + ExecutorCrash             the executor died while answering (exit, signal, memory)
  + ForbiddenCall             a forbidden API was used (found in the source or at run time)
  + MalformedReply            the executor's reply broke the protocol (forged, too large)
  + HandleError               a handle to a kept object is dead (executor restarted) or unknown

Student failures are not errors of the grader: the pytest plugin turns each into a test status.
"""

from __future__ import annotations

from grader.status import Status

__all__ = [
    "ConfigError",
    "ExecutorCrash",
    "ExecutorError",
    "ForbiddenCall",
    "GraderError",
    "HandleError",
    "MalformedReply",
    "MissingName",
    "NotImplementedByStudent",
    "RequestTimeout",
    "StudentException",
    "StudentFailure",
    "SubmissionError",
    "UsageError",
]


class GraderError(Exception):
    """Base of the errors the grader reports to its user."""


class UsageError(GraderError):
    """The command line or API call asked for something that does not exist or fit."""


class ConfigError(GraderError):
    """The course manifest or a setting is invalid."""


class SubmissionError(GraderError):
    """A submission cannot be read (binary, oversized, broken notebook, no homework file)."""


class ExecutorError(GraderError):
    """The sandboxed executor could not be started; an infrastructure fault, not a grade."""


class StudentFailure(Exception):
    """The student's code did not produce an answer; carries the test status it maps to."""

    status = Status.ERROR
    stage = "call"

    def __init__(self, message: str, *, public_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # What a student may see for a hidden test (no input values, no exception text).
        self.public_message = public_message if public_message is not None else message


class StudentException(StudentFailure):
    """The student's function raised an exception."""

    status = Status.ERROR


class NotImplementedByStudent(StudentFailure):
    """The student's function raised NotImplementedError: the part is not written yet."""

    status = Status.NOT_IMPLEMENTED


class MissingName(StudentFailure):
    """A required name is missing from the submission, or has the wrong kind or signature."""

    status = Status.ERROR
    stage = "load"


class RequestTimeout(StudentFailure):
    """A request ran past its deadline."""

    status = Status.TIMEOUT


class ExecutorCrash(StudentFailure):
    """The executor process died while answering a request."""

    status = Status.CRASHED


class ForbiddenCall(StudentFailure):
    """The submission used an API the curriculum forbids for this part."""

    status = Status.FORBIDDEN
    stage = "forbidden"


class MalformedReply(StudentFailure):
    """The executor's reply was not valid data: forged, truncated, oversized or off-schema."""

    status = Status.ERROR
    stage = "protocol"


class HandleError(StudentFailure):
    """A handle to an object kept in the executor cannot be used: the executor was restarted
    since (kept objects die with it), or this executor never made it."""

    status = Status.ERROR
    stage = "handle"
