"""Renamed options keep working for one release, with one warning: ``renamed(old=new, ...)``.

When an option is renamed, the function takes the new name and is decorated with the old one::

    @renamed(stdev="noise", since="0.9")
    def smoothgrad(request, *, noise=None, ...): ...

A call with the old name still works: the value is passed on under the new name and a
``FutureWarning`` (shown to users by default, unlike ``DeprecationWarning``) says what to write
instead, once per function and old name in a process. Giving both names is a ``TypeError``. The
old names are removed in the release after ``since``; the decorator keeps the function's
signature and docstring (``functools.wraps``), so the registry's parameter listing and the API
pages show only the new names.

Moved modules and names follow the same rule: ``moved_modules(since, {old: new})`` lets
``import old`` (and ``from old import name``) keep working with one ``FutureWarning`` (an import
hook, so no file stays at the old path), and ``moved_names(since, package, {name: new module})``
is the ``__getattr__`` of a package that now stands where a module of the same name was.
"""
from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings
from collections.abc import Mapping

#: ``(function qualname, old name)`` pairs already warned about in this process.
_WARNED: set[tuple[str, str]] = set()


def renamed(since: str, **names: str):
    """Decorate a function whose keyword options ``names`` (old name = new name) were renamed.

    Parameters
    ----------
    since : str
        The version that renamed them (said in the warning; the old names go in the next release).
    **names : str
        ``old="new"``: each old keyword name and the name that replaced it.

    Returns
    -------
    callable
        The decorator.

    Raises
    ------
    ValueError
        If an old name equals its new name, or no name is given.
    """
    if not names:
        raise ValueError("renamed needs at least one old=new pair")
    same = sorted(old for old, new in names.items() if old == new)
    if same:
        raise ValueError(f"renamed: {same} map to themselves; give old=new with different names")

    def decorate(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            for old, new in names.items():
                if old not in kwargs:
                    continue
                if new in kwargs:
                    raise TypeError(f"{function.__name__}() got both {old}= (renamed in {since}) and {new}=; "
                                    f"give {new}= only")
                kwargs[new] = kwargs.pop(old)
                _warn_once((function.__qualname__, old), f"{function.__name__}(): {old}= was renamed {new}= in "
                           f"xai-tf {since}; the old name works until the next release")
            return function(*args, **kwargs)

        wrapper.renamed_options = dict(names)  # for documentation and tests
        return wrapper

    return decorate


def _warn_once(key: tuple[str, str], message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, FutureWarning, stacklevel=3)


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The import hook of :func:`moved_modules`: an old path imports a module forwarding to the new one."""

    def __init__(self):
        self.moved: dict[str, tuple[str, str]] = {}  # old module -> (new module, since)

    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in self.moved else None

    def create_module(self, spec):
        return None  # a plain new module, filled by exec_module

    def exec_module(self, module: types.ModuleType) -> None:
        new, since = self.moved[module.__name__]
        _warn_once((module.__name__, "module"), f"{module.__name__} moved to {new} in xai-tf {since}; import "
                                                f"{new} (the old path works until the next release)")
        target = importlib.import_module(new)
        module.__dict__.update({key: value for key, value in vars(target).items() if not key.startswith("__")})
        module.__doc__ = f"Moved to {new} (xai-tf {since})."


_FINDER = _MovedModules()


def moved_modules(since: str, modules: Mapping[str, str]) -> None:
    """Let each old module path in ``modules`` import the module that replaced it, with one warning.

    Parameters
    ----------
    since : str
        The version that moved them.
    modules : mapping of str to str
        ``{"xai_tf.old.path": "xai_tf.new.path"}``; an old path must no longer exist as a module.
    """
    _FINDER.moved.update({old: (new, since) for old, new in modules.items()})
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)  # last: only paths no real module has reach it


def moved_names(since: str, package: str, names: Mapping[str, str]):
    """The ``__getattr__`` of a package that replaced a module: the old module's names, with one warning.

    Parameters
    ----------
    since : str
        The version that moved them.
    package : str
        The package's ``__name__`` (said in the warning and the ``AttributeError``).
    names : mapping of str to str
        ``{name: the module that now defines it}``. A name that is also a submodule of the package
        gives the submodule (``from package import name`` must import it as before).

    Returns
    -------
    callable
        ``__getattr__(name)`` for the package (PEP 562): ``from package import name`` works too.
    """
    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if hasattr(sys.modules.get(package), "__path__") and importlib.util.find_spec(f"{package}.{name}"):
            # ``from package import name`` asks here before it imports a submodule of that name: the
            # submodule wins (it is the current API), and the old name stays reachable from its module
            return importlib.import_module(f"{package}.{name}")
        _warn_once((package, name), f"{package}.{name} moved to {names[name]}.{name} in xai-tf {since}; import it "
                                    "from there (the old path works until the next release)")
        return getattr(importlib.import_module(names[name]), name)
    return __getattr__
