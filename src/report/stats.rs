//! The uncertainty of the report's shares (docs/report.md, "Statistics"): the 95 % Wilson score
//! interval of a proportion, Newcombe's hybrid score interval for the difference of two
//! independent proportions (his method 10, built from the two Wilson intervals), and how many
//! respondents a group would need for a gap of the size observed to become evident.
//! Checked against statsmodels (tests/stats/expected.py).

/// The two-sided 95 % normal quantile, z = Φ⁻¹(0.975).
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A closed interval `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    pub fn as_array(self) -> [f64; 2] {
        [self.lo, self.hi]
    }
}

/// Wilson's interval for a share `p` of `n` respondents (`p·n` need not be whole).
fn wilson_share(p: f64, n: f64) -> Interval {
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z_95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Interval {
        // At p = 0 and p = 1 the bounds are exactly 0 and 1; rounding must not move them.
        lo: if p <= 0.0 {
            0.0
        } else {
            (center - half).max(0.0)
        },
        hi: if p >= 1.0 {
            1.0
        } else {
            (center + half).min(1.0)
        },
    }
}

/// The 95 % Wilson score interval of `count` out of `n`; `None` when there is no respondent
/// (`n = 0`) or the count is impossible.
pub fn wilson(count: u64, n: u64) -> Option<Interval> {
    (n > 0 && count <= n).then(|| wilson_share(count as f64 / n as f64, n as f64))
}

/// Newcombe's hybrid score interval for `p1 − p2` from shares and group sizes.
fn newcombe_shares(p1: f64, n1: f64, p2: f64, n2: f64) -> Interval {
    let (w1, w2) = (wilson_share(p1, n1), wilson_share(p2, n2));
    let d = p1 - p2;
    Interval {
        lo: d - ((p1 - w1.lo).powi(2) + (w2.hi - p2).powi(2)).sqrt(),
        hi: d + ((w1.hi - p1).powi(2) + (p2 - w2.lo).powi(2)).sqrt(),
    }
}

/// The 95 % interval of the difference `count1/n1 − count2/n2` of two independent groups
/// (Newcombe 1998, method 10); `None` when either group is empty or a count is impossible.
pub fn newcombe(count1: u64, n1: u64, count2: u64, n2: u64) -> Option<Interval> {
    wilson(count1, n1)?;
    wilson(count2, n2)?;
    Some(newcombe_shares(
        count1 as f64 / n1 as f64,
        n1 as f64,
        count2 as f64 / n2 as f64,
        n2 as f64,
    ))
}

/// Is the gap between shares `a` (of `na`) and `b` (of `nb`) evident: does the interval of
/// the larger share minus the smaller one lie above 0?
fn evident_shares(a: f64, na: f64, b: f64, nb: f64) -> bool {
    let (hi, nhi, lo, nlo) = if a >= b {
        (a, na, b, nb)
    } else {
        (b, nb, a, na)
    };
    newcombe_shares(hi, nhi, lo, nlo).lo > 0.0
}

/// Above this size a group is "unreachable": the answer is `None`.
pub const MAX_GROUP_SIZE: u64 = 1_000_000;

/// The smallest size the other group would need for the gap between `fixed_share` (a group of
/// `fixed_n` that stays as it is, usually the larger one) and `other_share` to become evident,
/// **assuming both shares stay as observed** (the other group's count grows as
/// `other_share × size`, not necessarily a whole number). `None` when no size would do: the
/// shares are equal, or the fixed group's own uncertainty already covers the gap, or it would
/// take more than [`MAX_GROUP_SIZE`].
pub fn respondents_needed(fixed_share: f64, fixed_n: u64, other_share: f64) -> Option<u64> {
    if fixed_n == 0 || fixed_share == other_share {
        return None;
    }
    let fixed_n = fixed_n as f64;
    let evident = |m: u64| evident_shares(fixed_share, fixed_n, other_share, m as f64);
    // The other group's Wilson half-widths shrink as it grows, so `evident` turns true once
    // and stays true: find a size where it holds, then the first one by bisection.
    let mut hi = 1;
    while !evident(hi) {
        if hi >= MAX_GROUP_SIZE {
            return None;
        }
        hi = (hi * 2).min(MAX_GROUP_SIZE);
    }
    let mut lo = hi / 2; // not evident (or 0)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if evident(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
