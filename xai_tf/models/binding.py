"""A model bound to what is explained: the one object every method and metric scores through.

:class:`ModelBinding` holds a model, the explained input, the inputs held fixed, the target
(``xai_tf.targets``) and the model's compiled functions (forward pass, target score, probability,
gradients w.r.t. the input, a path of inputs or inner layers). No method or metric module knows
which task it explains: each passes images and *keys* (``(B,) int32``, one per image or perturbed
copy) and reads target scores.

- The classifier path (a single-input, single-output classifier with class ids as targets, what
  xai-tf explained before targets existed) is *classic*: the keys are the class ids, there is no
  table, and every compiled function is the same one, traced the same way, as before
  (``xai_tf.models.head``'s rules; results are byte-identical).
- Every other case (a :class:`~xai_tf.targets.Target` object, several inputs or outputs): the keys
  are the images' rows, and a *table* of per-image tensors (the inputs held fixed, the target's
  parameters: class ids, regions, boxes) is an argument of every compiled function, gathered by
  the keys inside it. A perturbed copy of image ``i`` carries key ``i``, so it is scored against
  image ``i``'s target and its other inputs. The compiled functions are cached per model and
  *signature* (target kind and options, table layout), so a second call with other images traces
  nothing.

Custom compiled functions of a method (occlusion, RISE, ...) take ``*table`` as their last
arguments with ``input_signature=[..., *binding.table_spec]`` and call
``binding.logits(images, keys, table)`` / ``binding.scores(outputs, keys, table)``;
:meth:`ModelBinding.cached` returns them with the table already applied.
"""
from __future__ import annotations

import contextlib
import weakref

import keras
import numpy as np
import tensorflow as tf

from xai_tf import targets as targets_module
from xai_tf.models import graph, tokens
from xai_tf.models.head import head_of


def _guided_relu_gradient(op, grad):
    # Guided backpropagation (Springenberg et al. 2015): pass only positive gradients where the
    # forward activation was positive.
    return tf.where(op.outputs[0] > 0, tf.nn.relu(grad), tf.zeros_like(grad))


def _deconvnet_relu_gradient(op, grad):
    # Deconvnet (Zeiler & Fergus 2014): the backward ReLU is applied to the gradient itself,
    # ignoring the forward activation.
    return tf.nn.relu(grad)


def _guided_relu6_gradient(op, grad):
    inside = tf.logical_and(op.inputs[0] > 0, op.inputs[0] < 6)
    return tf.where(inside, tf.nn.relu(grad), tf.zeros_like(grad))


GRADIENT_OVERRIDES = {
    "guided": {"Relu": "XaiTfGuidedRelu", "Relu6": "XaiTfGuidedRelu6"},
    "deconvnet": {"Relu": "XaiTfDeconvnetRelu", "Relu6": "XaiTfDeconvnetRelu6"},
}
tf.RegisterGradient("XaiTfGuidedRelu")(_guided_relu_gradient)
tf.RegisterGradient("XaiTfGuidedRelu6")(_guided_relu6_gradient)
tf.RegisterGradient("XaiTfDeconvnetRelu")(_deconvnet_relu_gradient)
tf.RegisterGradient("XaiTfDeconvnetRelu6")(_deconvnet_relu_gradient)

