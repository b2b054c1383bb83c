"""ONNX graphs from :class:`GraphParameters`, built node by node with ``onnx.helper``.

The ``onnx`` package is imported inside the functions, so importing this
module does not need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._parameters import GraphParameters, check_dtype

if TYPE_CHECKING:  # pragma: no cover - for type hints only
    import onnx


def _class_tensor(classes: np.ndarray) -> onnx.TensorProto:
    """The constant tensor of class labels that ``label`` gathers from."""
    from onnx import TensorProto, helper, numpy_helper

    kind = classes.dtype.kind
    if kind in "iu" and (classes.size == 0 or int(classes.max()) <= np.iinfo(np.int64).max):
        return numpy_helper.from_array(classes.astype(np.int64), "classes")
    if kind in "fb":
        values = classes.astype(np.float64 if kind == "f" else np.bool_)
        return numpy_helper.from_array(values, "classes")
    if kind in "US" or (kind == "O" and all(isinstance(c, str) for c in classes)):
        text = [str(c).encode("utf-8") for c in classes]
        return helper.make_tensor("classes", TensorProto.STRING, [len(text)], text)
    raise ValueError(
        f"to_onnx cannot write class labels of type {classes.dtype} into a graph; "
        "use integer, float, boolean or string labels"
    )


def _whitening_nodes(params: GraphParameters, source: str, target: str) -> list[onnx.NodeProto]:
    """Deviations ``source`` (n, k, d) -> whitened ``target`` (n, k, d)."""
    from onnx import helper

    if not params.triangular:
        return [helper.make_node("Mul", [source, "scale"], [target])]
    # (k, n, d) @ (k or 1, d, d): one matrix product per class, batched
    return [
        helper.make_node("Transpose", [source], [f"{source}_by_class"], perm=[1, 0, 2]),
        helper.make_node("MatMul", [f"{source}_by_class", "scale"], [f"{target}_by_class"]),
        helper.make_node("Transpose", [f"{target}_by_class"], [target], perm=[1, 0, 2]),
    ]


def _far_distance_nodes(params: GraphParameters) -> list[onnx.NodeProto]:
    """Far rows (per-class covariances) -> ``far_score`` (n, k): minus the log distance.

    The smallest Mahalanobis distance wins, compared in log space from
    deviations scaled by their largest magnitude (so nothing overflows),
    each class's log distance times its ``far_weight``; classes that can
    never win score -inf.
    """
    from onnx import helper

    node = helper.make_node
    return [
        node("Abs", ["deviations"], ["far_abs"]),
        node("ReduceMax", ["far_abs"], ["far_top"], axes=[2], keepdims=1),  # (n, k, 1)
        node("Greater", ["far_top", "zero"], ["far_positive"]),
        node("Where", ["far_positive", "far_top", "one"], ["far_scale"]),
        node("Div", ["deviations", "far_scale"], ["far_unit"]),
        *_whitening_nodes(params, "far_unit", "far_white"),
        node("Mul", ["far_white", "far_white"], ["far_squares"]),
        node("ReduceSum", ["far_squares", "axis_2"], ["far_q"], keepdims=0),  # (n, k)
        node("Squeeze", ["far_scale", "axis_2"], ["far_scale_2d"]),
        node("Log", ["far_scale_2d"], ["far_log_scale"]),
        node("Add", ["far_log_scale", "far_log_scale"], ["far_log_scale_sq"]),
        node("Log", ["far_q"], ["far_log_q"]),
        node("Add", ["far_log_scale_sq", "far_log_q"], ["far_log_distance"]),
        node("Mul", ["far_log_distance", "far_weight"], ["far_weighted"]),
        node("Add", ["far_weighted", "never"], ["far_rank"]),
        node("Neg", ["far_rank"], ["far_score"]),
    ]


def _far_linear_nodes() -> list[onnx.NodeProto]:
    """Far rows (one shared covariance) -> ``far_score`` (n, k): the linear discriminant.

    ``(z @ W + b + log_const) / max|z|`` with ``z`` the centred row: the
    joint up to a per-row constant, divided by a positive per-row number,
    so it ranks as the joint does, and ``z / max|z|`` keeps ``z @ W`` from
    overflowing (float32 included). As gaussmle's tied ranking.
    """
    from onnx import helper

    node = helper.make_node
    return [
        node("Abs", ["centred"], ["far_abs"]),
        node("ReduceMax", ["far_abs"], ["far_top"], axes=[1], keepdims=1),  # (n, 1)
        node("Greater", ["far_top", "zero"], ["far_positive"]),
        node("Where", ["far_positive", "far_top", "one"], ["far_scale"]),
        node("Div", ["centred", "far_scale"], ["far_unit"]),
        node("MatMul", ["far_unit", "linear_weights"], ["far_linear"]),  # (n, k)
        node("Div", ["linear_offset", "far_scale"], ["far_offset"]),
        node("Add", ["far_linear", "far_offset"], ["far_score"]),
    ]


def _far_branch(params: GraphParameters, elem: int) -> onnx.GraphProto:
    """The If branch for a batch with far rows: every class density underflowed to 0.

    As gaussmle does, such a row goes wholly to the class with the best far
    score: the linear discriminant where the classes share one covariance,
    else the smallest Mahalanobis distance.
    """
    from onnx import TensorProto, helper

    node = helper.make_node
    score = _far_distance_nodes(params) if params.linear_weights is None else _far_linear_nodes()
    nodes = [
        *score,
        node("ArgMax", ["far_score"], ["far_winner"], axis=1, keepdims=1),  # (n, 1)
        node("Equal", ["far_winner", "class_index"], ["far_onehot"]),  # (n, k)
        node("Where", ["far_onehot", "zero", "minus_inf"], ["far_log_posterior"]),
        node("Where", ["far_rows", "far_log_posterior", "main_log_posterior"], ["out_post"]),
        node("Squeeze", ["far_winner", "axis_1"], ["far_code"]),
        node("Squeeze", ["far_rows", "axis_1"], ["far_flags"]),
        node("Where", ["far_flags", "far_code", "main_code"], ["out_code"]),
    ]
    outputs = [
        helper.make_tensor_value_info("out_code", TensorProto.INT64, None),
        helper.make_tensor_value_info("out_post", elem, None),
    ]
    return helper.make_graph(nodes, "far_rows_present", [], outputs)


def _near_branch(elem: int) -> onnx.GraphProto:
    """The If branch for a batch without far rows: the main results as they are."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Identity", ["main_code"], ["same_code"]),
        helper.make_node("Identity", ["main_log_posterior"], ["same_post"]),
    ]
    outputs = [
        helper.make_tensor_value_info("same_code", TensorProto.INT64, None),
        helper.make_tensor_value_info("same_post", elem, None),
    ]
    return helper.make_graph(nodes, "no_far_rows", [], outputs)


