"""Evidence-weighted matching of two customers (Fellegi–Sunter), independent of the graph plumbing.

* ``traits``: a person's descriptive traits normalised into a compact, order-independent summary.
* ``compare``: comparison levels (exact / close / different / missing; an address line ``elsewhere``) per trait
  and identifier type, an address compared where it is (``place_level``).
* ``weights``: m/u probabilities per level, log2 Bayes factors, a prior: the match weight and decision.
* ``blocking``: keys under which customers without a common identifier still meet to be scored.

Everything here is pure and fast; the graph (``processors.identity.graph``) calls it where two
customers would merge. How the default m/u values were obtained: ``defaults.py``.
"""
