"""A renamed option, a moved module or a moved name keeps working for one release with one FutureWarning
(``xai_tf._deprecation``: ``renamed``, ``moved_modules``, ``moved_names``)."""
from __future__ import annotations

import importlib
import inspect
import sys
import warnings

import pytest

import xai_tf.metrics
from xai_tf import _deprecation as deprecation
from xai_tf._deprecation import renamed


def make():
    @renamed(since="0.9", stdev="noise", steps="n_steps")
    def smooth(images, *, noise=0.1, n_steps=10):
        """Toy: return what it was given."""
        return images, noise, n_steps

    return smooth


def test_the_old_name_is_passed_on_as_the_new_one_with_one_warning():
    smooth = make()
    with pytest.warns(FutureWarning, match=r"stdev= was renamed noise= in xai-tf 0\.9"):
        assert smooth("x", stdev=0.5) == ("x", 0.5, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second call with the same old name warns no more
        assert smooth("x", stdev=0.25) == ("x", 0.25, 10)
        assert smooth("x", noise=0.2, n_steps=3) == ("x", 0.2, 3)  # new names: no warning at all
    with pytest.warns(FutureWarning, match="steps= was renamed n_steps="):  # each old name warns once
        assert smooth("x", steps=4) == ("x", 0.1, 4)


def test_both_names_at_once_is_an_error_and_the_signature_shows_the_new_names():
    smooth = make()
    with pytest.raises(TypeError, match=r"both stdev= .* and noise="):
        smooth("x", stdev=0.5, noise=0.1)
    assert list(inspect.signature(smooth).parameters) == ["images", "noise", "n_steps"]
    assert smooth.__doc__ == "Toy: return what it was given." and smooth.renamed_options == {
        "stdev": "noise", "steps": "n_steps"}


@pytest.mark.parametrize("names", [{}, {"noise": "noise"}])
def test_bad_renames_are_refused(names):
    with pytest.raises(ValueError, match="renamed"):
        renamed(since="0.9", **names)


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Each test sees the first use of an old path (the process-wide record of warnings starts empty)."""
    monkeypatch.setattr(deprecation, "_WARNED", set())
    for name in ("xai_tf.metrics.fidelity", "xai_tf.metrics.localization"):
        monkeypatch.delitem(sys.modules, name, raising=False)


@pytest.mark.usefixtures("fresh_warnings")
def test_a_moved_module_imports_its_new_module_with_one_warning():
    from xai_tf.metrics.faithfulness import fidelity
    from xai_tf.metrics.localisation import pointing_game

    with pytest.warns(FutureWarning, match=r"metrics\.fidelity moved to xai_tf\.metrics\.faithfulness\.fidelity"):
        from xai_tf.metrics.fidelity import DELETION, causal_curves
    assert DELETION is fidelity.DELETION and causal_curves is fidelity.causal_curves
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # imported once: no second warning
        old = importlib.import_module("xai_tf.metrics.fidelity")
    assert old.INSERTION is fidelity.INSERTION
    with pytest.warns(FutureWarning, match="localization moved to xai_tf.metrics.localisation.pointing_game"):
        import xai_tf.metrics.localization as localization
    assert localization.pointing_game is pointing_game.pointing_game is xai_tf.metrics.pointing_game
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("xai_tf.metrics.nothing_moved_here")


@pytest.mark.usefixtures("fresh_warnings")
def test_a_package_that_replaced_a_module_still_gives_the_old_names_with_one_warning():
    from xai_tf.metrics.curve_metric import CurveMetric
    from xai_tf.metrics.faithfulness import correlation

    with pytest.warns(FutureWarning, match=r"faithfulness\.faithfulness_correlation moved to "
                                           r"xai_tf\.metrics\.faithfulness\.correlation\.faithfulness_correlation"):
        from xai_tf.metrics.faithfulness import faithfulness_correlation
    assert faithfulness_correlation is correlation.faithfulness_correlation
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from xai_tf.metrics.faithfulness import faithfulness_correlation as again
    assert again is faithfulness_correlation
    with pytest.warns(FutureWarning, match="protocol.CurveMetric moved to xai_tf.metrics.curve_metric"):
        from xai_tf.metrics.protocol import CurveMetric as old
    assert old is CurveMetric
    with pytest.raises(ImportError, match="cannot import name 'not_a_metric'"):
        from xai_tf.metrics.faithfulness import not_a_metric  # noqa: F401


def test_a_moved_name_that_is_also_a_submodule_gives_the_submodule():
    getattr_ = deprecation.moved_names("0.2", "xai_tf.metrics.faithfulness",
                                       {"infidelity": "xai_tf.metrics.faithfulness.infidelity"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module = getattr_("infidelity")
    assert module is importlib.import_module("xai_tf.metrics.faithfulness.infidelity")
