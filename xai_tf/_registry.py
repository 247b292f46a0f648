"""The one registry every extension point uses: saliency methods, metrics, denoisers, backbones, data formats.

A :class:`Registry` is an ordered ``dict`` from a record's name to the record (a frozen
dataclass such as ``MethodRecord``, or a ``Metric``), so everything that lists, looks up or
iterates a kind reads the same object. Each kind's module keeps its own ``register`` (which adds
the checks only that kind needs, e.g. a metric's options) and calls :meth:`Registry.add` for
the rest; ``unregister`` and the "which names exist" error are the same for every kind:

- adding a name that exists is a ``ValueError`` ("unregister it first to replace it");
- adding something that is not the kind's record type is a ``TypeError``;
- ``remove(name)`` returns the record it removed (``add(remove(name))`` puts it back, at the
  end) and ``None`` for a name that is not registered, so a test's teardown never fails;
- ``record(name)`` is a ``ValueError`` listing the registered names for an unknown name
  (``xai_tf._checks.check_choice``'s message, as every argument check).
"""
from __future__ import annotations

from typing import Generic, TypeVar

from xai_tf._checks import check_choice

Record = TypeVar("Record")

#: The Returns and Raises sections of every kind's ``register`` (``.format(kind=..., record=...)``).
REGISTER_RETURNS = """
Returns
-------
{record}
    ``record`` itself, so that ``THING = register(Thing(...))`` reads in one line.

Raises
------
TypeError
    If ``record`` is not a :class:`{record}`.
ValueError
    If a {kind} of that name is registered already (``unregister`` it first to replace it).
"""
#: The whole docstring of every kind's ``unregister`` (``.format(kind=..., record=...)``).
UNREGISTER_DOC = """
Remove the {kind} registered as ``name`` (tests, plug-ins); built-in ones too, for the rest of the session.

Parameters
----------
name : str
    The registered name; a name that is not registered is ignored.

Returns
-------
{record} or None
    The record removed (registering it again puts it back, at the end), or None where no {kind}
    had that name.
"""


class Registry(dict, Generic[Record]):
    """An ordered ``{name: record}`` dict for one kind of extension, with checked adds.

    Parameters
    ----------
    kind : str
        What a record is, in messages: ``"method"``, ``"metric"``, ``"denoiser"``, ...
    record_type : type
        The class every record must be an instance of.
    argument : str, optional
        The name of the ``register`` argument, in the ``TypeError`` (default ``"record"``).
    """

    def __init__(self, kind: str, record_type: type, argument: str = "record"):
        super().__init__()
        self.kind, self.record_type, self.argument = kind, record_type, argument

    def add(self, record: Record, *, before: str | None = None) -> Record:
        """Register ``record`` under ``record.name``, at the end or just before ``before``.

        Parameters
        ----------
        record : object
            An instance of ``record_type`` whose ``name`` is not registered yet.
        before : str, optional
            A registered name to insert ``record`` in front of (order matters where the
            registry is tried in order, e.g. detecting a data format); default: at the end.

        Returns
        -------
        object
            ``record`` itself, so ``THING = register(Thing(...))`` reads in one line.

        Raises
        ------
        TypeError
            If ``record`` is not a ``record_type``.
        ValueError
            If its name is empty or registered already, or ``before`` is not registered.
        """
        name = self.check(record).name
        if before is None:
            self[name] = record
            return record
        at = list(self).index(check_choice(before, "before", self))
        items = list(self.items())
        self.clear()
        self.update(items[:at] + [(name, record)] + items[at:])
        return record

    def check(self, record: Record) -> Record:
        """Raise what :meth:`add` would raise for ``record``, without adding it.

        A kind whose ``register`` checks more (a metric's options) calls this first, so that its
        own checks read fields of a record of the right type.

        Parameters
        ----------
        record : object
            The record to check.

        Returns
        -------
        object
            ``record`` itself.

        Raises
        ------
        TypeError
            If ``record`` is not a ``record_type``.
        ValueError
            If its name is empty or registered already.
        """
        if not isinstance(record, self.record_type):
            raise TypeError(f"{self.argument} must be a {self.record_type.__name__}; got {type(record).__name__}")
        if not record.name:
            raise ValueError(f"a {self.kind}'s name must not be empty")
        if record.name in self:
            raise ValueError(f"{self.kind} {record.name!r} is already registered; unregister({record.name!r}) "
                             "first to replace it")
        return record

    def remove(self, name: str) -> Record | None:
        """Unregister ``name`` (built-in records too, for the rest of the session).

        Parameters
        ----------
        name : str
            A registered name; any other name is ignored.

        Returns
        -------
        object or None
            The record removed, or None where ``name`` was not registered.
        """
        return self.pop(name, None)

    def record(self, name: str, argument: str = "name") -> Record:
        """The record registered as ``name``.

        Parameters
        ----------
        name : str
            A registered name.
        argument : str, optional
            The caller's argument that gave ``name``, in the error (default "name"; e.g. "method"
            for ``denoise(maps, method)``).

        Returns
        -------
        object
            Its record.

        Raises
        ------
        ValueError
            If ``name`` is not registered; the message lists the registered names.
        """
        return self[check_choice(name, argument, self)]
