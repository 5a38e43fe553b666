"""The Python names of a forbidden list resolved to torch objects, for the recorder.

``Targets`` holds what a list names: torch functions by id (seen by the torch-function mode),
module prefixes, classes (hooked at construction, ``init_hooks``) and the code of pure-Python
functions (seen by a profile hook, ``profile_on``). ``public_name`` says how a student would
have written a torch callable, for messages.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any

import torch

from grader.wire import rules

__all__ = ["WRAPPERS", "Targets", "cache_owner", "hook_inits", "init_hooks", "known_name",
           "profile_off", "profile_on", "public_name", "targets", "unhook_inits"]

Hit = Callable[[str, "str | None"], None]  # records (rule, the call that reached it)
# The files of torch's decorators: their frames are skipped to reach the function they wrap.
WRAPPERS = tuple(os.path.join(os.path.dirname(torch.__file__), *path.split("/")) for path in
                 ("_compile.py", "_dynamo/eval_frame.py", "utils/_contextlib.py"))

_GRAD_MODE = {"no_grad", "enable_grad", "set_grad_enabled", "inference_mode"}
_COVERED_BY_PSEUDO = ("torch.autograd", "torch.func")


def _expand(name: str) -> list[tuple[str, Any]]:
    """``(name, object)`` for a dotted name, or for each attribute a wildcard in its last part
    matches (``torch.nn.functional.*pool*``). ``MODULE.*`` stands for the module's own public
    names (its ``__all__``, else what it defines), not what it imported from elsewhere."""
    head, _, last = name.rpartition(".")
    if not any(c in last for c in "*?["):
        obj = rules.resolve(name)
        return [(name, obj)] if obj is not None else []
    owner = rules.resolve(head)
    if owner is None:
        return []
    if last == "*" and isinstance(owner, types.ModuleType):
        public = getattr(owner, "__all__", None)
        attrs = [a for a in dir(owner) if not a.startswith("_")
                 and (a in public if public is not None
                      else str(getattr(getattr(owner, a), "__module__", "")).startswith(head))]
    else:
        matches = rules.glob(last)
        attrs = [a for a in dir(owner) if matches(a)]
    return [(f"{head}.{a}", getattr(owner, a)) for a in attrs if a not in _GRAD_MODE]


def _sees_torch_function(func: types.FunctionType) -> bool:
    """Whether a Python function hands its calls to torch-function modes (F.softmax does)."""
    return "handle_torch_function" in func.__code__.co_names


class Targets:
    """Forbidden Python names resolved: torch functions by id, module prefixes, classes, and
    the code objects of pure-Python functions the torch-function mode cannot see.

    With every autograd pseudo-operator in the list, the pure-Python functions of
    ``torch.autograd`` and ``torch.func`` are left to them (whatever those functions compute
    runs the engine, dual tensors or a transform): the profile hook that would watch them costs
    tens of microseconds per call of the student's, in every derivative part.
    """

    def __init__(self, names: Sequence[str], pseudo_all: bool = False) -> None:
        self.by_id: dict[int, tuple[Any, str]] = {}  # the object kept alive: no id reuse
        self.prefixes: list[str] = []  # modules whose torch functions are forbidden
        self.python_prefixes: list[str] = []  # ... and whose Python frames are
        self.classes: list[tuple[type, str]] = []
        self.codes: dict[types.CodeType, str] = {}
        for name in names:
            head, _, last = name.rpartition(".")
            covered = pseudo_all and (head in _COVERED_BY_PSEUDO or
                                      head.startswith(tuple(m + "." for m in _COVERED_BY_PSEUDO)))
            if last == "*":
                self.prefixes.append(head)
                if not covered:
                    self.python_prefixes.append(head)
                if head == "torch.optim":
                    self.classes.append((torch.optim.Optimizer, name))
            if covered and last == "*":
                continue  # its torch functions match by module; its Python is left to them
            for full, obj in _expand(name):
                self._add(obj, full, wildcard=last == "*", watch=not covered)

    def _add(self, obj: Any, name: str, *, wildcard: bool, watch: bool = True) -> None:
        if isinstance(obj, type):
            if not wildcard:
                self.classes.append((obj, name))
        elif isinstance(obj, types.ModuleType):
            return
        else:
            self.by_id.setdefault(id(obj), (obj, name))
            if watch and inspect.isfunction(obj) and not _sees_torch_function(obj):
                self.codes.setdefault(obj.__code__, name)

    def match(self, func: Any) -> str | None:
        """The forbidden name of a torch function, or None."""
        entry = self.by_id.get(id(func))
        if entry is not None and entry[0] is func:
            return entry[1]
        module = getattr(func, "__module__", None) or ""
        for prefix in self.prefixes:
            if module == prefix or module.startswith(prefix + "."):
                return f"{module}.{getattr(func, '__name__', '?')}"
        return None

    def python_frame(self, frame: types.FrameType) -> str | None:
        """The forbidden name of a pure-Python function's frame, or None."""
        code = frame.f_code
        hit = self.codes.get(code)
        if hit or not self.python_prefixes:
            return hit
        module = str(frame.f_globals.get("__name__", ""))
        if module.endswith(".grad_mode") or code.co_qualname.split(".")[0] in _GRAD_MODE:
            return None
        for prefix in self.python_prefixes:
            if module == prefix or module.startswith(prefix + "."):
                return f"{module}.{code.co_qualname}"
        return None

    @property
    def watches_python(self) -> bool:
        return bool(self.codes or self.python_prefixes)

    @property
    def seen_by_torch_function(self) -> bool:
        """Whether a torch-function mode could see any of these names called: a torch builtin
        or a Python function that hands its call to the modes, named or in a module wildcard.
        When none could (``torch.load``, ``torch.hub.*``, ``urllib.*``), the profile hook and the
        class hooks see all the list names, and the modes would only slow every operator."""
        return any(_torch_visible(obj) for obj, _ in self.by_id.values()) or \
            any(_module_visible(prefix) for prefix in self.prefixes)


