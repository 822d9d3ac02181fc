"""Grader effects (R-FAIR-1) and the proposal they lead to (R-FAIR-2): pure numpy, no ORM.

The model, for script i marked by grader g(i), of qualification q(i) and subject s(i):

    mark_i = a_g(i) + b_q(i) + c_s(i) + e_i,     e_i independent, mean 0, variance sigma²

fitted by ordinary least squares (the first level of each covariate is the reference,
b = c = 0 there). A grader's effect is his intercept minus the script-weighted mean of
all intercepts, E_g = a_g - sum_h (n_h / N) a_h: the effects sum to zero weighted by the
graders' script counts, so E_g reads "points above the marks the same scripts would get
from the average grader of the academy", the regulation's "grader's mean against the
overall mean" once the mix of qualifications and subjects is taken out. E_g does not
depend on which levels are the references.

The fit never builds the N × p design matrix: the normal equations are written from
counts (bincount) and the grader block, diagonal, is eliminated (Schur complement), so
the cost is O(N + G·k²) for G graders and k covariate levels — a few milliseconds at
60,000 scripts and 650 graders. Standard errors come from the residual variance
(homoscedastic OLS), the 95 % interval from Student's t with N - p degrees of freedom.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

import numpy as np
from numpy.typing import NDArray

LENIENT = "lenient"
SEVERE = "severe"
TO_REVIEW = "to_review"
CONFIDENCE = 0.95


@dataclass(frozen=True)
class GraderEffect:
    """One grader's row: `grader` is the caller's code for him (an id, a position)."""

    grader: int
    scripts: int
    mean: float
    naive: float  # his mean minus the overall mean, without adjustment
    effect: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    flag: str | None


@dataclass(frozen=True)
class EffectsFit:
    effects: list[GraderEffect]
    count: int
    mean: float | None
    sigma: float | None  # residual standard deviation
    df: int  # residual degrees of freedom
    t: float | None  # the quantile used for the intervals


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's continued fraction of the incomplete beta function (Numerical Recipes)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(value: float, df: float) -> float:
    """Student's t distribution function."""
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + value * value))
    return 1.0 - tail if value >= 0 else tail


