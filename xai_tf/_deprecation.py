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
"""
from __future__ import annotations

import functools
import warnings

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
                key = (function.__qualname__, old)
                if key not in _WARNED:
                    _WARNED.add(key)
                    warnings.warn(f"{function.__name__}(): {old}= was renamed {new}= in xai-tf {since}; the old "
                                  "name works until the next release", FutureWarning, stacklevel=2)
            return function(*args, **kwargs)

        wrapper.renamed_options = dict(names)  # for documentation and tests
        return wrapper

    return decorate