def _torch_visible(obj: Any) -> bool:
    """Whether calling ``obj`` reaches a torch-function mode as its ``func``: a Python function
    that calls ``handle_torch_function``, or (conservatively) any other callable of torch's,
    a builtin, a method or an operator; not another library's builtin."""
    if inspect.isfunction(obj):
        return _sees_torch_function(obj)
    if isinstance(obj, type) or not callable(obj):
        return False
    owner = getattr(obj, "__objclass__", None)
    module = getattr(obj, "__module__", None) or getattr(owner, "__module__", None) or \
        type(obj).__module__
    return not isinstance(module, str) or module == "builtins" or module.startswith("torch")


def _module_visible(prefix: str) -> bool:
    """Whether a module wildcard's modules (those imported) define a torch function: a
    builtin in a torch module, or a Python function that calls ``handle_torch_function``."""
    if prefix == "torch" or prefix.startswith("torch._C"):
        return True
    for name, module in list(sys.modules.items()):
        if module is None or not (name == prefix or name.startswith(prefix + ".")):
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, types.BuiltinFunctionType) and name.startswith("torch"):
                return True
            if inspect.isfunction(obj) and obj.__module__ == name and _sees_torch_function(obj):
                return True
    return False


@functools.lru_cache(maxsize=64)
def targets(names: tuple[str, ...], pseudo_all: bool) -> Targets:
    """Resolved targets, once per forbidden list (resolving imports costs milliseconds)."""
    return Targets(names, pseudo_all)


@functools.cache
def _public_names() -> dict[int, tuple[Any, str]]:
    """The public dotted name of torch's callables and their code, by id (built at the first
    hit only; each entry keeps its object alive, so that no id is reused)."""
    names: dict[int, tuple[Any, str]] = {}
    for space in ("torch.nn.functional", "torch.Tensor", "torch", "torch.linalg", "torch.special",
                  "torch.fft", "torch.autograd", "torch.autograd.functional",
                  "torch.autograd.forward_ad", "torch.func", "torch.nn"):
        owner = rules.resolve(space)
        for attr in dir(owner):
            obj = getattr(owner, attr, None)
            if callable(obj) and not attr.startswith("__"):
                names.setdefault(id(obj), (obj, f"{space}.{attr}"))
                code = getattr(obj, "__code__", None)
                if code is not None:
                    names.setdefault(id(code), (code, f"{space}.{attr}"))
    return names


# The types of torch callables that live as long as torch (a function, a method descriptor, an
# operator): a decision about one is cached by its id, the object kept alive. Others (the
# method-wrapper of a property's __get__, made at each access) are decided by their owner.
_LONG_LIVED = (types.BuiltinFunctionType, types.MethodDescriptorType, types.FunctionType,
               types.WrapperDescriptorType, torch._ops.OpOverload, torch._ops.OpOverloadPacket)