def _deviation_nodes(params: GraphParameters, elem: int) -> list[onnx.NodeProto]:
    """X -> ``x_used`` (what the poison check sees) and ``deviations`` (n, k, d).

    A marginalising graph replaces NaN by the reference point and zeroes the
    deviations of missing features, so they drop out of every distance.
    """
    from onnx import helper

    node = helper.make_node
    common = [
        node("Sub", ["x_used", "reference"], ["centred"]),
        node("Unsqueeze", ["centred", "axis_1"], ["centred_rows"]),  # (n, 1, d)
    ]
    if params.feature_log_norm is None:
        return [
            node("Identity", ["X"], ["x_used"]),
            *common,
            node("Sub", ["centred_rows", "shifted_means"], ["deviations"]),
        ]
    return [
        node("IsNaN", ["X"], ["x_missing"]),
        node("Where", ["x_missing", "reference", "X"], ["x_used"]),
        node("Not", ["x_missing"], ["x_observed"]),
        node("Cast", ["x_observed"], ["observed"], to=elem),  # (n, d) of 0/1
        node("Unsqueeze", ["observed", "axis_1"], ["observed_rows"]),
        *common,
        node("Sub", ["centred_rows", "shifted_means"], ["all_deviations"]),
        node("Mul", ["all_deviations", "observed_rows"], ["deviations"]),
    ]


