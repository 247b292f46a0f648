"""Vision Transformers: the builder, attention capture, attention rollout, Chefer's relevance, CAMs on tokens.

The oracles are independent of the code under test: the attention probabilities and their
gradients come from a forward pass written here with explicit einsums from the layers' weights
(not through ``MultiHeadAttention``), and rollout / Chefer's relevance / Grad-CAM on tokens are
computed by hand from them with plain loops.
"""
from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import xai_tf
from xai_tf.explainers.attention import attention_maps
from xai_tf.models import build_vit, graph, tokens

SIZE = 32


def small_vit(depth=2, seed=0, channels=1, **kwargs):
    keras.utils.set_random_seed(seed)
    options = dict(dim=16, depth=depth, heads=2, mlp_dim=32, patch_size=8) | kwargs
    return build_vit((SIZE, SIZE, channels), 3, **options)


def real_images(n=3, channels=1):
    """Crops of scikit-image's sample photographs, 32 px, each with its own range (not uniform on [0, 1])."""
    from skimage import data, transform

    photos = [data.camera(), data.coins(), data.moon(), data.page()]
    images = []
    for index in range(n):
        photo = photos[index % len(photos)].astype(np.float32) / 255.0
        crop = transform.resize(photo[:256, :256], (SIZE, SIZE), anti_aliasing=True)
        low, high = 0.1 * index, 1.0 - 0.05 * index
        crop = low + (high - low) * (crop - crop.min()) / (crop.max() - crop.min())
        images.append(np.repeat(crop[..., None], channels, axis=-1))
    return np.stack(images).astype(np.float32)


def explicit_attention(layer, tokens_in):
    """Softmax(q k^T / sqrt(d)) of a MultiHeadAttention layer from its weights: (B, heads, T, T)."""
    query = tf.einsum("btd,dhk->bthk", tokens_in, layer._query_dense.kernel) + layer._query_dense.bias
    key = tf.einsum("btd,dhk->bthk", tokens_in, layer._key_dense.kernel) + layer._key_dense.bias
    logits = tf.einsum("bqhk,bshk->bhqs", query, key) / np.sqrt(query.shape[-1])
    return tf.nn.softmax(logits, axis=-1)


def attend(layer, tokens_in, probabilities):
    value = tf.einsum("btd,dhk->bthk", tokens_in, layer._value_dense.kernel) + layer._value_dense.bias
    mixed = tf.einsum("bhqs,bshk->bqhk", probabilities, value)
    return tf.einsum("bqhk,hkd->bqd", mixed, layer._output_dense.kernel) + layer._output_dense.bias


def reference_forward(model, images, target, depth, head="predictions"):
    """Logit of ``target``, the attention of each block (watched) and its gradient: an independent forward."""
    get = model.get_layer
    with tf.GradientTape(persistent=True) as tape:
        x = tf.constant(images)
        if "to_rgb" in [layer.name for layer in model.layers]:
            x = tf.repeat(x, 3, axis=-1)
        x = 2.0 * x - 1.0
        x = get("position_embedding")(get("class_token")(get("patch_tokens")(get("patch_embedding")(x))))
        attention = []
        for block in range(1, depth + 1):
            h = get(f"block{block}_norm1")(x)
            probabilities = explicit_attention(get(f"block{block}_attention"), h)
            tape.watch(probabilities)
            attention.append(probabilities)
            x = x + attend(get(f"block{block}_attention"), h, probabilities)
            x = x + get(f"block{block}_mlp2")(get(f"block{block}_mlp1")(get(f"block{block}_norm2")(x)))
        head = get(head)
        logits = get("class_token_output")(get("encoder_norm")(x)) @ head.kernel + head.bias
        score = tf.reduce_sum(logits[:, target])
    gradients = tape.gradient(score, attention)
    return logits.numpy(), [a.numpy().astype(np.float64) for a in attention], \
        [g.numpy().astype(np.float64) for g in gradients]


def upsample(grid, size=SIZE):
    return tf.image.resize(np.asarray(grid, np.float32)[..., None], (size, size), method="bilinear").numpy()[..., 0]