_DESCRIPTORS = (types.GetSetDescriptorType, types.MemberDescriptorType)


def cache_owner(func: Any) -> Any:
    """What a decision about a torch callable may be cached under: itself when it lives as
    long as torch, the descriptor of a property's ``__get__``, else None (decided each time)."""
    if isinstance(func, _LONG_LIVED):
        if isinstance(getattr(func, "__self__", None), torch.Tensor):
            return None  # a method bound to one tensor
        return func
    owner = getattr(func, "__self__", None)
    return owner if isinstance(func, types.MethodWrapperType) and \
        isinstance(owner, _DESCRIPTORS) else None


def known_name(obj: Any) -> str | None:
    """The public name of a torch callable or of its code, or None."""
    entry = _public_names().get(id(obj))
    return entry[1] if entry is not None and entry[0] is obj else None


def public_name(func: Any) -> str:
    """How a student would have written a torch callable: ``torch.nn.functional.softmin``,
    ``torch.Tensor.softmax``, ``torch._softmax``, ``torch.ops.aten._softmax``."""
    known = known_name(func)
    if known:
        return known
    if isinstance(func, torch._ops.OpOverload):
        return f"torch.ops.{func._schema.name.replace('::', '.')}.{func._overloadname}"
    if isinstance(func, torch._ops.OpOverloadPacket):
        return f"torch.ops.{func._qualified_op_name.replace('::', '.')}"
    module = getattr(func, "__module__", None) or "torch"
    qualname = str(getattr(func, "__qualname__", getattr(func, "__name__", repr(func))))
    if qualname.startswith("TensorBase."):
        return f"torch.Tensor.{qualname.removeprefix('TensorBase.')}"
    return f"{module}.{qualname.removeprefix('_VariableFunctionsClass.')}"


# -- the hooks on Python names: constructions of forbidden classes, pure-Python functions -----
def init_hooks(classes: list[tuple[type, str]], hit: Hit) -> list[tuple[type, Any, Any]]:
    """(class, its own __init__ or None, the recording __init__) for each forbidden class."""
    out = []
    for cls, name in classes:
        parent_init = next(base.__dict__["__init__"] for base in cls.__mro__
                           if "__init__" in base.__dict__)
        out.append((cls, cls.__dict__.get("__init__", None), _recording_init(hit, name,
                                                                              parent_init)))
    return out


def _recording_init(hit: Hit, name: str, parent_init: Any) -> Callable[..., None]:
    def __init__(obj: Any, *args: Any, **kwargs: Any) -> None:
        label = name if not name.endswith(".*") else f"{name[:-2]}.{type(obj).__name__}"
        hit(label, label)
        parent_init(obj, *args, **kwargs)

    return __init__


def hook_inits(inits: list[tuple[type, Any, Any]] | None) -> None:
    """Record constructions of forbidden classes (and their subclasses) from now on."""
    for cls, _, recording in inits or ():
        cls.__init__ = recording  # type: ignore[misc]


def unhook_inits(inits: list[tuple[type, Any, Any]] | None) -> None:
    for cls, original, _ in inits or ():
        if original is None:
            if "__init__" in cls.__dict__:
                delattr(cls, "__init__")
        else:
            cls.__init__ = original  # type: ignore[misc]


def profile_on(targets: Targets, filename: str, hit: Hit, used: set[str]) -> tuple[Any, Any]:
    """A profile hook on the pure-Python functions of the list, from now on; returns (the
    hook, the one it replaced). A call counts when the student's code (``filename``) made it:
    torch's own calls, such as a lazy import that defines an autograd Function, do not."""
    seen: dict[types.CodeType, str | None] = {}

    def profile(frame: types.FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        name = seen.get(code, "")
        if name == "":
            name = seen[code] = targets.python_frame(frame)
        if name and name not in used:
            caller = frame.f_back
            while caller is not None and caller.f_code.co_filename in WRAPPERS:
                caller = caller.f_back
            if caller is not None and caller.f_code.co_filename == filename:
                hit(name, name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    return profile, previous


def profile_off(hooks: tuple[Any, Any], hit: Hit) -> None:
    """Put back the hook ``profile_on`` replaced; a hook changed meanwhile is a hit."""
    profile, previous = hooks
    if sys.getprofile() is not profile:
        hit(rules.RECORDER_OFF, "sys.setprofile")
    sys.setprofile(previous if callable(previous) else None)