#: Per-model caches of the compiled functions of non-classic bindings (the classic ones live in
#: the model head's cache, where they always lived).
_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class ModelBinding:
    """A model with what is explained and its compiled functions.

    Built by :func:`bind` (or :func:`classic` for a classifier's class ids). Attributes:
    ``model``; ``image_shape`` ``(H, W, C)`` of the explained input; ``image_spec``;
    ``target_spec`` (``(None,) int32`` keys); ``table`` / ``table_spec`` (tuples, empty when
    classic); ``target`` (a :class:`~xai_tf.targets.Target`, None when classic); ``classic``.
    """

    def __init__(self, model, *, target=None, input_index: int = 0, output_index: int | None = 0,
                 table: tuple = (), param_names: tuple = (), n_other: int = 0):
        self.model = model
        self.target = target
        self.classic = target is None
        self.head = head_of(model) if self.classic else None
        self.input_index, self.output_index = input_index, output_index
        self.n_inputs, self.n_outputs = len(model.inputs), len(model.outputs)
        self.image_shape = tuple(model.inputs[input_index].shape)[1:]
        self.image_spec = tf.TensorSpec([None, *self.image_shape], tf.float32)
        self.target_spec = tf.TensorSpec([None], tf.int32)
        self.table = tuple(tf.constant(value) for value in table)
        self.table_spec = tuple(tf.TensorSpec([None, *t.shape[1:]], t.dtype) for t in self.table)
        self.param_names, self.n_other = tuple(param_names), n_other
        if self.classic:
            self.signature = None
        else:
            base = getattr(target, "base", target)
            fn = id(base.fn) if isinstance(base, targets_module.Custom) else None
            layout = tuple((tuple(s.shape[1:]), s.dtype.name) for s in self.table_spec)
            self.signature = (type(target).__name__, target.spec(), fn, input_index, output_index,
                              self.param_names, layout)

    # -- classifier facts (the classic path) -----------------------------------------------------
    @property
    def binary(self) -> bool:
        return self.head.binary

    @property
    def num_classes(self) -> int:
        return self.head.num_classes

    @property
    def bounded(self) -> bool:
        """The target has a probability in [0, 1] (classes always do)."""
        return self.classic or self.target.bounded

    @property
    def kind(self) -> str:
        return "classes" if self.classic else self.target.kind

    def freeze(self, keys):
        """What to pass as ``targets=`` to explain or score images that stand for the rows ``keys``
        ``(M,)`` of this binding (copies of them): class ids on the classic path, else a
        :class:`~xai_tf.targets.Resolved` target holding those rows' parameters."""
        keys = np.asarray(keys)
        if self.classic:
            return keys
        if self.n_other:
            raise ValueError("re-explaining copies of the images of a model with several inputs is not supported "
                             "(Max-Sensitivity, randomisation checks): explain its inputs one model call at a time")
        params = {name: value.numpy()[keys] for name, value in zip(self.param_names, self.table[self.n_other:])}
        return targets_module.Resolved(getattr(self.target, "base", self.target), params)

    # -- symbolic (inside tf.function / GradientTape) ----------------------------------------------
    def _run(self, images, keys, table, layers):
        if self.classic:
            return self.head.logits(images, layers=layers)
        inputs = images
        if self.n_inputs > 1:
            others = iter(table[:self.n_other])
            inputs = [images if index == self.input_index else tf.gather(next(others), keys)
                      for index in range(self.n_inputs)]
        outputs, taps = graph.run_model(self.model, inputs, layers=layers, logits=self.target.logits,
                                        output_index=self.output_index or 0)
        if self.n_outputs > 1:
            flat = keras.tree.flatten(outputs)
            outputs = list(flat) if self.output_index is None else flat[self.output_index]
        return outputs, taps

    def logits(self, images, keys=None, table=(), *, layers=(), mode: str = "plain"):
        """The explained output(s) (pre-activation where the target reads logits) and the named
        inner activations, on real tensors; ``mode`` plain | guided | deconvnet (ReLU gradients)."""
        if mode == "plain":
            return self._run(images, keys, table, layers)
        with tf.compat.v1.get_default_graph().gradient_override_map(GRADIENT_OVERRIDES[mode]):
            return self._run(images, keys, table, layers)

    def _params(self, keys, table):
        return {name: tf.gather(value, keys) for name, value in zip(self.param_names, table[self.n_other:])}

    def scores(self, outputs, keys, table=()):
        """Target score ``(B,)`` of each row (the class logit on the classic path)."""
        if self.classic:
            return self.head.scores(outputs, keys)
        # Targets are plain TensorFlow code: autograph's conversion is not needed, and its cache of
        # converted methods confused the bound methods of short-lived target objects.
        return tf.autograph.experimental.do_not_convert(self.target.score)(outputs, self._params(keys, table))

    def probabilities(self, outputs, keys, table=()):
        """Target score in [0, 1] ``(B,)`` (the class probability; a target without one: its score)."""
        if self.classic:
            return self.head.target_probabilities(outputs, keys)
        return tf.autograph.experimental.do_not_convert(self.target.probability)(outputs, self._params(keys, table))

    def correct(self, outputs, keys, table=()):
        """1.0 where the predicted class is the target class, else 0.0 ``(B,)`` (classes only)."""
        ids = keys if self.classic else self._params(keys, table)["ids"]
        return tf.cast(tf.equal(targets_module.predicted_classes(outputs), ids), tf.float32)

    # -- compiled functions --------------------------------------------------------------------------
    def cached(self, key, build):
        """The compiled function under ``key`` for this binding's signature, built on first use.

        ``build()`` returns a ``tf.function`` whose last arguments are ``*table``; the returned
        callable takes the other arguments only (the table is applied here).
        """
        if self.classic:
            return self.head.cached(key, build)
        functions = _CACHES.setdefault(self.model, {})
        full_key = (key, self.signature)
        if full_key not in functions:
            functions[full_key] = build()
        function, table = functions[full_key], self.table
        return lambda *args: function(*args, *table)

    def _output_function(self, key, read):
        """``(images, keys) -> read(explained output(s), keys, table)``, compiled under ``key``."""
        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec, *self.table_spec])
            def function(images, targets, *table):
                return read(self.logits(images, targets, table)[0], targets, table)
            return function
        return self.cached(key, build)

    def forward_function(self):
        """``(images, keys) -> explained output(s)`` as the target reads them (pre-activation where
        the target reads logits: the classic path's logits)."""
        return self._output_function("binding.forward", lambda outputs, targets, table: outputs)

    def probability_function(self):
        """``(images, keys) -> (B,)`` target probability (or score, for a target without one)."""
        return self._output_function("probability", self.probabilities)

    def score_function(self):
        """``(images, keys) -> (B,)`` target score."""
        return self._output_function("score", self.scores)

    def gradient_function(self, mode: str = "plain"):
        """``(images, keys) -> (d score / d images, score)``; mode plain | guided | deconvnet."""
        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec, *self.table_spec])
            def gradients(images, targets, *table):
                if mode == "plain":
                    with tf.GradientTape() as tape:
                        tape.watch(images)
                        score = self.scores(self.logits(images, targets, table)[0], targets, table)
                    return tape.gradient(score, images), score
                # gradient_override_map only reaches symbolic tf.gradients, not GradientTape.
                score = self.scores(self.logits(images, targets, table, mode=mode)[0], targets, table)
                return tf.gradients(score, images)[0], score
            return gradients
        return self.cached(("gradients", mode), build)

    def path_gradient_function(self):
        """``(start, direction, alphas, keys) -> sum_s grad(start + alpha_s * direction)``.

        start, direction: ``(B, H, W, C)``; alphas: ``(S,)``. Evaluates ``B * S`` gradients in one
        call (the caller keeps ``B * S <= batch_size``). Returns ``(B, H, W, C)``.
        """
        def build():
            @tf.function(input_signature=[self.image_spec, self.image_spec, tf.TensorSpec([None], tf.float32),
                                          self.target_spec, *self.table_spec])
            def path_gradients(start, direction, alphas, targets, *table):
                n_images, n_steps = tf.shape(start)[0], tf.shape(alphas)[0]
                points = start[:, None] + alphas[None, :, None, None, None] * direction[:, None]
                points = tf.reshape(points, tf.concat([[n_images * n_steps], tf.shape(start)[1:]], 0))
                repeated = tf.repeat(targets, n_steps)
                with tf.GradientTape() as tape:
                    tape.watch(points)
                    score = self.scores(self.logits(points, repeated, table)[0], repeated, table)
                grads = tape.gradient(score, points)
                grads = tf.reshape(grads, tf.concat([[n_images, n_steps], tf.shape(start)[1:]], 0))
                return tf.reduce_sum(grads, axis=1)
            return path_gradients
        return self.cached("path_gradients", build)

    def layer_gradient_function(self, layers: tuple[str, ...]):
        """``(images, keys) -> (activations, gradients, score)`` for the named inner layers."""
        layers = tuple(layers)

        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec, *self.table_spec])
            def layer_gradients(images, targets, *table):
                with tf.GradientTape() as tape:
                    tape.watch(images)  # frozen (non-trainable) backbones are not watched otherwise
                    logits, taps = self.logits(images, targets, table, layers=layers)
                    score = self.scores(logits, targets, table)
                activations = [taps[name] for name in layers]
                grads = tape.gradient(score, activations)
                return activations, grads, score
            return layer_gradients
        return self.cached(("layer_gradients", layers), build)

    def activation_function(self, layers: tuple[str, ...]):
        """``(images, keys) -> [activation of each named layer]``."""
        layers = tuple(layers)

        def build():
            @tf.function(input_signature=[self.image_spec, self.target_spec, *self.table_spec])
            def activations(images, targets, *table):
                _, taps = self.logits(images, targets, table, layers=layers)
                return [taps[name] for name in layers]
            return activations
        return self.cached(("activations", layers), build)

    def attention_function(self, gradients: bool = False):
        """``(images, keys) -> (attention, gradients, score, order)``: the attention probabilities
        ``(B, heads, T, T)`` of every attention layer in the order the layers run, the gradients of
        the target score w.r.t. them (an empty list unless ``gradients``: no tape is recorded then),
        the score ``(B,)``, and each layer's position in
        :func:`xai_tf.models.graph.attention_layers` ``(L,)``."""
        def build():
            layers = graph.attention_layers(self.model)

            @tf.function(input_signature=[self.image_spec, self.target_spec, *self.table_spec])
            def attention(images, targets, *table):
                record = []
                tape = tf.GradientTape() if gradients else contextlib.nullcontext()
                with tape, tokens.capture_attention(self.model, record):
                    if gradients:
                        tape.watch(images)
                    score = self.scores(self.logits(images, targets, table)[0], targets, table)
                maps = [probabilities for _, probabilities in record]
                grads = tape.gradient(score, maps) if gradients else []
                order = tf.constant([layers.index(layer) for layer, _ in record], tf.int32)
                return maps, grads, score, order
            return attention
        return self.cached(("attention", bool(gradients)), build)

    def outputs(self, images, keys, batch_size: int = 64):
        """The explained output(s) of ``images`` ``(M, H, W, C)`` with keys ``(M,)``, NumPy, batched."""
        forward = self.forward_function()
        parts = [forward(tf.constant(images[start:start + batch_size]),
                         tf.constant(np.asarray(keys[start:start + batch_size], np.int32)))
                 for start in range(0, len(images), batch_size)]
        if isinstance(parts[0], (list, tuple)):
            return [np.concatenate([np.asarray(part[i]) for part in parts]) for i in range(len(parts[0]))]
        return np.concatenate([np.asarray(part) for part in parts])


