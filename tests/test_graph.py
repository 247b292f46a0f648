"""Graph utilities: flatten nested models, conv layer search, logits without mutating the model."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_images, tiny_cnn, tiny_nested, tiny_sequential_cnn

from xai_tf.models.graph import (
    check_layer,
    conv_layer_candidates,
    find_last_conv_layer,
    flatten,
    output_activation,
    run_model,
)


def _nested_twice():
    """Sequential([Sequential([functional backbone, Flatten]), Dense 8, Dense 3 softmax])."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="inner_conv")(inputs)
    backbone = keras.Model(inputs, x, name="backbone")
    middle = keras.Sequential([keras.Input((16, 16, 3)), backbone, keras.layers.Flatten(name="inner_flat")],
                              name="middle")
    return keras.Sequential([keras.Input((16, 16, 3)), middle, keras.layers.Dense(8, activation="relu", name="fc"),
                             keras.layers.Dense(3, activation="softmax", name="out")], name="outer")


@pytest.mark.parametrize("factory", [tiny_nested, tiny_cnn, tiny_sequential_cnn, _nested_twice])
def test_flatten_is_equivalent_and_shares_layers(factory):
    model = factory()
    flat = flatten(model)
    size = model.inputs[0].shape[1]
    images = random_images(3, size=size)
    np.testing.assert_allclose(flat(images).numpy(), model(images).numpy(), atol=1e-6)
    assert not any(isinstance(layer, keras.Model) for layer in flat.layers)
    # the same layer objects (so the same weights), reachable by name
    names = [layer.name for layer in flat.layers if not isinstance(layer, keras.layers.InputLayer)]
    for name in names:
        original = _find(model, name)
        assert flat.get_layer(name) is original
    assert len(flat.weights) == len(model.weights)
    assert {id(w) for w in flat.weights} == {id(w) for w in model.weights}


def _find(model, name):
    for layer in model.layers:
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            try:
                return _find(layer, name)
            except KeyError:
                pass
    raise KeyError(name)


def test_flatten_weights_stay_shared_after_training_step():
    model = tiny_nested()
    flat = flatten(model)
    kernel = flat.get_layer("block1_conv1").kernel
    kernel.assign(kernel * 0.5)
    images = random_images(2)
    np.testing.assert_allclose(flat(images).numpy(), model(images).numpy(), atol=1e-6)


def test_conv_layer_search_reaches_nested_backbone():
    model = tiny_nested()
    assert conv_layer_candidates(model) == ["block1_conv1", "block1_pool", "block2_conv1"]
    assert find_last_conv_layer(model) == "block2_conv1"
    assert find_last_conv_layer(_nested_twice()) == "inner_conv"


def test_default_cam_layer_is_the_last_convolution_not_the_last_4d_layer():
    """tf-keras-vis' rule: the custom CNN v2 ends its blocks in BatchNorm, pooling and dropout (4-D too)."""
    from tf_keras_vis.utils.model_modifiers import ExtractIntermediateLayerForGradcam

    from xai_tf.models import build_custom_cnn

    model = build_custom_cnn((32, 32, 1), 2, variant="v2")
    assert conv_layer_candidates(model)[-1] == "block3_dropout"  # the old default
    assert find_last_conv_layer(model) == "block3_conv"
    # the same layer tf-keras-vis' Grad-CAM picks by itself (penultimate_layer=None)
    extracted = ExtractIntermediateLayerForGradcam()(model)
    assert extracted.outputs[1] is model.get_layer("block3_conv").output
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.SeparableConv2D(4, 3, name="separable")(inputs)
    x = keras.layers.DepthwiseConv2D(3, name="depthwise")(x)
    x = keras.layers.ReLU(name="relu")(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    assert find_last_conv_layer(keras.Model(inputs, outputs)) == "depthwise"


def test_no_conv_layer_and_bad_layer_errors():
    inputs = keras.Input((8, 8, 1))
    dense_only = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="no layer with a 4-D output"):
        find_last_conv_layer(dense_only)
    pooled = keras.layers.AveragePooling2D(2, name="pool")(inputs)  # 4-D layers but no convolution
    pooling_only = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(pooled)))
    with pytest.raises(ValueError, match=r"no convolution layer \(Conv2D.*pass layer= one of its 4-D layers: pool"):
        find_last_conv_layer(pooling_only)
    model = tiny_nested()
    with pytest.raises(ValueError, match="does not exist.*block2_conv1"):
        check_layer(model, "nope")
    with pytest.raises(ValueError, match="has no 4-D output.*block1_conv1"):
        check_layer(model, "fc1")
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        flatten("not a model")


@pytest.mark.parametrize("head", ["softmax", "sigmoid"])
def test_run_model_logits_without_mutating(head):
    model = tiny_nested(head=head) if head == "sigmoid" else tiny_cnn(head=head)
    images = tf.constant(random_images(4))
    before = model(images).numpy()
    logits, taps = run_model(model, images, layers=[find_last_conv_layer(model)])
    squash = tf.sigmoid if head == "sigmoid" else tf.nn.softmax
    np.testing.assert_allclose(squash(logits).numpy(), before, atol=1e-6)
    assert taps[find_last_conv_layer(model)].shape[-1] == 8
    # the user's model still ends in its activation and gives the same outputs
    assert output_activation(model) == head
    np.testing.assert_array_equal(model(images).numpy(), before)
    probabilities, _ = run_model(model, images, logits=False)
    np.testing.assert_allclose(probabilities.numpy(), before, atol=1e-6)
