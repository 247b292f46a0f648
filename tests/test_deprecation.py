"""A renamed option keeps working for one release with one FutureWarning (``xai_tf._deprecation.renamed``)."""
from __future__ import annotations

import inspect
import warnings

import pytest

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
