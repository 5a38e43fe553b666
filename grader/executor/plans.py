"""A forbidden list's plan: what one list needs at run time, decided once per executor.

The recorder's modes ask a plan, per torch function and per operator they see, which rule (if
any) it hits. Matching names against patterns costs microseconds, so each decision is made at
the first sight of a function or operator and kept; the template makes the plans of the lists
it warms up (the homework's own, ``grader.executor.recorder.warm_up``), so every executor
forked after it inherits them.

Executor side: torch, the standard library and the wire.
"""

from __future__ import annotations

from typing import Any

import torch

from grader.executor import pynames
from grader.executor.pynames import public_name, targets
from grader.wire import rules
from grader.wire.rules import PSEUDO

__all__ = ["IDLE", "OVERLOAD", "UNSEEN", "Plan", "plan", "transform_name"]

_OP_TYPES = (torch._ops.OpOverload, torch._ops.OpOverloadPacket)
_FORWARD_AD_OP = "aten._has_same_storage_numel"
_DUAL_FUNCS = (torch._make_dual, torch._unpack_dual)


_OP_NAMES: dict[int, tuple[Any, tuple[str, str]]] = {}
OVERLOAD = torch._ops.OpOverload
UNSEEN = "<not yet seen>"  # compared by identity: no rule is this very string


def _op_names(func: Any) -> tuple[str, str]:
    """``("aten.NAME", "aten.NAME.OVERLOAD")`` of an operator (twice the name for a packet),
    cached by id with the operator kept alive (those the warm-up meets, before the fork)."""
    entry = _OP_NAMES.get(id(func))
    if entry is not None:
        return entry[1]
    if isinstance(func, torch._ops.OpOverloadPacket):
        packet = func._qualified_op_name.replace("::", ".")
        names = (packet, packet)
    else:
        packet = func._schema.name.replace("::", ".")
        names = (packet, f"{packet}.{func._overloadname}")
    _OP_NAMES[id(func)] = (func, names)
    return names


def transform_name() -> str:
    interpreter = torch._C._functorch.peek_interpreter_stack()
    key = interpreter.key().name.lower() if interpreter is not None else "transform"
    return f"torch.func.{key}"


class Plan:
    """What one forbidden list needs at run time, resolved once per list (in the template for
    the lists the warm-up knows, so each executor inherits them): its rules split by kind,
    its Python targets, each torch function and operator decided at its first sight (matching
    names against patterns costs microseconds). A request's own state lives in its
    ``Recording``."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self.rules = rules.split_rules(patterns)
        pseudo = self.rules.pseudo
        self.targets = targets(self.rules.python, pseudo == frozenset(PSEUDO)) \
            if self.rules.python else None
        self.functorch = "autograd.functorch" in pseudo
        self.forward_ad = "autograd.forward_ad" in pseudo
        self.engine = "autograd.backward" in pseudo
        self.watch_python = self.targets is not None and self.targets.watches_python
        # The modes only where they can see something of the list: an operator or pseudo-
        # operator, or a Python name that is a torch function (each mode watches the other).
        self.modes = bool(self.rules.aten or pseudo) or \
            (self.targets is not None and self.targets.seen_by_torch_function)
        # id(torch function or operator) -> its (rule, call) hits, or the rule it hits; the
        # objects are kept alive in ``seen``, so no other object gets one of these ids
        self.calls: dict[int, tuple[tuple[str, str], ...]] = {}
        self.ops: dict[int, str | None] = {}
        self.seen: list[Any] = []

    def call_hits(self, func: Any) -> tuple[tuple[str, str], ...]:
        """The (rule, call) hits of a torch function the student's line calls, decided once
        per function and list where the function lives on."""
        owner = pynames.cache_owner(func)
        known = self.calls.get(id(owner)) if owner is not None else None
        if known is not None:
            return known
        hits: list[tuple[str, str]] = []
        name = self.targets.match(func) if self.targets is not None else None
        if name:
            hits.append((name, name))
        if self.rules.aten and isinstance(func, _OP_TYPES):
            rule = self.op_rule(func)
            if rule:
                hits.append((rule, public_name(func)))
        if self.forward_ad and (func is _DUAL_FUNCS[0] or func is _DUAL_FUNCS[1]):
            hits.append(("autograd.forward_ad", public_name(func)))
        decided = tuple(hits)  # () when none: the one empty tuple, shared
        if owner is not None:
            self.calls[id(owner)] = decided
            self.seen.append(owner)
        return decided

    def op_rule(self, func: Any) -> str | None:
        """The rule an operator hits (None: none), decided once per operator and list."""
        rule = self.ops.get(id(func), UNSEEN)
        if rule is UNSEEN:
            names = _op_names(func)
            rule = names[0] if rules.match(names, self.rules.aten) else None
            if names[0] == _FORWARD_AD_OP and self.forward_ad:
                rule = "autograd.forward_ad"
            self.ops[id(func)] = rule
            self.seen.append(func)  # kept alive: no other operator gets its id
        return rule


_PLANS: dict[tuple[str, ...], Plan] = {}
IDLE = Plan(())  # what modes outside a window are bound to


def plan(patterns: tuple[str, ...]) -> Plan:
    """The plan of a list, shared by every order and repetition of the same patterns."""
    plan = _PLANS.get(patterns)
    if plan is None:
        key = tuple(sorted(set(patterns)))
        plan = _PLANS.get(key) or Plan(key)
        if len(_PLANS) > 256:  # lists come from the manifest: a handful per homework
            _PLANS.clear()
        _PLANS[key] = _PLANS[patterns] = plan
    return plan
