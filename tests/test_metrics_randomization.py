"""Model-randomisation sanity check: dissimilar maps after re-initialisation, user's model untouched."""
import keras
import numpy as np
import pytest
from conftest import random_images, tiny_cnn

from xai_tf import data as xai_data
from xai_tf import explain
from xai_tf.metrics import randomization_check
from xai_tf.metrics.randomisation.model_randomization import head_layers, map_similarities, randomized_copy


@pytest.fixture(scope="module")
def trained():
    data = xai_data.load("synthetic", n=96, image_size=32, seed=0)
    model = tiny_cnn(input_shape=(32, 32, 1), num_classes=2, seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(data.images, data.labels, epochs=15, batch_size=16, verbose=0)
    return model, data.images[:16]


def test_full_randomisation_of_trained_model_is_at_chance_and_model_untouched(trained):
    model, images = trained
    before = [np.array(w, copy=True) for w in model.get_weights()]
    result = randomization_check(model, images, "gradcam", mode="full", seed=3)
    after = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after))  # bit-identical
    # Chance level = how alike Grad-CAM maps of two independently He-initialised copies are (both
    # respond to bright blobs, so it is not 0). A method that explains the model must fall to about
    # that level once the learned weights are gone: the median over 16 images must be below the
    # chance level + 0.25 (the spread of a 16-image median of Spearman values, measured ~0.1) and
    # well below 1 (identical maps), which an input-only method would score.
    first, second = randomized_copy(model, "full", seed=4), randomized_copy(model, "full", seed=5)
    targets = result.targets
    chance = map_similarities(explain(first, images, "gradcam", targets, verbose=0),
                              explain(second, images, "gradcam", targets, verbose=0))
    assert np.nanmedian(result.similarities) < min(np.nanmedian(chance) + 0.25, 0.5)

    # The untrained twin (the same architecture, He-initialised) scores near the same chance level.
    twin = randomized_copy(model, "full", seed=11)
    twin_result = randomization_check(twin, images, "gradcam", mode="full", seed=3, targets=targets)
    assert abs(np.nanmedian(twin_result.similarities) - np.nanmedian(chance)) < 0.25


def test_model_independent_method_fails_the_check():
    # The 'random' baseline does not look at the model: its maps are identical after randomisation.
    model = tiny_cnn()
    result = randomization_check(model, random_images(3), "random", mode="full")
    np.testing.assert_allclose(result.similarities, 1.0)


def test_semi_reinitialises_only_the_head_and_cascade_goes_top_down():
    model = tiny_cnn()
    assert [layer.name for layer in head_layers(model)] == ["predictions"]
    copy = randomized_copy(model, "semi", seed=0)
    for original, layer in zip(model.layers, copy.layers):
        same = all(np.array_equal(a, b) for a, b in zip(original.get_weights(), layer.get_weights()))
        assert same == (layer.name != "predictions")
    # He-normal kernel, zero bias
    kernel, bias = copy.get_layer("predictions").get_weights()
    assert np.all(bias == 0) and abs(kernel.std() - np.sqrt(2 / kernel.shape[0])) < 0.1 * np.sqrt(2 / kernel.shape[0])
    before = [np.array(w, copy=True) for w in model.get_weights()]
    cascade = randomization_check(model, random_images(2), "gradcam", mode="cascade")
    assert cascade.layers == ["predictions", "last_conv", "conv1"]
    assert cascade.similarities.shape == (3, 2)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_batchnorm_becomes_identity():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.get_layer("bn").set_weights([np.full(2, 3.0), np.full(2, 2.0), np.full(2, 1.0), np.full(2, 5.0)])
    gamma, beta, mean, variance = randomized_copy(model, "full").get_layer("bn").get_weights()
    assert np.all(gamma == 1) and np.all(beta == 0) and np.all(mean == 0) and np.all(variance == 1)
    assert model.get_layer("bn").get_weights()[0][0] == 3.0


def test_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        randomization_check(tiny_cnn(), random_images(1), "gradcam", mode="half")
