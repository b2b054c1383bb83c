"""What a prediction kernel writes: the named modes shared by the front end and the kernels.

A plain module (no numba), so the front end can import it without numba; the
compiled modules read the values as compile-time constants.

Examples
--------
>>> (JOINT, LOG_POSTERIOR, POSTERIOR, BEST)
(0, 1, 2, 3)
"""

#: Joint log densities (plus the per-class constant), unnormalised.
JOINT = 0
#: Log posteriors, normalised by log-sum-exp in the same pass.
LOG_POSTERIOR = 1
#: Posterior probabilities, normalised in the same pass.
POSTERIOR = 2
#: Only the index of the most probable class of each row.
BEST = 3