def _log1p_nodes(source: str, target: str) -> list[onnx.NodeProto]:
    """``target = log(1 + source)``, accurate for small values (ONNX has no Log1p).

    Goldberg's trick: with ``u = 1 + x`` rounded, ``log(u) * x / (u - 1)``
    is within a few units in the last place of ``log1p(x)``; ``x`` itself
    where ``u`` rounds to 1.
    """
    from onnx import helper

    node = helper.make_node
    return [
        node("Add", [source, "one"], [f"{target}_u"]),
        node("Sub", [f"{target}_u", "one"], [f"{target}_du"]),
        node("Log", [f"{target}_u"], [f"{target}_log_u"]),
        node("Div", [source, f"{target}_du"], [f"{target}_ratio"]),
        node("Mul", [f"{target}_log_u", f"{target}_ratio"], [f"{target}_general"]),
        node("Equal", [f"{target}_du", "zero"], [f"{target}_tiny"]),
        node("Where", [f"{target}_tiny", source, f"{target}_general"], [target]),
    ]


def _kernel_nodes(params: GraphParameters) -> list[onnx.NodeProto]:
    """``squares`` (n, k, d) of whitened deviations -> ``log_kernel`` (n, k).

    Gaussian: ``-q / 2``. Student t: ``tail * log1p(q / df)``, per feature
    (then summed) for a product of univariate t, per class for a d-variate t.
    """
    from onnx import helper

    node = helper.make_node
    if params.tail is None:
        return [
            node("ReduceSum", ["squares", "axis_2"], ["distances"], keepdims=0),
            node("Mul", ["distances", "minus_half"], ["log_kernel"]),
        ]
    if params.tail.ndim == 2:  # one t per feature
        return [
            node("Mul", ["squares", "inv_df"], ["t_ratio"]),
            *_log1p_nodes("t_ratio", "t_log1p"),
            node("Mul", ["t_log1p", "tail"], ["t_terms"]),
            node("ReduceSum", ["t_terms", "axis_2"], ["log_kernel"], keepdims=0),
        ]
    return [
        node("ReduceSum", ["squares", "axis_2"], ["distances"], keepdims=0),
        node("Mul", ["distances", "inv_df"], ["t_ratio"]),
        *_log1p_nodes("t_ratio", "t_log1p"),
        node("Mul", ["t_log1p", "tail"], ["log_kernel"]),
    ]


def _normaliser_nodes(params: GraphParameters) -> list[onnx.NodeProto]:
    """``log_kernel`` (n, k) -> ``joint_raw``: plus the log priors and normalisers."""
    from onnx import helper

    if params.feature_log_norm is None:
        return [helper.make_node("Add", ["log_kernel", "log_const"], ["joint_raw"])]
    return [
        helper.make_node("MatMul", ["observed", "feature_log_norm"], ["observed_norm"]),
        helper.make_node("Add", ["log_kernel", "observed_norm"], ["log_density"]),
        helper.make_node("Add", ["log_density", "log_const"], ["joint_raw"]),
    ]


def _ranking_nodes(params: GraphParameters) -> list[onnx.NodeProto]:
    """``joint`` (n, k) -> ``ranking`` (n, k): the joint up to a per-row constant.

    Per-class covariances: the joint itself. One shared covariance: the
    linear discriminant ``z @ W + b + log_const`` of the centred row, as
    gaussmle's tied ranking; its rounding error grows like ``|z| |W|``
    where the joint's grows like the squared distance, whose class
    differences drown far from the data (float32: from about 1e8). A row
    whose ``z @ W`` overflowed (or has NaN) ranks -inf and goes to the
    far-point branch.
    """
    from onnx import helper

    node = helper.make_node
    if params.linear_weights is None:
        return [node("Identity", ["joint"], ["ranking"])]
    return [
        node("MatMul", ["centred", "linear_weights"], ["linear"]),  # (n, k)
        node("Mul", ["linear", "zero"], ["linear_zeros"]),
        node("ReduceSum", ["linear_zeros", "axis_1"], ["linear_check"], keepdims=1),  # (n, 1)
        node("IsNaN", ["linear_check"], ["linear_lost"]),
        node("Add", ["linear", "linear_offset"], ["linear_ranking"]),
        node("Where", ["linear_lost", "minus_inf", "linear_ranking"], ["ranking"]),
    ]