def test_reference_forward_matches_the_model():
    model = small_vit()
    images = real_images()
    logits, _, _ = reference_forward(model, images, 0, depth=2)
    np.testing.assert_allclose(tf.nn.softmax(logits).numpy(), model.predict(images, verbose=0), atol=1e-5)


def test_captured_attention_and_gradients_equal_the_explicit_forward():
    model = small_vit()
    images = real_images()
    _, expected, expected_grads = reference_forward(model, images, 1, depth=2)
    maps, grads = attention_maps(model, images, targets=1, gradients=True)
    assert list(maps) == ["block1_attention", "block2_attention"]
    for name, want, want_grad in zip(maps, expected, expected_grads):
        assert maps[name].shape == (3, 2, 17, 17)
        np.testing.assert_allclose(maps[name], want, atol=1e-6)
        np.testing.assert_allclose(grads[name], want_grad, atol=1e-6, rtol=1e-4)
        np.testing.assert_allclose(maps[name].sum(axis=-1), 1.0, atol=1e-5)
    # the user's model is unchanged: no shadowed method left on the layers, the same predictions
    assert all("_compute_attention" not in layer.__dict__ for layer in xai_tf.models.attention_layers(model))


def hand_rollout(attention, fusion="mean"):
    tokens_count = attention[0].shape[-1]
    maps = []
    for image in range(attention[0].shape[0]):
        relevance = np.eye(tokens_count)
        for layer in attention:
            fused = {"mean": layer[image].mean(0), "max": layer[image].max(0), "min": layer[image].min(0)}[fusion]
            mixed = fused + np.eye(tokens_count)
            for row in range(tokens_count):
                mixed[row] /= mixed[row].sum()
            relevance = mixed @ relevance
        maps.append(relevance[0, 1:].reshape(4, 4))
    return upsample(np.stack(maps))


@pytest.mark.parametrize("fusion", ["mean", "max"])
def test_attention_rollout_equals_a_hand_computation(fusion):
    model = small_vit()
    images = real_images()
    _, attention, _ = reference_forward(model, images, 0, depth=2)
    maps = xai_tf.explain(model, images, "attention_rollout", head_fusion=fusion, verbose=0)
    np.testing.assert_allclose(maps, hand_rollout(attention, fusion), atol=1e-6)
    # class-agnostic: another target, the same map
    np.testing.assert_array_equal(maps, xai_tf.explain(model, images, "attention_rollout", targets=2,
                                                       head_fusion=fusion, verbose=0))


def test_attention_rollout_upsample_default_is_the_old_bilinear_map_and_another_method_differs():
    from xai_tf.explainers import attention
    from xai_tf.explainers.base import Request, adapter_for, upsample

    model = small_vit()
    images = real_images()
    request = Request(adapter=adapter_for(model), images=images, targets=np.zeros(len(images), np.int64),
                      batch_size=64, verbose=0, seed=0, method="attention_rollout")
    captured, _ = attention.captured_attention(request, slice(0, len(images)))
    grid = attention.rollout(captured)[:, 0, 1:].reshape(len(images), 4, 4).astype(np.float32)  # class token
    default = xai_tf.explain(model, images, "attention_rollout", verbose=0)
    np.testing.assert_array_equal(default, upsample(grid, (SIZE, SIZE)).numpy())  # the readout before upsample=
    nearest = xai_tf.explain(model, images, "attention_rollout", upsample="nearest", verbose=0)
    assert nearest.shape == default.shape == (len(images), SIZE, SIZE) and not np.allclose(nearest, default)
    np.testing.assert_array_equal(nearest, upsample(grid, (SIZE, SIZE), "nearest").numpy())
    with pytest.raises(ValueError, match="upsample='cubic' is not valid"):
        xai_tf.explain(model, images, "attention_rollout", upsample="cubic", verbose=0)


def vit_regressor(depth):
    """The small ViT with a linear one-unit head on its class token: a regressor."""
    model = small_vit(depth=depth, seed=depth)
    value = keras.layers.Dense(1, name="value")(model.get_layer("class_token_output").output)
    return keras.Model(model.inputs, value, name="vit_regressor")


