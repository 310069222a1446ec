from __future__ import annotations

import ast
import importlib.resources
import logging
import os
import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from journeyloop import _core

# The type stub journeyloop/_core.pyi agrees with the compiled module.
#
# The stub is read from the installed package when it ships one, else from the
# repository (an installation made before the stub existed does not have it),
# or from $JOURNEYLOOP_CORE_STUB when set.
# It is parsed with ``ast``, never imported, and compared with the live module:
# public names and their kinds, the members and kinds (property, method, static
# method) of every class, class bases, property types, and the parameter names,
# defaults and return types that pybind11 writes on the first line of every
# docstring.

REPO_STUB = Path(__file__).resolve().parents[2] / "python" / "journeyloop" / "_core.pyi"

# Dunder members compared like public ones: the rest (__repr__, __new__, ...)
# come from pybind11 or the exception base classes.
CHECKED_DUNDERS = frozenset({"__init__", "__len__"})


def _is_checked(name: str) -> bool:
    return not name.startswith("_") or name in CHECKED_DUNDERS


# --- the stub ---------------------------------------------------------------


def _stub_file() -> tuple[str, str]:
    """(source, where it was read from) of the stub.

    JOURNEYLOOP_CORE_STUB=path checks that file instead (say, an edited stub
    against an installation that ships an older copy).
    """
    override = os.environ.get("JOURNEYLOOP_CORE_STUB")
    if override:
        return Path(override).read_text(encoding="utf-8"), override
    installed = importlib.resources.files("journeyloop") / "_core.pyi"
    if installed.is_file():
        return installed.read_text(encoding="utf-8"), str(installed)
    if REPO_STUB.is_file():
        return REPO_STUB.read_text(encoding="utf-8"), str(REPO_STUB)
    pytest.fail(f"no _core.pyi in the installed package nor at {REPO_STUB}")


@pytest.fixture(scope="module")
def stub() -> ast.Module:
    source, where = _stub_file()
    logging.getLogger(__name__).info("checking %s against %s", where, _core.__file__)
    return ast.parse(source, filename=where, type_comments=False)


def _defined(body: list[ast.stmt]) -> Iterator[tuple[str, ast.stmt]]:
    """(name, node) of every name a block of statements binds, imports excluded."""
    for node in body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            yield node.target.id, node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    yield target.id, node


def _stub_kind(node: ast.stmt) -> str:
    if isinstance(node, ast.ClassDef):
        return "class"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        decorators = {ast.unparse(d) for d in node.decorator_list}
        for kind in ("property", "staticmethod", "classmethod"):
            if kind in decorators:
                return kind
        return "function"
    return "attribute"


def _stub_top_level(stub: ast.Module) -> dict[str, ast.stmt]:
    return {
        name: node
        for name, node in _defined(stub.body)
        if not name.startswith("_") or name == "__version__"
    }


def _stub_classes(stub: ast.Module) -> dict[str, ast.ClassDef]:
    return {node.name: node for node in stub.body if isinstance(node, ast.ClassDef)}


def _stub_members(cls: ast.ClassDef) -> dict[str, list[ast.stmt]]:
    """Checked members of a stub class; a name defined twice (@overload) has several nodes."""
    out: dict[str, list[ast.stmt]] = {}
    for name, node in _defined(cls.body):
        if _is_checked(name):
            out.setdefault(name, []).append(node)
    return out


