"""The labels of diag, spherical and tied classifiers computed in the JVM (no Python workers).

Moving the rows from the JVM to Python (an Arrow UDF) costs more than the whole
evaluation of these models, so their labels never leave the JVM: the features
become one vector (SQL text, ``array_to_vector``) unless they are an MLlib
vector already, an MLlib model carrying our scores picks the class
(:mod:`gaussmle.spark._mllib_models`), and one projection turns its index into
the class label, or raises the fit's message for a row with a NaN, null or
infinite feature (``raise_error``), unless the model marginalises missing
values: a NaN or null feature then drops out of every class's score
(independent features only). Everything else (probabilities, full
covariances, Student-t predictive models, mixtures, tied models that
marginalise, one class) uses the Arrow UDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._columns import FeatureInput, free_name, quoted
from ._mllib_models import Scores, java_number, jvm_classifier, scores_of

#: A row whose features are finite yet no class can score it (squares beyond float64).
TOO_LARGE = (
    "X holds values too large for float64 squares (every class scores -inf); rescale the "
    "features first"
)


def _sql_number(value: float) -> str:
    """A float as an exact Spark SQL double literal.

    Examples
    --------
    >>> _sql_number(0.1), _sql_number(-np.inf)
    ("CAST('0.1' AS DOUBLE)", "CAST('-Infinity' AS DOUBLE)")
    """
    return f"CAST('{java_number(value)}' AS DOUBLE)"


def _sql_string(text: str) -> str:
    """A Spark SQL string literal.

    Examples
    --------
    >>> print(_sql_string("column 'a'"))
    'column \\'a\\''
    """
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def bad_value_error(values: Any, names: Sequence[str], marginalize: bool, sql_type: str) -> Any:
    """Column that raises the fit's message for the first NaN, null or infinite feature.

    ``values`` is the row's features as an array column (a null as NaN); the
    column has type ``sql_type`` and raises for a row that has such a
    feature. The message's number is ``2 j`` for a NaN feature j (not when
    marginalising) and ``2 j + 1`` for an infinite one, the smallest of the
    row's: ``array_position`` of NaN, of infinity and of minus infinity.
    Small on purpose: this branch is reached only for a bad row, but its
    generated code is compiled into the projection of every row, and a
    bigger one (a higher-order function, or the feature columns spelled out
    again) made predict about 0.3 to 0.5 s per million rows slower
    (2026-12-03).
    """
    from pyspark.sql import functions as F

    from ._summary import nan_message

    messages = []
    for j in range(len(names)):
        for bad in (np.nan, np.inf):
            row = np.zeros((1, len(names)))
            row[0, j] = bad
            messages.append(_sql_string(nan_message(row, names)))
    messages.append(_sql_string(TOO_LARGE))
    none = F.lit(2 * len(names))  # no such feature: the last message
    in_order = F.expr(f"array({', '.join(messages)})")  # one call to the JVM, not 2 d + 1

    def at(value: float) -> Any:  # position (from 1) of the first such value, or null
        return F.nullif(F.array_position(values, F.lit(value)), F.lit(0))

    codes = [2 * at(np.inf) - 1, 2 * at(-np.inf) - 1]
    if not marginalize:
        codes.append(2 * at(np.nan) - 2)
    code = F.coalesce(F.least(*codes), none).cast("int")  # from BIGINT
    return F.raise_error(F.element_at(in_order, code + 1)).cast(sql_type)


def row_is_fine(xs: Sequence[str], marginalize: bool) -> str:
    """SQL text: the row's features are all finite (marginalising: none is infinite).

    A NaN compares false and a null compares null: the one ``coalesce``
    counts both as bad (marginalising, as fine).

    Examples
    --------
    >>> print(row_is_fine(["a", "b"], False))
    coalesce(abs(a) < CAST('Infinity' AS DOUBLE) AND abs(b) < CAST('Infinity' AS DOUBLE), false)
    """
    inf = _sql_number(np.inf)
    if marginalize:
        return f"NOT coalesce({' OR '.join(f'abs({x}) = {inf}' for x in xs)}, false)"
    return f"coalesce({' AND '.join(f'abs({x}) < {inf}' for x in xs)}, false)"


def vector_error(name: str, values: Any) -> Any:
    """Column that raises the message for a bad row of the vector column ``name``.

    ``values`` is the row's vector as an array column: NaN or infinity there,
    or finite values whose squares overflow float64 (:data:`TOO_LARGE`). Only
    evaluated for a row that no class scores.

    The values are finite when their largest is below infinity and their
    smallest above minus infinity (Spark orders NaN above every number, so
    ``array_max`` finds one). Not a higher-order function such as ``forall``:
    Spark evaluates those outside its generated code, and one in this
    projection, though never reached on good rows, made predict from a cached
    vector about 0.3 s per million rows slower (2026-12-03).
    """
    from pyspark.sql import functions as F

    bad = _sql_string(
        f"a row of the vector column {name!r} holds NaN or infinity; "
        "remove or impute those values first"
    )
    inf = F.lit(float("inf"))
    finite = (F.array_max(values) < inf) & (F.array_min(values) > -inf)
    too_large = F.expr(f"raise_error({_sql_string(TOO_LARGE)})")
    return F.when(finite, too_large).otherwise(F.expr(f"raise_error({bad})"))


def _label_literal(value: Any, label_type: Any) -> str:
    """One class label as an exact Spark SQL literal of ``label_type``.

    Examples
    --------
    >>> from pyspark.sql.types import BooleanType, DoubleType, LongType, StringType
    >>> [_label_literal(v, t) for v, t in ((3, LongType()), (0.1, DoubleType()),
    ...                                    ("it's", StringType()), (True, BooleanType()))]
    ['CAST(3 AS BIGINT)', "CAST('0.1' AS DOUBLE)", "'it\\\\'s'", 'true']
    """
    from pyspark.sql.types import BooleanType, DoubleType, LongType

    if isinstance(label_type, BooleanType):
        return "true" if bool(value) else "false"
    if isinstance(label_type, LongType):
        return f"CAST({int(value)} AS BIGINT)"
    if isinstance(label_type, DoubleType):
        return _sql_number(value)
    return _sql_string(str(value))


def vector_entries(scores: Scores, xs: Sequence[str], direct: bool) -> list[str]:
    """SQL text of each entry of the vector the linear model reads (or naive Bayes, ``direct``).

    ``direct``: the features. Otherwise the centred features ``z = x - r``,
    their squares (a quadratic score) and which features are observed (a
    model that marginalises: a NaN or null feature has ``z = 0``).

    Examples
    --------
    >>> s = Scores(const=np.zeros(2), shift=np.array([1.0]), lin=np.ones((2, 1)))
    >>> vector_entries(s, ["a"], direct=False)
    ["(a - CAST('1.0' AS DOUBLE))"]
    """
    if direct:
        return list(xs)
    marginalize = scores.lognorm is not None
    centred, observed = [], []
    for j, x in enumerate(xs):
        z = f"({x} - {_sql_number(scores.shift[j])})"
        if marginalize:
            missing = f"({x} IS NULL OR isnan({x}))"
            z = f"(CASE WHEN {missing} THEN 0.0D ELSE {z} END)"
            observed.append(f"CASE WHEN {missing} THEN 0.0D ELSE 1.0D END")
        centred.append(z)
    squares = [f"{z} * {z}" for z in centred] if scores.quad is not None else []
    return [*centred, *squares, *observed]


def with_labels(df: Any, model: Any, features: FeatureInput, label_type: Any) -> Any | None:
    """``df`` with the ``prediction`` column computed in the JVM, or None (use the Arrow UDF).

    The features (or their centred form, squares and which are observed)
    become one vector (``array_to_vector`` of one SQL array), unless they are
    one already; MLlib's naive Bayes with our parameters (:func:`naive_bayes_model`)
    or a multinomial logistic model with our scores' coefficients
    (:func:`linear_model`) picks the class, MLlib's own prediction path. (Spark
    SQL expressions for the k scores, 2 k d terms, compile to methods too large
    for the JVM's compiler and ran 10 to 50 times slower.) A row with a NaN,
    null or infinite feature raises the fit's message in the last projection.
    The JVM objects are built once per model, and every step is SQL text or
    one call: calls from Python to the JVM cost more than the rows of a
    million-row table.
    """
    from pyspark.ml.functions import array_to_vector, vector_to_array
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    scores = scores_of(model)
    if scores is None or len(scores.const) < 2:
        return None
    session = df.sparkSession
    direct = scores.quad is not None and scores.lognorm is None
    marginalize = scores.lognorm is not None
    try:  # the JVM objects
        classifier = jvm_classifier(session, model, scores, direct)
    except Exception:  # no JVM to reach (Spark Connect): the Arrow UDF
        return None
    xs = features.columns
    taken = [*df.columns, *([features.array] if features.array is not None else [])]
    vector, index = free_name(taken, "vector"), free_name(taken, "index")
    helpers: list[str] = [vector]
    # a vector whose length its metadata vouches for: naive Bayes reads it as it is
    as_is = direct and features.vector is not None and features.sized
    if as_is:
        staged, vector, helpers = df._jdf, features.vector, []
    else:  # one array of the entries (SQL, compiled), as one vector
        nan = _sql_number(np.nan)  # a vector holds no null: NaN, a bad row either way
        entries = ", ".join(f"coalesce({e}, {nan})" for e in vector_entries(scores, xs, direct))
        values = array_to_vector(F.expr(f"array({entries})"))
        staged = features.frame.select("*", values.alias(vector))._jdf
        helpers += [features.array] if features.array is not None else []
    classifier.setFeaturesCol(vector).setPredictionCol(index)
    classifier.setProbabilityCol("").setRawPredictionCol("")
    scored = DataFrame(classifier.transform(staged), session)
    helpers.append(index)
    vector_values = vector_to_array(F.col(quoted(vector)))  # for a bad row only
    sql_type = label_type.simpleString()
    classes = np.asarray(model.classes_).tolist()
    labels = ", ".join(_label_literal(v, label_type) for v in classes)
    if direct:  # class 0 is naive Bayes's sentinel: a row with a bad feature
        fine = f"{quoted(index)} > 0"
        label = f"element_at(array({labels}), CAST({quoted(index)} AS INT))"
        if as_is:  # the values are not at hand: the vector's, for a bad row only
            error = vector_error(features.vector, vector_values).cast(sql_type)
        else:  # the features are the vector's entries
            error = bad_value_error(vector_values, features.names, False, sql_type)
    else:  # the centred features are the vector's first entries
        fine = row_is_fine(xs, marginalize)
        label = f"element_at(array({labels}), CAST({quoted(index)} AS INT) + 1)"
        features_of_vector = F.slice(vector_values, 1, len(xs))
        error = bad_value_error(features_of_vector, features.names, marginalize, sql_type)
    return scored.select(
        F.expr(f"* EXCEPT ({', '.join(quoted(h) for h in helpers)})"),
        F.when(F.expr(fine), F.expr(label)).otherwise(error).alias("prediction"),
    )
