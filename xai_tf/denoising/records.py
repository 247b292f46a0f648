"""The denoiser records: what the toolkit knows of each denoiser, and ``register`` / ``unregister``.

Every denoiser is one :class:`DenoiserRecord`: its name, its filter (a function of one array on the
[0, 1] working scale, see :mod:`xai_tf.denoising.convention`), its parameters with their defaults,
checks and a few words each, where the defaults come from, which parameters are window sides that
must fit in the maps, whether the filter is linear, and one line saying what it is.
``xai_tf.denoise``, ``denoise.methods()``, ``denoise.defaults()``, the command line's ``--denoise``,
study configs, the report and the documentation's table of denoisers all read :data:`RECORDS`.
The built-in records are the table at the bottom of :mod:`xai_tf.denoising.denoisers`;
:func:`register` adds one at run time.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from xai_tf._checks import check_choice, check_positive
from xai_tf._docstrings import fill_doc
from xai_tf._registry import REGISTER_RETURNS, UNREGISTER_DOC, Registry

#: Names a denoiser may not take: a study's cell without a denoiser is called ``none``.
RESERVED = ("none",)


class Parameter(NamedTuple):
    """One parameter of a denoiser: its default, the check a given value passes, and a few words.

    Parameters
    ----------
    default : object
        The value used when the caller gives none (not checked: it must be valid).
    check : callable
        ``check(value, name)`` returns the value to use or raises ValueError/TypeError naming ``name``
        (``positive_number``, ``positive_int``, ``odd_int``, ``optional(check)``, ``one_of(*choices)``).
    help : str, optional
        A few words for the docs' table (unit, where the default comes from); default none.
    """

    default: Any
    check: Callable[[Any, str], Any]
    help: str = ""


@dataclass(frozen=True)
class DenoiserRecord:
    """One denoiser as the toolkit knows it.

    Parameters
    ----------
    name : str
        The name ``xai_tf.denoise(maps, name)``, ``--denoise`` and study configs use (an identifier).
    function : callable
        The filter: ``function(x, **params)`` takes one float32 array on the [0, 1] working scale,
        ``(H, W)`` or ``(H, W, C)``, and returns a float32 array of the same shape. The value
        convention (signed and scaled maps) and the thread pool are applied around it.
    parameters : mapping of str to Parameter
        ``{name: Parameter(default, check, help)}``, in the order they are listed.
    source : str
        Where the defaults come from (``"paper 002"``).
    library : str
        What the filter is and which library computes it (``"total variation, Chambolle (scikit-image)"``).
    description : str
        One line for listings.
    window_parameters : tuple of str, optional
        Parameters that are a window side in pixels and must fit in the maps (a larger one would
        leave them unchanged); default none.
    linear : bool, optional
        True when the filter is linear, so it is applied to the raw values without the working
        scale (the Gaussian); default False.

    Raises
    ------
    TypeError
        If a field has the wrong type (a function that is not callable, a parameter that is not a
        :class:`Parameter` with a callable check).
    ValueError
        If ``name`` is not an identifier or is reserved (``none``), or a window parameter is not
        one of ``parameters``.
    """

    name: str
    function: Callable
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    source: str = ""
    library: str = ""
    description: str = ""
    window_parameters: tuple[str, ...] = ()
    linear: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"DenoiserRecord name must be an identifier string; got {self.name!r}")
        if self.name in RESERVED:
            raise ValueError(f"DenoiserRecord name {self.name!r} is reserved (a study's cell without a denoiser)")
        if not callable(self.function):
            raise TypeError(f"denoiser {self.name!r}: function must be callable; got {type(self.function).__name__}")
        if not isinstance(self.parameters, Mapping):
            raise TypeError(f"denoiser {self.name!r}: parameters must be a mapping of name to Parameter; "
                            f"got {type(self.parameters).__name__}")
        for key, parameter in self.parameters.items():
            if not isinstance(key, str) or not key.isidentifier():
                raise ValueError(f"denoiser {self.name!r}: parameter name {key!r} is not an identifier")
            if not isinstance(parameter, Parameter) or not callable(parameter.check):
                raise TypeError(f"denoiser {self.name!r}: parameter {key!r} must be a Parameter(default, check, "
                                f"help) with a callable check; got {parameter!r}")
        for key in ("source", "library", "description"):
            if not isinstance(getattr(self, key), str):
                raise TypeError(f"denoiser {self.name!r}: {key} must be a string")
        windows = tuple(self.window_parameters)
        unknown = [key for key in windows if key not in self.parameters]
        if unknown:
            raise ValueError(f"denoiser {self.name!r}: window parameter(s) {unknown} are not among its "
                             f"parameters {list(self.parameters)}")
        if not isinstance(self.linear, bool):
            raise TypeError(f"denoiser {self.name!r}: linear must be True or False; got {self.linear!r}")
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))
        object.__setattr__(self, "window_parameters", windows)

    def defaults(self) -> dict:
        """The default parameters, as a new dict.

        Returns
        -------
        dict
            ``{parameter: default}`` in the record's order.
        """
        return {key: parameter.default for key, parameter in self.parameters.items()}

    def resolve(self, params: Mapping) -> dict:
        """The full parameters of one call: given ones checked, the others at their defaults.

        Parameters
        ----------
        params : mapping
            The parameters given by the caller.

        Returns
        -------
        dict
            Every parameter of the record, in its order.

        Raises
        ------
        TypeError
            If a parameter name is unknown (the message lists the accepted ones), or a check says so.
        """
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            raise TypeError(f"denoiser {self.name!r} got unknown parameter(s) {', '.join(unknown)}; "
                            f"it accepts: {', '.join(self.parameters)}")
        return {key: parameter.check(params[key], key) if key in params else parameter.default
                for key, parameter in self.parameters.items()}

    def check_fits(self, params: Mapping, size: tuple) -> None:
        """Refuse window parameters larger than the maps (the filter would leave them unchanged).

        Parameters
        ----------
        params : mapping
            The full parameters (:meth:`resolve`).
        size : tuple of int
            ``(height, width)`` of the maps.

        Raises
        ------
        ValueError
            If a window parameter exceeds the smaller side.
        """
        height, width = (int(side) for side in size)
        for key in self.window_parameters:
            if params[key] > min(height, width):
                raise ValueError(f"{key}={params[key]} is larger than the maps ({height} x {width}); {self.name} "
                                 f"needs {key} <= {min(height, width)} (a larger window leaves the maps unchanged)")


#: The registered denoisers by name, in order (the built-in ones are added by ``denoisers.py``).
RECORDS: Registry[DenoiserRecord] = Registry("denoiser", DenoiserRecord)


@fill_doc(returns=REGISTER_RETURNS.format(kind="denoiser", record="DenoiserRecord"))
def register(record: DenoiserRecord) -> DenoiserRecord:
    """Add a denoiser: ``xai_tf.denoise``, ``--denoise``, studies and the docs' table then know it.

    Parameters
    ----------
    record : DenoiserRecord
        The denoiser (its fields are checked when it is made).

    {returns}
    """
    return RECORDS.add(record)


@fill_doc(unregister=UNREGISTER_DOC.format(kind="denoiser", record="DenoiserRecord"))
def unregister(name: str) -> DenoiserRecord | None:
    """{unregister}"""
    return RECORDS.remove(name)


def list_denoisers() -> tuple[str, ...]:
    """Names of the registered denoisers, in order (``xai_tf.denoise.methods()`` is the same).

    Returns
    -------
    tuple of str
        ``("tv", "bilateral", ...)``.
    """
    return tuple(RECORDS)


def describe_denoisers() -> dict[str, DenoiserRecord]:
    """The registered denoisers' records, by name, in order.

    Returns
    -------
    dict of str to DenoiserRecord
        A new dict; the records themselves are frozen.
    """
    return dict(RECORDS)


def record_of(name: str) -> DenoiserRecord:
    """The record of a registered denoiser.

    Parameters
    ----------
    name : str
        One of :func:`list_denoisers`.

    Returns
    -------
    DenoiserRecord
        Its record.

    Raises
    ------
    ValueError
        If ``name`` is not registered (the message lists the names).
    """
    return RECORDS.record(name, "method")


# ---------------------------------------------------------------------------------------------
# Parameter checks records use: check(value, name) -> value, or a named ValueError/TypeError
# ---------------------------------------------------------------------------------------------


def positive_number(value, name):
    return float(check_positive(value, name))


def positive_int(value, name):
    return int(check_positive(value, name, integer=True))


def odd_int(value, name):
    value = positive_int(value, name)
    if value % 2 == 0:
        raise ValueError(f"{name} must be an odd number of pixels (a centred window); got {value}")
    return value


def optional(check):
    return lambda value, name: None if value is None else check(value, name)


def one_of(*choices):
    return lambda value, name: check_choice(value, name, choices)