def classic(model) -> ModelBinding:
    """The classifier binding of ``model`` (class ids as keys), kept in the model head's cache."""
    return head_of(model).cached("explainer_adapter", lambda: ModelBinding(model))


def _output_index(model, output, target, name):
    names = list(model.output_names)
    if output is None:
        if len(names) == 1:
            return 0
        if isinstance(target, targets_module.Custom) or isinstance(target, targets_module.Detection):
            return None
        raise ValueError(f"{name}: the model has {len(names)} outputs ({', '.join(names)}); name the explained one "
                         f"with output=, e.g. {type(target).__name__}(..., output={names[0]!r})")
    if isinstance(output, str):
        if output not in names:
            raise ValueError(f"{name}: output={output!r} is not an output of the model; its outputs: "
                             f"{', '.join(names)}")
        return names.index(output)
    if not 0 <= output < len(names):
        raise ValueError(f"{name}: output={output} is out of range; the model has {len(names)} output(s)")
    return output


def _split_inputs(model, inputs, explain_input, name):
    """``(images, others, input_index)``: the explained input and the others in ``model.inputs`` order."""
    names = [tensor.name for tensor in model.inputs]
    if len(names) == 1:
        if isinstance(inputs, dict):
            if len(inputs) != 1:
                raise ValueError(f"{name} must hold the model's one input; got keys {sorted(inputs)}")
            inputs = next(iter(inputs.values()))
        if explain_input is not None and explain_input not in (names[0], 0):
            raise ValueError(f"explain_input={explain_input!r} is not among the model's inputs ({names[0]})")
        return inputs, [], 0
    if isinstance(inputs, dict):
        missing, extra = set(names) - set(inputs), set(inputs) - set(names)
        if missing or extra:
            raise ValueError(f"{name} must be a dict with one array per model input ({', '.join(names)}); "
                             f"missing {sorted(missing)}, unknown {sorted(extra)}")
        values = [inputs[key] for key in names]
    elif isinstance(inputs, (list, tuple)) and len(inputs) == len(names):
        values = list(inputs)
    else:
        raise ValueError(f"{name}: the model takes {len(names)} inputs ({', '.join(names)}); pass a dict "
                         "{input name: array} (or a list in that order)")
    if explain_input is None:
        images = [i for i, tensor in enumerate(model.inputs) if len(tensor.shape) == 4]
        if len(images) != 1:
            raise ValueError(f"explain_input: the model has {len(images)} image inputs among {', '.join(names)}; "
                             "name the explained one with explain_input=")
        index = images[0]
    elif explain_input in names:
        index = names.index(explain_input)
    else:
        raise ValueError(f"explain_input={explain_input!r} is not among the model's inputs ({', '.join(names)})")
    from xai_tf._checks import as_float_array, check_finite

    others = []
    for position, value in enumerate(values):
        if position != index:
            label = f"{name}[{names[position]!r}]"
            array = check_finite(as_float_array(value, label), label)
            expected = tuple(model.inputs[position].shape)[1:]
            fits = array.ndim == len(expected) + 1 and all(e in (None, g) for e, g in zip(expected, array.shape[1:]))
            if not fits:
                raise ValueError(f"{label} must have shape (N, {', '.join(map(str, expected))}); got {array.shape}")
            others.append(array)
    return values[index], others, index