def _far_constants(params: GraphParameters, dtype: np.dtype) -> list[onnx.TensorProto]:
    """The constants the far-point branch of ``params`` reads."""
    from onnx import numpy_helper

    def const(value: np.ndarray, name: str) -> onnx.TensorProto:
        return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)

    if params.linear_weights is not None:
        return []  # linear_weights and linear_offset are the main path's too
    k = params.log_const.shape[0]
    return [
        const(np.ones(k) if params.far_weight is None else params.far_weight, "far_weight"),
        const(np.where(np.isfinite(params.log_const), 0.0, np.inf), "never"),
    ]


def _optional_const(
    value: np.ndarray | None, name: str, dtype: np.dtype, transpose: bool = False
) -> list[onnx.TensorProto]:
    """A constant tensor, or none when ``value`` is None."""
    from onnx import numpy_helper

    if value is None:
        return []
    array = np.asarray(value.T if transpose else value, dtype=dtype)
    return [numpy_helper.from_array(np.ascontiguousarray(array), name)]


def _sample_loglik_nodes() -> list[onnx.NodeProto]:
    """``joint`` (n, k) -> ``log_likelihood`` (n,): log p(x) by log-sum-exp over the classes.

    A row whose every joint is -inf (far beyond the data) gets -inf (its
    maximum is replaced by 0 before subtracting, so no NaN); a row with NaN or
    infinity in X gets NaN.
    """
    from onnx import helper

    node = helper.make_node
    return [
        node("ReduceMax", ["joint"], ["joint_top"], axes=[1], keepdims=1),  # (n, 1)
        node("IsInf", ["joint_top"], ["joint_top_inf"]),
        node("Where", ["joint_top_inf", "zero", "joint_top"], ["joint_shift"]),
        node("Sub", ["joint", "joint_shift"], ["joint_relative"]),
        node("Exp", ["joint_relative"], ["joint_relative_exp"]),
        node("ReduceSum", ["joint_relative_exp", "axis_1"], ["joint_total"], keepdims=1),
        node("Log", ["joint_total"], ["joint_log_total"]),
        node("Add", ["joint_shift", "joint_log_total"], ["sample_raw"]),
        node("Add", ["sample_raw", "poison"], ["sample_checked"]),
        node("Squeeze", ["sample_checked", "axis_1"], ["log_likelihood"]),
    ]


