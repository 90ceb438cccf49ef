"""Claim matching: is a sentence a corroboration or an update of a known claim, or a new claim?

Public API: :class:`ClaimMatcher` (``match``, ``match_many``, ``explain``), :class:`ClaimMatch`,
:func:`claims_from_yaml_data` / :func:`claim_to_yaml_data`, :func:`extract_quantities` and :func:`evaluate`.
"""

from analysis.claims.evaluate import EvalReport, Example, evaluate, examples_from_records
from analysis.claims.matcher import ClaimMatch, ClaimMatcher, Explanation
from analysis.claims.model import Claim, ClaimDataError, Figure, claim_to_yaml_data, claims_from_yaml_data
from analysis.claims.quantities import Quantity, extract_quantities

__all__ = [
    "Claim",
    "ClaimDataError",
    "ClaimMatch",
    "ClaimMatcher",
    "EvalReport",
    "Example",
    "Explanation",
    "Figure",
    "Quantity",
    "claim_to_yaml_data",
    "claims_from_yaml_data",
    "evaluate",
    "examples_from_records",
    "extract_quantities",
]
