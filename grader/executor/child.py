"""The executor: imports one submission and answers the judge's requests, as data only.

It runs in a process forked from the template, already confined by ``grader.executor.sandbox``. It
speaks frames of ``grader.wire.frames`` over one socket. Everything it sends is checked again on
the judge's side: once the submission is imported, this process is untrusted.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
import types
from typing import Any

import torch

from grader.executor import escapes
from grader.executor.failures import error_record, set_workdir
from grader.executor.ops import OPS, RequestContext
from grader.executor.state import reset_state
from grader.wire import frames, values

__all__ = ["accept", "load_submission", "serve"]

MAX_REQUEST_BYTES = 4 << 30
MAX_SPEC_BYTES = 64 << 20
def _describe(obj: Any) -> dict[str, Any]:
    kind = "class" if isinstance(obj, type) else "function" if callable(obj) else "value"
    entry: dict[str, Any] = {"kind": kind}
    if kind != "value":
        try:
            sig = inspect.signature(obj)
            entry["params"] = [p.name for p in sig.parameters.values()]
            entry["signature"] = str(sig)
        except (TypeError, ValueError):
            entry["params"] = None
    return entry


def load_submission(spec: dict[str, Any]) -> tuple[types.ModuleType, dict[str, Any]]:
    """Execute the submission's top-level statements one chunk at a time.

    A chunk that raises (a missing package, ``sys.exit``, an error at import) is recorded and
    skipped, so only the parts that need what it would have defined fail.
    """
    name = spec["module"]
    filename = spec["filename"]
    module = types.ModuleType(name)
    module.__file__ = filename
    sys.modules[name] = module
    errors = []
    for chunk in spec["chunks"]:
        code_text = "\n" * (chunk["lineno"] - 1) + chunk["code"]
        try:
            code = compile(code_text, filename, "exec", dont_inherit=True)
            exec(code, module.__dict__)
        except BaseException as exc:  # noqa: B036 - SystemExit at import is a student error too
            record = error_record(exc, {filename})
            record["lineno"] = chunk["lineno"]
            record["defines"] = chunk.get("defines", [])
            errors.append(record)
    names = {k: _describe(v) for k, v in list(module.__dict__.items())
             if not k.startswith("__") and not isinstance(v, types.ModuleType)}
    return module, {"errors": errors, "names": names}


def _load_harness(spec: dict[str, Any] | None) -> types.ModuleType | None:
    if not spec:
        return None
    module = types.ModuleType("harness")
    module.__file__ = spec["filename"]
    exec(compile(spec["source"], spec["filename"], "exec", dont_inherit=True), module.__dict__)
    return module


def _init_cuda(device: str, budget: int) -> None:
    """Initialise CUDA in this (forked) executor, never in the template, with a memory cap."""
    if torch.cuda._is_in_bad_fork():
        raise RuntimeError("CUDA was initialised in the template before the fork; "
                           "the executor cannot use the GPU")
    index = torch.device(device).index or 0
    torch.cuda.set_device(index)
    total = torch.cuda.get_device_properties(index).total_memory
    if budget:
        torch.cuda.set_per_process_memory_fraction(min(1.0, budget / total), index)
    torch.zeros(1, device=device)  # create the context before the student's code runs


def accept(stream: frames.Stream, config: dict[str, Any]) -> None:
    """In a confined executor: receive the submission, write it into the working directory,
    then serve the judge's requests until the stream closes."""
    workdir = config["workdir"]
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    set_workdir(workdir)
    spec, _ = frames.recv_frame(stream, max_bytes=MAX_SPEC_BYTES)
    sub = spec["submission"]
    with open(os.path.join(workdir, sub["filename"]), "w", encoding="utf-8") as f:
        f.write(sub["source"])
    sub["filename"] = os.path.join(workdir, sub["filename"])
    if spec.get("harness"):
        spec["harness"]["filename"] = os.path.join(workdir, spec["harness"]["filename"])
    serve(stream, {**config, **spec})


def serve(sock: frames.Stream, config: dict[str, Any]) -> None:
    """Import the submission, greet the judge, then answer requests until the socket closes."""
    device = config.get("device", "cpu")
    threads = int(config.get("threads", 1))
    if device.startswith("cuda"):
        _init_cuda(device, int(config.get("gpu_memory_bytes", 0)))
    elif device == "mps":
        torch.zeros(1, device="mps")  # Metal's context, before the student's code runs
    reset_state(seed=0, threads=threads, device=device)
    escapes.install()  # before the submission's code: it sees the wrapped thread starts
    started = time.perf_counter()
    module, report = load_submission(config["submission"])
    harness = _load_harness(config.get("harness"))
    report["import_s"] = time.perf_counter() - started
    frames.send_frame(sock, {"hello": True, "load": report})
    filenames = {config["submission"]["filename"]}
    if harness is not None:
        filenames.add(config["harness"]["filename"])
    while True:
        try:
            header, tensors = frames.recv_frame(sock, max_bytes=MAX_REQUEST_BYTES)
        except (EOFError, OSError):
            return
        ctx = RequestContext(module=module, harness=harness, header=header, tensors=tensors,
                             device=header.get("device", device), filenames=filenames)
        reset_state(seed=int(header.get("seed", 0)), threads=threads, device=ctx.device)
        reply, out_tensors = _answer(ctx)
        try:
            frames.send_frame(sock, reply, out_tensors)
        except (OSError, values.FrameError) as err:
            frames.send_frame(sock, {"ok": False, "error": {
                "kind": "reply", "type": type(err).__name__, "message": str(err)[:500],
                "frames": []}})


def _answer(ctx: RequestContext) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    op = OPS.get(str(ctx.header.get("op")))
    started = time.perf_counter()
    if op is None:
        return {"ok": False, "error": {"kind": "protocol", "type": "UnknownOp",
                                       "message": f"unknown op {ctx.header.get('op')!r}",
                                       "frames": []}}, {}
    try:
        body = op(ctx)
        reply = {"ok": True, **body}
    except ctx.StudentError as err:
        reply = {"ok": False, "error": err.record}
    except BaseException as exc:  # noqa: B036 - the student's code may raise anything
        reply = {"ok": False, "error": error_record(exc, ctx.filenames)}
    reply["forbidden_used"] = ctx.recorder.used if ctx.recorder else []
    reply["duration_s"] = time.perf_counter() - started
    out_tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, Any] = {}
    try:
        for key in ("value", "grads", "inputs_after", "steps", "state_dict", "initial_state"):
            if key in reply:
                reply[key] = values.encode_value(reply[key], out_tensors, meta)
    except BaseException as exc:  # noqa: B036 - encoding a hostile object
        return {"ok": False, "error": error_record(exc, ctx.filenames, kind="reply"),
                "forbidden_used": reply["forbidden_used"]}, {}
    reply["meta"] = meta
    return reply, out_tensors
