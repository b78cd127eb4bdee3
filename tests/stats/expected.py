"""Expected figures for src/report/stats.rs, computed by statsmodels (pinned in
tests/requirements.txt): the 95 % Wilson interval (`proportion_confint(method="wilson")`),
Newcombe's hybrid score interval of a difference
(`confint_proportions_2indep(method="newcomb", compare="diff")`), and, for the respondents a
group would need for a gap to become evident, a plain linear search over group sizes with
statsmodels' interval (shares kept as observed, so counts need not be whole).

usage: expected.py   — prints the figures as JSON. The Rust unit tests hold a copy of them
(src/report/stats_tests.rs) and tests/report_stats.rs compares them with this script's output.
       expected.py --cases '{"wilson": [[x, n], ...], "newcombe": [[x1, n1, x2, n2], ...]}'
                     — the intervals of these cases (the cells and gaps of a report the test got
                     from the real endpoint), as the same JSON with the bounds appended.
"""

import json
import sys
import warnings

from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

WILSON = [(0, 1), (1, 1), (0, 5), (5, 5), (1, 7), (6, 7), (2, 8), (4, 48), (7, 8), (21, 28),
          (50, 100), (1, 1000), (999, 1000), (3, 12), (10, 11)]
NEWCOMBE = [(6, 7, 0, 8), (5, 6, 2, 8), (4, 48, 10, 50), (0, 10, 0, 10), (10, 10, 0, 10),
            (1, 7, 1, 8), (21, 28, 12, 28), (3, 12, 9, 12), (50, 100, 60, 100), (7, 8, 2, 8),
            (0, 5, 5, 5), (1, 1, 0, 1)]
# (share of the group that stays as it is, its size, share of the group that grows)
NEEDED = [(0.25, 48, 0.83), (0.5, 100, 0.6), (0.1, 200, 0.3), (0.83, 12, 0.25),
          (0.4, 10, 0.45), (0.0, 30, 0.2), (1.0, 20, 0.8), (0.6, 40, 0.5), (0.3, 25, 0.3)]
SEARCH_LIMIT = 20000


def newcombe(c1, n1, c2, n2):
    lo, hi = confint_proportions_2indep(c1, n1, c2, n2, method="newcomb", compare="diff")
    return float(lo), float(hi)


def needed(share, n, other):
    """Smallest size of the other group whose gap interval lies above 0, else None."""
    if share == other:
        return None
    for m in range(1, SEARCH_LIMIT + 1):
        a, na, b, nb = (share, n, other, m) if share > other else (other, m, share, n)
        if newcombe(a * na, na, b * nb, nb)[0] > 0:
            return m
    return None


def cases(spec):
    return {
        "wilson": [[c, n, *map(float, proportion_confint(c, n, alpha=0.05, method="wilson"))]
                   for c, n in spec["wilson"]],
        "newcombe": [[c1, n1, c2, n2, *newcombe(c1, n1, c2, n2)]
                     for c1, n1, c2, n2 in spec["newcombe"]],
    }


def main():
    warnings.simplefilter("ignore")
    if len(sys.argv) == 3 and sys.argv[1] == "--cases":
        print(json.dumps(cases(json.loads(sys.argv[2]))))
        return
    out = {
        "wilson": [[c, n, *map(float, proportion_confint(c, n, alpha=0.05, method="wilson"))]
                   for c, n in WILSON],
        "newcombe": [[c1, n1, c2, n2, *newcombe(c1, n1, c2, n2)]
                     for c1, n1, c2, n2 in NEWCOMBE],
        "needed": [[s, n, o, needed(s, n, o)] for s, n, o in NEEDED],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