@pytest.mark.parametrize("depth,task", [(1, "classes"), (2, "classes"), (2, "regression")])
def test_transformer_attribution_equals_a_hand_computation(depth, task):
    model = small_vit(depth=depth, seed=depth) if task == "classes" else vit_regressor(depth)
    images = real_images()
    targets = np.array([0, 2, 1]) if task == "classes" else np.zeros(3, int)
    head = "predictions" if task == "classes" else "value"
    expected = []
    for image, target in enumerate(targets):
        _, attention, gradients = reference_forward(model, images[image:image + 1], int(target), depth=depth,
                                                    head=head)
        relevance = np.eye(17)
        for layer, grad in zip(attention, gradients):
            weighted = np.zeros((17, 17))
            for h in range(2):
                weighted += np.maximum(grad[0, h] * layer[0, h], 0.0) / 2
            relevance = relevance + weighted @ relevance
        expected.append(relevance[0, 1:].reshape(4, 4))
    chosen = targets if task == "classes" else xai_tf.Regression()
    maps = xai_tf.explain(model, images, "transformer_attribution", targets=chosen, batch_size=2, verbose=0)
    scale = np.abs(maps).max()
    assert scale > 0
    np.testing.assert_allclose(maps, upsample(np.stack(expected)), atol=1e-5 * scale)


def test_uniform_attention_gives_a_uniform_rollout():
    model = small_vit()
    for block in (1, 2):  # zero queries and keys: every score equal, so the softmax is uniform
        layer = model.get_layer(f"block{block}_attention")
        for dense in (layer._query_dense, layer._key_dense):
            dense.kernel.assign(np.zeros(dense.kernel.shape, np.float32))
            dense.bias.assign(np.zeros(dense.bias.shape, np.float32))
    maps = xai_tf.explain(model, real_images(), "attention_rollout", verbose=0)
    # (0.5 U + 0.5 I)^2 = 0.25 I + 0.75 U: the class token's row is 0.75 / 17 on every patch
    np.testing.assert_allclose(maps, 0.75 / 17, atol=1e-6)


def test_gradcam_on_tokens_equals_a_hand_computation_at_the_default_layer():
    model = small_vit()
    images = real_images()
    assert graph.default_cam_layer(model) == "block2_norm1"
    probe = keras.Model(model.inputs, [model.get_layer("block2_norm1").output,
                                       model.get_layer("class_token_output").output])
    head = model.get_layer("predictions")
    with tf.GradientTape() as tape:
        acts, pooled = probe(tf.constant(images))
        score = tf.reduce_sum((pooled @ head.kernel + head.bias)[:, 1])
    grads = tape.gradient(score, acts).numpy()
    acts = acts.numpy()
    expected = []
    for image in range(len(images)):
        patch_acts, patch_grads = acts[image, 1:].reshape(4, 4, 16), grads[image, 1:].reshape(4, 4, 16)
        weights = patch_grads.mean(axis=(0, 1))
        expected.append(np.maximum((patch_acts * weights).sum(axis=-1), 0.0))
    maps = xai_tf.explain(model, images, "gradcam", targets=1, verbose=0)
    np.testing.assert_allclose(maps, upsample(np.stack(expected)), atol=1e-5 * max(np.abs(maps).max(), 1e-12))
    # after the last attention only the class token reaches the head: the patch tokens' gradients are zero
    after = xai_tf.explain(model, images, "gradcam", targets=1, layer="encoder_norm", verbose=0)
    assert np.abs(maps).max() > 0 and np.abs(after).max() == 0


