"""Conjugate priors and MAP estimates: prior knowledge plus data.

For each feature (``"diag"``) or the shared variance (``"spherical"``) the prior
is Normal-Inverse-Gamma; for ``"full"`` and ``"tied"`` it is
Normal-Inverse-Wishart. Both are set by four numbers a person can reason about:

- ``mean`` (m0): where the means are believed to be; default the mean of all
  data seen (pooled over classes);
- ``mean_strength`` (kappa0): how many observations that belief is worth;
- ``variance`` (s0^2, per feature): the believed variance; default the
  per-feature variance of all data seen;
- ``variance_strength`` (nu): how many observations the variance belief is worth.

In the standard parameters: Inverse-Gamma(alpha0 = nu / 2, beta0 = nu s0^2 / 2),
and Inverse-Wishart(nu0 = nu + d - 1, Psi0 = nu diag(s0^2)), which agree for d = 1.

The MAP estimate is the joint mode of the posterior over (mu, Sigma):

- mean: ``mu = (kappa0 m0 + n xbar) / (kappa0 + n)``;
- diag: ``s2 = beta_n / (alpha_n + 3/2)`` with ``alpha_n = alpha0 + n/2`` and
  ``beta_n = beta0 + M2/2 + kappa0 n (xbar - m0)^2 / (2 (kappa0 + n))``;
- spherical: the same summed over features, divided by ``alpha_n + 1 + d/2``
  (``alpha_n = alpha0 + n d / 2``);
- full: ``Sigma = Psi_n / (nu0 + n + d + 2)`` with
  ``Psi_n = Psi0 + S + kappa0 n / (kappa0 + n) (xbar - m0)(xbar - m0)^T``;
- tied (k classes sharing Sigma): numerator summed over classes, divided by
  ``nu0 + N + d + 1 + k``.

As n grows the MAP tends to the MLE; with strong priors it tends to (m0, s0^2).
A class with one sample, or a constant feature, gets a positive variance from
the prior alone: no smoothing constant is needed.

The posterior predictive density of a new point is Student's t:
per feature ``t(2 alpha_n; mu_n, beta_n (kappa_n + 1) / (alpha_n kappa_n))`` for diag,
and ``t(nu_n - d + 1; mu_n, Psi_n (kappa_n + 1) / (kappa_n (nu_n - d + 1)))`` for full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .covariance import Structure, structure_for
from .stats import GaussianStats


@dataclass(frozen=True)
class ConjugatePrior:
    """A conjugate prior for Gaussian means and (co)variances, in pseudo-counts.

    Parameters
    ----------
    mean : array-like (d,), optional
        Prior centre of the means; None means the mean of all data seen.
    mean_strength : float, default 0.01
        Pseudo-observations behind ``mean`` (kappa0 > 0).
    variance : array-like (d,), optional
        Prior guess of each feature's variance; None means the per-feature
        variance of all data seen.
    variance_strength : float, default 1.0
        Pseudo-observations behind ``variance`` (nu > 0).

    Examples
    --------
    >>> import numpy as np
    >>> s = GaussianStats.from_data([[5.0]])  # a single sample
    >>> mean, var = map_estimate(s, "diag", ConjugatePrior(mean=[0.0], variance=[1.0]))
    >>> mean.round(4).tolist(), var.round(4).tolist()  # positive variance, no epsilon
    ([4.9505], [0.2495])
    """

    mean: Any = None
    mean_strength: float = 0.01
    variance: Any = None
    variance_strength: float = 1.0

    def __post_init__(self) -> None:
        for name in ("mean_strength", "variance_strength"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number of pseudo-observations")
        if self.variance is not None and not np.all(np.asarray(self.variance) > 0):
            raise ValueError("the prior variance must be positive for every feature")

    def resolved(self, pooled: GaussianStats) -> tuple[np.ndarray, np.ndarray]:
        """(m0, s0^2) with defaults filled from the pooled statistics of all data.

        A feature with zero pooled variance gets prior variance 1 (in its own
        units), so the prior is always proper.
        """
        d = pooled.n_features
        m0 = pooled.mean if self.mean is None else _vector(self.mean, d, "prior mean")
        if self.variance is None:
            s0 = pooled.variance.copy()
            s0[~(s0 > 0)] = 1.0
        else:
            s0 = _vector(self.variance, d, "prior variance")
        return np.asarray(m0, dtype=np.float64), s0


def _vector(value: Any, d: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (d,)).copy()
    if not np.isfinite(arr).all():
        raise ValueError(f"the {name} must be finite")
    return arr


def coerce_prior(prior: Any) -> ConjugatePrior:
    """Accept None, a ConjugatePrior or a dict of its fields.

    Examples
    --------
    >>> coerce_prior({"mean_strength": 2.0}).mean_strength
    2.0
    """
    if prior is None:
        return ConjugatePrior()
    if isinstance(prior, ConjugatePrior):
        return prior
    if isinstance(prior, dict):
        return ConjugatePrior(**prior)
    raise TypeError("prior must be None, a ConjugatePrior or a dict of its fields")


def posterior(
    stats: GaussianStats, covariance_type: str | Structure, prior: ConjugatePrior, pooled=None
):
    """Posterior hyperparameters for a batch of groups (or one group).

    Returns a dict with ``kappa`` (batch), ``mean`` (batch, d) and for diag /
    spherical ``alpha`` and ``beta`` (per feature / per group), for full /
    tied ``nu`` and ``psi`` (d, d) per group (tied: one shared); the algebra
    is the structure's (:meth:`gaussmle.covariance.Structure.conjugate_posterior`).
    """
    pooled = stats.pooled() if pooled is None else pooled
    m0, s0 = prior.resolved(pooled)
    kappa0, nu = float(prior.mean_strength), float(prior.variance_strength)
    return structure_for(covariance_type).conjugate_posterior(stats, m0, s0, kappa0, nu)


def map_estimate(
    stats: GaussianStats, covariance_type: str | Structure, prior: Any = None, pooled=None
) -> tuple[np.ndarray, np.ndarray]:
    """MAP means and covariances (GaussianMixture shapes for a batch).

    Examples
    --------
    >>> s = GaussianStats.from_data(np.arange(1000.0)[:, None] % 7)
    >>> mean, var = map_estimate(s, "diag")
    >>> bool(np.allclose(var, s.variance, rtol=1e-2))  # many samples: close to the MLE
    True
    """
    prior = coerce_prior(prior)
    structure = structure_for(covariance_type)
    post = posterior(stats, structure, prior, pooled)
    return post["mean"], structure.map_covariance(post, stats.n_features)


def predictive_parameters(
    stats: GaussianStats, covariance_type: str | Structure, prior: Any = None, pooled=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Student-t posterior predictive: (location, scale, degrees of freedom).

    diag: per feature scale (k, d) and df (k, d) (each feature an independent t);
    spherical: a d-variate t with diagonal scale (k, d) and df (k,);
    full: a d-variate t with scale matrices (k, d, d) and df (k,);
    tied: the shared-Sigma posterior gives a d-variate t per class with
    scale ``Psi (kappa_c + 1) / (kappa_c (nu - d + 1))``: (k, d, d) and df (k,).
    """
    prior = coerce_prior(prior)
    structure = structure_for(covariance_type)
    post = posterior(stats, structure, prior, pooled)
    scale, df = structure.predictive(post, stats.n_features)
    return post["mean"], scale, df


__all__ = ["ConjugatePrior", "coerce_prior", "map_estimate", "posterior", "predictive_parameters"]