def t_quantile(probability: float, df: float) -> float:
    """Student's t quantile, by bisection on `t_cdf` (exact to 1e-10; no scipy needed)."""
    if not 0.0 < probability < 1.0 or df <= 0:
        raise ValueError("probability in (0, 1) and df > 0 expected")
    if probability < 0.5:
        return -t_quantile(1.0 - probability, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < probability:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_cdf(middle, df) < probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-10:
            break
    return (low + high) / 2.0


def effect_flag(
    *, effect: float, ci_low: float | None, ci_high: float | None, tolerance: float
) -> str | None:
    """R-FAIR-1: `lenient` / `severe` when the whole interval lies beyond the tolerance,
    `to_review` when only the estimate does, else None."""
    if ci_low is not None and ci_low > tolerance:
        return LENIENT
    if ci_high is not None and ci_high < -tolerance:
        return SEVERE
    if abs(effect) > tolerance:
        return TO_REVIEW
    return None


def _codes(values: NDArray) -> tuple[NDArray, NDArray[np.int64]]:
    levels, inverse = np.unique(np.asarray(values), return_inverse=True)
    return levels, inverse.astype(np.int64).reshape(-1)


def grader_effects_fit(
    *,
    marks: Sequence[float] | NDArray,
    graders: Sequence[int] | NDArray,
    covariates: Sequence[Sequence[int] | NDArray] = (),
    tolerance: float = 2.0,
    confidence: float = CONFIDENCE,
) -> EffectsFit:
    """Each grader's effect with its interval and flag, adjusted for the covariates
    (qualification, subject: one array of codes each, aligned with `marks`).

    Only numeric marks are passed (special marks are not marks). A grader with one
    script gets an effect and a wide interval (his one mark against the model); with no
    residual degree of freedom at all there is no interval and no firm flag.
    """
    y = np.asarray(marks, dtype=np.float64).reshape(-1)
    grader_levels, g = _codes(np.asarray(graders, dtype=np.int64))
    n_total = int(y.shape[0])
    if n_total == 0:
        return EffectsFit(effects=[], count=0, mean=None, sigma=None, df=0, t=None)
    if any(np.asarray(c).shape[0] != n_total for c in covariates) or g.shape[0] != n_total:
        raise ValueError("marks, graders and covariates must be aligned")
    n_graders = int(grader_levels.shape[0])
    counts = np.bincount(g, minlength=n_graders).astype(np.float64)
    sums = np.bincount(g, weights=y, minlength=n_graders)

    # Covariate columns: every level but the first of each covariate, as one code per
    # script (-1 on its reference level).
    columns: list[NDArray[np.int64]] = []
    offset = 0
    for covariate in covariates:
        levels, codes = _codes(np.asarray(covariate))
        columns.append(np.where(codes > 0, codes - 1 + offset, -1))
        offset += int(levels.shape[0]) - 1
    k = offset

    # Normal equations [[D, B], [B', C]] [a; b] = [Xg'y; Xc'y], D = diag(counts).
    b_block = np.zeros((n_graders, k))
    c_block = np.zeros((k, k))
    xc_y = np.zeros(k)
    for j, col in enumerate(columns):
        on = col >= 0
        b_block += np.bincount(g[on] * k + col[on], minlength=n_graders * k).reshape(n_graders, k)
        xc_y += np.bincount(col[on], weights=y[on], minlength=k)
        for other in columns[j:]:
            both = on & (other >= 0)
            cross = np.bincount(col[both] * k + other[both], minlength=k * k).reshape(k, k)
            c_block += cross if other is col else cross + cross.T
    inverse_counts = 1.0 / counts
    m_block = b_block * inverse_counts[:, None]  # D⁻¹B
    schur = c_block - b_block.T @ m_block
    schur_inverse = np.linalg.pinv(schur, hermitian=True) if k else np.zeros((0, 0))
    rank = int(np.linalg.matrix_rank(schur, hermitian=True)) if k else 0
    beta = schur_inverse @ (xc_y - m_block.T @ sums) if k else np.zeros(0)
    alpha = inverse_counts * (sums - b_block @ beta)

    fitted = alpha[g]
    for col in columns:
        on = col >= 0
        fitted[on] += beta[col[on]]
    residuals = y - fitted
    df = n_total - n_graders - rank
    weights = counts / n_total
    effects = alpha - float(weights @ alpha)
    mean = float(y.mean())

    sigma: float | None = None
    t: float | None = None
    se = np.full(n_graders, np.nan)
    if df > 0:
        sigma = math.sqrt(float(residuals @ residuals) / df)
        # Var(a) = sigma² (D⁻¹ + M S⁻¹ M'), and E = (I - 1w') a.
        ms = m_block @ schur_inverse
        v_diag = inverse_counts + np.einsum("ij,ij->i", ms, m_block)
        v_w = inverse_counts * weights + ms @ (m_block.T @ weights)
        w_v_w = float(weights @ v_w)
        variance = np.maximum(v_diag - 2.0 * v_w + w_v_w, 0.0)
        se = sigma * np.sqrt(variance)
        t = t_quantile(0.5 + confidence / 2.0, df)

    rows = []
    for index in range(n_graders):
        effect = float(effects[index])
        ci_low: float | None = None
        ci_high: float | None = None
        if t is not None and not math.isnan(se[index]):
            ci_low = effect - t * float(se[index])
            ci_high = effect + t * float(se[index])
        rows.append(
            GraderEffect(
                grader=int(grader_levels[index]),
                scripts=int(counts[index]),
                mean=float(sums[index] / counts[index]),
                naive=float(sums[index] / counts[index]) - mean,
                effect=effect,
                se=float(se[index]) if ci_low is not None else None,
                ci_low=ci_low,
                ci_high=ci_high,
                flag=effect_flag(
                    effect=effect, ci_low=ci_low, ci_high=ci_high, tolerance=tolerance
                ),
            )
        )
    return EffectsFit(effects=rows, count=n_total, mean=mean, sigma=sigma, df=df, t=t)


def proposal_points(*, effect: float, step: Decimal) -> Decimal:
    """R-FAIR-2: the effect's size rounded towards zero to the exam's step (0 = nothing)."""
    if step <= 0:
        raise ValueError("step must be positive")
    size = Decimal(str(abs(effect)))
    return (size / step).to_integral_value(rounding=ROUND_DOWN) * step


def proposal_action(*, flag: str | None, effect: float, step: Decimal) -> dict | None:
    """The scenario action for a flagged grader: lower a lenient one, raise a severe one,
    by `proposal_points`; None when he is not flagged so or the points round to 0."""
    if flag not in (LENIENT, SEVERE):
        return None
    points = proposal_points(effect=effect, step=step)
    if points == 0:
        return None
    return {"type": "lower" if flag == LENIENT else "raise", "points": float(points)}