def bind(model, inputs, targets=None, *, explain_input=None, batch_size: int = 64, name: str = "targets"):
    """Check ``inputs`` and ``targets`` against ``model`` and bind them.

    Parameters
    ----------
    model : keras.Model
        Any built Keras model with an NHWC image input.
    inputs : array-like, shape (N, H, W, C), or dict
        The images, or for a model with several inputs ``{input name: (N, ...) array}``.
    targets : None, int, array of int, Target or callable
        None/ints: class ids on a classifier (the classic path); else a :class:`~xai_tf.targets.Target`.
    explain_input : str, optional
        The explained input of a model with several (default: its only 4-D input).
    batch_size : int
        Images per model call where the targets need the model's outputs.
    name : str
        The targets argument's name in error messages.

    Returns
    -------
    tuple
        ``(binding, images, keys)``: images float32 ``(N, H, W, C)`` in [0, 1]; keys int64 ``(N,)``.
    """
    from xai_tf._checks import check_images

    graph.check_model(model, single=False)
    images, others, index = _split_inputs(model, inputs, explain_input, "images")
    target = targets_module.as_target(targets, name)
    single = not others and len(model.outputs) == 1
    if isinstance(target, targets_module.Classes) and single and target.output in (None, 0):
        target, targets = None, target.ids  # a classifier's classes: the classic path
    if target is None and not others and len(model.outputs) == 1:
        binding = classic(model)
        images = binding.head.check_images(images, "images")
        return binding, images, binding.head.targets(images, targets, batch_size, name=name)
    if target is None:
        target = targets_module.Classes(targets)
    image_shape = tuple(model.inputs[index].shape)
    if len(image_shape) != 4:
        raise ValueError(f"the explained input must be NHWC images (4-D); its shape is {image_shape}")
    images = check_images(images, "images", shape=image_shape[1:])
    n = len(images)
    for position, array in enumerate(others):
        if len(array) != n:
            raise ValueError(f"every input must have {n} rows (one per image); input {position} has {len(array)}")
    output_index = _output_index(model, target.output, target, name)
    shapes = [tuple(t.shape) for t in model.outputs]
    target.check_output(shapes if output_index is None else shapes[output_index], name)
    n_other = len(others)
    outputs = None
    if target.needs_outputs():  # the outputs of the images as given: a binding without the target's parameters
        probe = ModelBinding(model, target=target, input_index=index, output_index=output_index,
                             table=tuple(others), n_other=n_other)
        outputs = probe.outputs(images, np.arange(n), batch_size)
    params = target.resolve(outputs, n, image_shape[1:], name)
    names = tuple(sorted(params))
    binding = ModelBinding(model, target=target, input_index=index, output_index=output_index,
                           table=(*others, *(params[key] for key in names)), param_names=names, n_other=n_other)
    return binding, images, np.arange(n, dtype=np.int64)
