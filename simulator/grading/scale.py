"""The interview scale: how much of a rubric a design covers, told as the overall score an interviewer gives.

Category scores say how much of each concern a design covers (0-100). Interviewers do not turn coverage
into an overall score one for one. A candidate who draws a coherent happy path and little else still
earns something, and the last points of a strong design count a little less. Rating designs blind,
interviewers gave about ``13 + 0.87 x coverage``, where coverage is their own per-category ratings
weighted by the rubric's weights. The fit used the 35 designs of tests/calibration and nothing the
grader computes; ``python -m simulator calibrate`` prints the same fit for any rated folder.

So the overall score is ``13 + 0.87 x coverage``. An empty design, or one that passes nothing,
scores 0. The weighted coverage is kept beside it in the report.
"""
from __future__ import annotations

BASE_TENTHS = 130      # BASE = 13.0: the overall score of a design that covers the least and is not empty
SLOPE_PERCENT = 87     # SLOPE = 0.87: BASE + SLOPE x 100 = 100, a complete design is 100 on both scales


def interview_score(coverage: float) -> float:
    """The overall score (0-100, one decimal, halves rounded up) for a weighted coverage of 0-100.
    Computed in whole hundredths of a tenth, so 13 + 0.87 x 45 is 52.2 and not a float's 52.1."""
    if coverage <= 0:
        return 0.0
    tenths = round(coverage * 10)                              # coverage has one decimal
    score = (BASE_TENTHS * 100 + SLOPE_PERCENT * tenths + 50) // 100
    return min(100.0, score / 10)