def _stub_signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list[str], str]:
    """(["name" or "name=default", ..., with "/" and "*" markers], return annotation)."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += a.defaults
    params = [_param(p.arg, d) for p, d in zip(positional, defaults)]
    if a.posonlyargs:
        params.insert(len(a.posonlyargs), "/")
    if a.vararg:
        params.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        params.append("*")
    params += [_param(p.arg, d) for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        params.append("**" + a.kwarg.arg)
    returns = ast.unparse(fn.returns) if fn.returns is not None else ""
    return params, returns


def _param(name: str, default: ast.expr | None) -> str:
    if default is None:
        return name
    if isinstance(default, ast.Constant) and default.value is Ellipsis:
        return f"{name}=..."  # a default the stub does not spell out
    try:
        return f"{name}={ast.literal_eval(default)!r}"
    except ValueError:
        return f"{name}={ast.unparse(default)}"


# --- the live module --------------------------------------------------------


def _live_top_level() -> set[str]:
    return {n for n in dir(_core) if not n.startswith("_")} | {"__version__"}


def _live_classes() -> list[str]:
    return sorted(n for n in _live_top_level() if isinstance(getattr(_core, n), type))


def _live_kind(value: Any) -> str:
    if isinstance(value, type):
        return "class"
    if isinstance(value, property):
        return "property" if value.fset is None else "attribute"
    if isinstance(value, staticmethod):
        return "staticmethod"
    if isinstance(value, classmethod):
        return "classmethod"
    if callable(value):
        return "function"
    return "attribute"


def _live_members(cls: type) -> dict[str, Any]:
    """Checked members the class itself defines (inherited ones are its bases')."""
    return {
        name: value
        for name, value in vars(cls).items()
        if _is_checked(name)
        # A pybind11 class without py::init keeps the slot wrapper that raises
        # "No constructor defined": not an __init__ the stub should declare.
        and not (name == "__init__" and isinstance(value, types.WrapperDescriptorType))
    }


def _split_top_level(text: str, sep: str) -> list[str]:
    """``text`` split on ``sep`` outside brackets and quotes."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i + len(sep)
            i = start
            continue
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        i += 1
    parts.append(text[start:])
    return parts


def _live_signatures(name: str, doc: str | None) -> list[tuple[list[str], str]]:
    """Signatures pybind11 wrote in a docstring, in the form of _stub_signature."""
    if not doc:
        return []
    found = []
    for line in doc.splitlines():
        m = re.match(rf"^(?:\d+\. )?{re.escape(name)}(\(.*)$", line)
        if m is None or line.endswith("(*args, **kwargs)"):
            continue
        inside, arrow = _split_top_level(m.group(1)[1:], ")")[0], m.group(1)
        returns = arrow[len(inside) + 2 :].removeprefix(" -> ").strip()
        params = []
        for raw in filter(None, (p.strip() for p in _split_top_level(inside, ","))):
            head, *default = _split_top_level(raw, " = ")
            pname = _split_top_level(head, ":")[0].strip()
            params.append(f"{pname}={default[0].strip()}" if default else pname)
        found.append((params, _normalize(returns)))
    return found


def _live_property_type(prop: property) -> str | None:
    doc = prop.fget.__doc__ if prop.fget is not None else None
    m = re.match(r"^\(.*\) -> (.+)$", (doc or "").splitlines()[0] if doc else "")
    return _normalize(m.group(1)) if m else None


def _normalize(annotation: str) -> str:
    """pybind11's spelling of a type in the stub's (imports as in _core.pyi)."""
    for long, short in (
        ("journeyloop._core.", ""),
        ("numpy.typing.", "npt."),
        ("numpy.", "np."),
        ("collections.abc.", ""),
        ("typing.", ""),
    ):
        annotation = annotation.replace(long, short)
    return annotation.strip()


def _same_type(stub: str, live: str) -> bool:
    # The stub may parametrize what pybind11 leaves bare (py::tuple -> "tuple").
    return stub == live or stub.startswith(live + "[")


def _same_params(stub: list[str], live: list[str]) -> bool:
    if len(stub) != len(live):
        return False
    for s_param, l_param in zip(stub, live):
        s_name, s_eq, s_default = s_param.partition("=")
        l_name, l_eq, l_default = l_param.partition("=")
        if s_name != l_name or bool(s_eq) != bool(l_eq):
            return False
        if s_eq and s_default != "..." and s_default != l_default:
            return False
    return True


def _callables() -> list[tuple[str, str]]:
    """(class or "", name) of every live function and method that has a signature."""
    out = [
        ("", n) for n in sorted(_live_top_level()) if _live_kind(getattr(_core, n)) == "function"
    ]
    for cls_name in _live_classes():
        cls = getattr(_core, cls_name)
        for name, value in sorted(_live_members(cls).items()):
            if _live_kind(value) in ("function", "staticmethod", "classmethod"):
                out.append((cls_name, name))
    return out


# --- tests ------------------------------------------------------------------


def test_stub_declares_every_public_name(stub: ast.Module) -> None:
    in_stub = set(_stub_top_level(stub))
    live = _live_top_level()
    assert in_stub - live == set(), "names in _core.pyi that journeyloop._core lacks"
    assert live - in_stub == set(), "names of journeyloop._core missing from _core.pyi"


def test_stub_kinds_of_top_level_names(stub: ast.Module) -> None:
    in_stub = _stub_top_level(stub)
    wrong = {
        name: (_stub_kind(node), _live_kind(getattr(_core, name)))
        for name, node in in_stub.items()
        if hasattr(_core, name) and _stub_kind(node) != _live_kind(getattr(_core, name))
    }
    assert wrong == {}, "(stub kind, live kind) of names declared as the wrong kind"


@pytest.mark.parametrize("cls_name", _live_classes())
def test_stub_class_members(stub: ast.Module, cls_name: str) -> None:
    classes = _stub_classes(stub)
    assert cls_name in classes, f"class {cls_name} missing from _core.pyi"
    in_stub = _stub_members(classes[cls_name])
    live = _live_members(getattr(_core, cls_name))
    assert set(in_stub) - set(live) == set(), f"members of stub {cls_name} that the class lacks"
    assert set(live) - set(in_stub) == set(), f"members of {cls_name} missing from the stub"
    wrong = {
        name: (_stub_kind(nodes[0]), _live_kind(live[name]))
        for name, nodes in in_stub.items()
        if _stub_kind(nodes[0]) != _live_kind(live[name])
    }
    assert wrong == {}, f"(stub kind, live kind) of {cls_name} members"


@pytest.mark.parametrize("cls_name", _live_classes())
def test_stub_class_bases(stub: ast.Module, cls_name: str) -> None:
    classes = _stub_classes(stub)
    if cls_name not in classes:
        pytest.fail(f"class {cls_name} missing from _core.pyi")
    stub_bases = [ast.unparse(b) for b in classes[cls_name].bases]
    live_bases = [
        b.__name__ for b in getattr(_core, cls_name).__bases__ if b.__name__ != "pybind11_object"
    ]
    assert stub_bases == live_bases


@pytest.mark.parametrize("cls_name", _live_classes())
def test_stub_property_types(stub: ast.Module, cls_name: str) -> None:
    classes = _stub_classes(stub)
    if cls_name not in classes:
        pytest.fail(f"class {cls_name} missing from _core.pyi")
    in_stub = _stub_members(classes[cls_name])
    wrong = {}
    for name, value in _live_members(getattr(_core, cls_name)).items():
        nodes = in_stub.get(name, [])
        if not isinstance(value, property) or not nodes:
            continue
        live_type = _live_property_type(value)
        node = nodes[0]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stub_type = ast.unparse(node.returns) if node.returns else ""
        elif isinstance(node, ast.AnnAssign):
            stub_type = ast.unparse(node.annotation)
        else:
            stub_type = ""
        if live_type is not None and not _same_type(stub_type, live_type):
            wrong[name] = (stub_type, live_type)
    assert wrong == {}, f"(stub type, live type) of {cls_name} properties"


@pytest.mark.parametrize(("cls_name", "name"), _callables(), ids=lambda x: x or "<module>")
def test_stub_signatures(stub: ast.Module, cls_name: str, name: str) -> None:
    if cls_name:
        owner = getattr(_core, cls_name)
        classes = _stub_classes(stub)
        if cls_name not in classes:
            pytest.fail(f"class {cls_name} missing from _core.pyi")
        nodes = _stub_members(classes[cls_name])
        where = f"{cls_name}.{name}"
    else:
        owner = _core
        nodes = {}
        for n, node in _defined(stub.body):
            nodes.setdefault(n, []).append(node)
        where = name
    live = _live_signatures(name, getattr(owner, name).__doc__)
    if not live:
        pytest.skip(f"{where} has no pybind11 signature in its docstring")
    defs = [
        n for n in nodes.get(name, []) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    assert defs, f"{where} missing from _core.pyi"
    in_stub = [_stub_signature(fn) for fn in defs]
    assert len(in_stub) == len(live), f"{where}: number of overloads"
    unmatched = [
        sig
        for sig in live
        if not any(
            _same_params(s_params, sig[0]) and _same_type(s_ret, sig[1])
            for s_params, s_ret in in_stub
        )
    ]
    assert unmatched == [], f"{where}: live signatures with no matching stub (stub: {in_stub})"