def user_written_vit(seed=3):
    """A ViT written the way a user might: no class token (global average pooling), own layer names."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(12, 4, strides=4, name="stem")(inputs)
    x = keras.layers.Reshape((64, 12), name="to_tokens")(x)
    for block in range(2):
        h = keras.layers.LayerNormalization(name=f"ln{block}")(x)
        h = keras.layers.MultiHeadAttention(3, 4, name=f"mha{block}")(h, h)
        x = keras.layers.Add(name=f"residual{block}")([x, h])
    x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(x)
    return keras.Model(inputs, outputs, name="users_vit")


@pytest.mark.parametrize("builder", ["build_vit", "user"])
def test_every_kind_of_method_runs_on_transformers(builder):
    model = small_vit(channels=3) if builder == "build_vit" else user_written_vit()
    images = real_images(2, channels=3)
    for method, params in [("attention_rollout", {}), ("transformer_attribution", {}), ("gradcam", {}),
                           ("integrated_gradients", {"steps": 1024}), ("occlusion", {"window": 8, "stride": 8}),
                           ("rise", {"n_masks": 64})]:
        maps = xai_tf.explain(model, images, method, targets=0, verbose=0, **params)
        assert maps.shape == (2, SIZE, SIZE) and np.all(np.isfinite(maps)), method
        assert np.ptp(maps) > 0, method  # not a constant map
        if method == "integrated_gradients":  # completeness on the transformer: sum = f(x) - f(black)
            binding = xai_tf.models.binding.classic(model)
            logits = binding.forward_function()
            scores = logits(tf.constant(images), tf.constant([0, 0]))[:, 0].numpy()
            baseline_score = logits(tf.constant(np.zeros_like(images)), tf.constant([0, 0]))[:, 0].numpy()
            # measured: 0.17 off at 64 steps, 0.01 at 1,024 (attention's softmax bends the path)
            np.testing.assert_allclose(maps.sum(axis=(1, 2)), scores - baseline_score, atol=0.03)
    if builder == "user":  # no class token: 64 patch tokens and no extra token, so all rows are averaged
        assert tokens.token_grid(64, (SIZE, SIZE)) == (0, 8, 8)


def test_the_other_perturbation_methods_run_unchanged_on_a_vit():
    model = small_vit(channels=3)
    images = real_images(2, channels=3)
    for method, params in [("sobol", {"grid_size": 4, "n_designs": 8}), ("hsic", {"grid_size": 4, "n_designs": 32}),
                           ("kernel_shap", {"grid_size": 2, "n_samples": 16}),
                           ("lime", {"num_samples": 40, "segmentation": "slic"})]:
        maps = xai_tf.explain(model, images, method, targets=1, verbose=0, **params)
        assert maps.shape == (2, SIZE, SIZE) and np.all(np.isfinite(maps)) and np.ptp(maps) > 0, method
        again = xai_tf.explain(model, images, method, targets=1, verbose=0, **params)
        np.testing.assert_array_equal(maps, again)  # seeded (or quasi-random): the same maps again


def test_token_grid_and_named_errors():
    assert tokens.token_grid(65, (64, 64)) == (1, 8, 8)
    assert tokens.token_grid(33, (32, 64)) == (1, 4, 8)
    assert tokens.token_grid(197, (224, 224)) == (1, 14, 14)
    with pytest.raises(ValueError, match="not 3 extra token"):
        tokens.token_grid(17, (32, 32), extra_tokens=3)
    with pytest.raises(ValueError, match="several ways"):
        tokens.token_grid(6, (32, 32))
    cnn = keras.Sequential([keras.Input((SIZE, SIZE, 1)), keras.layers.Conv2D(2, 3, name="conv"),
                            keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    for method in ("attention_rollout", "transformer_attribution"):
        with pytest.raises(ValueError, match="no keras.layers.MultiHeadAttention"):
            xai_tf.explain(cnn, real_images(1), method, verbose=0)
    model = small_vit()
    with pytest.raises(ValueError, match="class_token_output.*no 4-D or token-sequence output"):
        xai_tf.explain(model, real_images(1), "gradcam", layer="class_token_output", verbose=0)
    with pytest.raises(ValueError, match="not 2 extra token"):
        xai_tf.explain(model, real_images(1), "attention_rollout", extra_tokens=2, verbose=0)
    with pytest.raises(ValueError, match="head_fusion"):
        xai_tf.explain(model, real_images(1), "attention_rollout", head_fusion="median", verbose=0)


def test_build_vit_shapes_save_and_reload(tmp_path):
    model = small_vit()
    assert model.output_shape == (None, 3)
    assert [layer.name for layer in xai_tf.models.attention_layers(model)] == ["block1_attention", "block2_attention"]
    assert model.get_layer("position_embedding").output.shape == (None, 17, 16)
    images = real_images()
    path = tmp_path / "vit.keras"
    model.save(path)
    loaded = xai_tf.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)
    tiny = build_vit((64, 64, 3), 2)  # DeiT-Ti: 192 wide, 12 blocks, 3 heads; patch 4 at 64 px
    assert tiny.get_layer("patch_tokens").output.shape == (None, 256, 192)
    assert build_vit((224, 224, 1), 2, depth=1).get_layer("patch_tokens").output.shape == (None, 196, 192)
    assert len(xai_tf.models.attention_layers(tiny)) == 12
    with pytest.raises(ValueError, match="multiple of heads"):
        build_vit((SIZE, SIZE, 1), 2, dim=10, heads=3)
    with pytest.raises(ValueError, match="multiples of patch_size"):
        build_vit((30, 30, 1), 2, patch_size=8)


def test_keras_hub_vit_backbone():
    keras_hub = pytest.importorskip("keras_hub", reason="keras_hub is not installed (optional extra)")
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.ViTBackbone(image_shape=(SIZE, SIZE, 3), patch_size=8, num_layers=2, num_heads=2,
                                            hidden_dim=16, mlp_dim=32)
    model = xai_tf.models.vit_from_backbone(backbone, 2)
    images = real_images(2, channels=3)
    assert len(xai_tf.models.attention_layers(model)) == 2
    for method in ("attention_rollout", "transformer_attribution", "gradcam", "integrated_gradients",
                   "occlusion", "rise"):
        params = {"rise": {"n_masks": 64}, "occlusion": {"window": 8, "stride": 8}}.get(method, {})
        maps = xai_tf.explain(model, images, method, verbose=0, **params)
        assert maps.shape == (2, SIZE, SIZE) and np.all(np.isfinite(maps)) and np.ptp(maps) > 0, method


def test_train_vit_tiny_and_evaluate_it_from_the_command_line(tmp_path, monkeypatch):
    import json

    from xai_tf import cli

    # the command line's path with a 2-block "tiny" (DeiT-Ti's 12 blocks of width 192 are built above)
    monkeypatch.setitem(xai_tf.models.vit.VIT_VARIANTS, "tiny", (16, 2, 2, 32))
    out = tmp_path / "run"
    status = cli.main(["train", "--data", "synthetic", "--n", "20", "--image-size", "32", "--model", "vit-tiny",
                       "--epochs", "1", "--no-augment", "--out", str(out), "--verbose", "0"])
    assert status == 0
    model = xai_tf.models.load_model(out / "model.keras")
    assert json.loads((out / "config.json").read_text())["arguments"]["model"] == "vit-tiny"
    assert len(xai_tf.models.attention_layers(model)) == 2
    assert model.get_layer("patch_tokens").output.shape == (None, 256, 16)  # 32 px: patch 2, a 16 x 16 grid
    evaluation = tmp_path / "evaluation"
    status = cli.main(["evaluate", "--model", str(out / "model.keras"), "--data", "synthetic", "--n", "20",
                       "--image-size", "32", "--methods", "attention_rollout,transformer_attribution",
                       "--metrics", "pointing_game,randomization", "--out", str(evaluation), "--verbose", "0"])
    assert status == 0
    rows = [json.loads(line) for line in (evaluation / "results.jsonl").read_text().splitlines()]
    assert sorted((row["method"], row["image"]) for row in rows) == [
        (method, image) for method in ("attention_rollout", "transformer_attribution") for image in range(4)]
    assert all(row["pointing_game"] in (0, 1) for row in rows)
    # the randomisation check ran on the attention maps: randomised weights give other maps (a map that
    # ignored the model would have similarity 1)
    assert all(-1.0 <= row["randomization_full"] < 0.9 for row in rows)


class _Block(keras.layers.Layer):
    """A user's encoder block holding its own MultiHeadAttention, always named "attention"."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(2, 4, name="attention")
        self.norm = keras.layers.LayerNormalization()

    def call(self, tokens_in):
        h = self.norm(tokens_in)
        return tokens_in + self.attention(h, h)


def test_attention_maps_name_repeated_layer_names_apart():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Dense(8)(keras.layers.Reshape((16, 32 * 32 * 3 // 16))(inputs))  # 16 tokens
    for block in range(3):
        x = _Block(name=f"block{block}")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(x)))
    maps = attention_maps(model, real_images(2, channels=3))
    assert list(maps) == ["attention", "attention#2", "attention#3"]
    assert all(value.shape == (2, 2, 16, 16) for value in maps.values())
