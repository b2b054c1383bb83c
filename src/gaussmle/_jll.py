"""Compatibility import: the class densities now live in :mod:`gaussmle.densities`.

Kept only so that code written against ``gaussmle._jll.ClassDensities``
(the mixture work in progress) keeps importing; import from
:mod:`gaussmle.densities` instead. Remove once nothing imports it.
"""

from .densities import ClassDensities as ClassDensities