def build_graph(
    params: GraphParameters, dtype: Any, name: str = "gaussmle", per_sample: bool = False
) -> onnx.GraphProto:
    """The ONNX graph (``onnx.GraphProto``) evaluating ``params`` in ``dtype``.

    The main path: centre, deviations from every class mean, whiten, sum of
    squares, joint log-likelihood, log-sum-exp of the ranking (the joint;
    for tied the linear discriminant). Rows whose ranking is lost (only far
    beyond the data: the squared distance, or for tied ``z @ W``, overflows
    the dtype) take the far-point rule in an ``If`` branch that runs only
    when a batch has such rows. Rows with NaN or infinity in X get NaN
    probabilities and log-likelihoods, except that a marginalising graph
    (``params.feature_log_norm`` set) integrates NaN features out.

    ``per_sample``: the output ``log_likelihood`` is log p(x) (n,), the
    log-sum-exp of the joint over the classes (a mixture's ``score_samples``),
    instead of the joint (n, k).
    """
    from onnx import helper, numpy_helper

    dtype = check_dtype(dtype)
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    k, d = params.shifted_means.shape
    label_tensor = _class_tensor(params.classes)

    def const(value: Any, const_name: str, as_dtype: Any = dtype) -> Any:
        return numpy_helper.from_array(np.asarray(value, dtype=as_dtype), const_name)

    linear_offset = None if params.linear_bias is None else params.linear_bias + params.log_const
    initializers = [
        const(params.reference, "reference"),
        const(params.shifted_means, "shifted_means"),
        const(params.scale, "scale"),
        const(params.log_const, "log_const"),
        *_optional_const(params.feature_log_norm, "feature_log_norm", dtype, transpose=True),
        *_optional_const(params.inv_df, "inv_df", dtype),
        *_optional_const(params.tail, "tail", dtype),
        *_far_constants(params, dtype),
        *_optional_const(params.linear_weights, "linear_weights", dtype),
        *_optional_const(linear_offset, "linear_offset", dtype),
        *_optional_const(None if params.tail is not None else np.array(-0.5), "minus_half", dtype),
        const(0.0, "zero"),
        const(1.0, "one"),
        const(-np.inf, "minus_inf"),
        const([1], "axis_1", np.int64),
        const([2], "axis_2", np.int64),
        const(np.arange(k), "class_index", np.int64),
        label_tensor,
    ]
    node = helper.make_node
    nodes = [
        *_deviation_nodes(params, elem),  # (n, k, d)
        # 0 for a finite row, NaN for a row with NaN or infinity (added to the outputs)
        node("Mul", ["x_used", "zero"], ["x_zeros"]),
        node("ReduceSum", ["x_zeros", "axis_1"], ["poison"], keepdims=1),  # (n, 1)
        *_whitening_nodes(params, "deviations", "whitened"),
        node("Mul", ["whitened", "whitened"], ["squares"]),
        *_kernel_nodes(params),  # (n, k)
        *_normaliser_nodes(params),
        # NaN here only from overflowed products (inf - inf): a density of 0
        node("IsNaN", ["joint_raw"], ["joint_nan"]),
        node("Where", ["joint_nan", "minus_inf", "joint_raw"], ["joint"]),
        *(
            _sample_loglik_nodes()
            if per_sample
            else [node("Add", ["joint", "poison"], ["log_likelihood"])]
        ),
        *_ranking_nodes(params),
        node("ArgMax", ["ranking"], ["main_code"], axis=1, keepdims=0),
        node("ReduceMax", ["ranking"], ["top"], axes=[1], keepdims=1),
        node("Sub", ["ranking", "top"], ["relative"]),
        node("Exp", ["relative"], ["relative_exp"]),
        node("ReduceSum", ["relative_exp", "axis_1"], ["total"], keepdims=1),
        node("Log", ["total"], ["log_total"]),
        node("Sub", ["relative", "log_total"], ["main_log_posterior"]),
        node("IsInf", ["top"], ["far_rows"], detect_positive=0),  # (n, 1)
        node("Cast", ["far_rows"], ["far_count_each"], to=elem),
        node("ReduceSum", ["far_count_each"], ["far_count"], keepdims=0),
        node("Greater", ["far_count", "zero"], ["any_far"]),
        node(
            "If",
            ["any_far"],
            ["code", "log_posterior"],
            then_branch=_far_branch(params, elem),
            else_branch=_near_branch(elem),
        ),
        node("Gather", ["classes", "code"], ["label"], axis=0),
        node("Add", ["log_posterior", "poison"], ["log_posterior_checked"]),
        node("Exp", ["log_posterior_checked"], ["probabilities"]),
    ]
    inputs = [helper.make_tensor_value_info("X", elem, ["n", d])]
    outputs = [
        helper.make_tensor_value_info("label", label_tensor.data_type, ["n"]),
        helper.make_tensor_value_info("probabilities", elem, ["n", k]),
        helper.make_tensor_value_info("log_likelihood", elem, ["n"] if per_sample else ["n", k]),
    ]
    return helper.make_graph(nodes, name, inputs, outputs, initializers)
