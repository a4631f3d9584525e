//! Agreement between two partitions of the same items: adjusted Rand index, adjusted mutual
//! information (arithmetic normalisation, scikit-learn's default since 0.22) and pair counts.
//!
//! Everything is computed from the contingency table, never from the O(n²) pairs, so a
//! million-alert storm scores in well under a second.

use rustc_hash::FxHashMap;

/// The contingency table of two labelings of `n` items: the non-zero cells and the marginals.
#[derive(Debug, Clone)]
pub struct Contingency {
    pub n: u64,
    /// Sizes of the clusters of the first labeling (rows).
    pub row_sizes: Vec<u64>,
    /// Sizes of the clusters of the second labeling (columns).
    pub col_sizes: Vec<u64>,
    /// Non-zero cells `(row, col, count)`.
    pub cells: Vec<(usize, usize, u64)>,
}

impl Contingency {
    /// Builds the table from two label slices of equal length (labels are any dense ids).
    pub fn from_labels(truth: &[usize], predicted: &[usize]) -> Contingency {
        assert_eq!(
            truth.len(),
            predicted.len(),
            "labelings must cover the same items"
        );
        let mut row_ids: FxHashMap<usize, usize> = FxHashMap::default();
        let mut col_ids: FxHashMap<usize, usize> = FxHashMap::default();
        let mut row_sizes = Vec::new();
        let mut col_sizes = Vec::new();
        let mut cells: FxHashMap<(usize, usize), u64> = FxHashMap::default();
        for (&t, &p) in truth.iter().zip(predicted) {
            let r = *row_ids.entry(t).or_insert_with(|| {
                row_sizes.push(0);
                row_sizes.len() - 1
            });
            let c = *col_ids.entry(p).or_insert_with(|| {
                col_sizes.push(0);
                col_sizes.len() - 1
            });
            row_sizes[r] += 1;
            col_sizes[c] += 1;
            *cells.entry((r, c)).or_insert(0) += 1;
        }
        let mut cells: Vec<(usize, usize, u64)> =
            cells.into_iter().map(|((r, c), n)| (r, c, n)).collect();
        cells.sort_unstable();
        Contingency {
            n: truth.len() as u64,
            row_sizes,
            col_sizes,
            cells,
        }
    }

    /// Pairs of items together in both labelings, in the rows only, in the columns only.
    pub fn pair_counts(&self) -> PairCounts {
        let together_both: f64 = self.cells.iter().map(|c| choose2(c.2)).sum();
        let together_rows: f64 = self.row_sizes.iter().map(|&a| choose2(a)).sum();
        let together_cols: f64 = self.col_sizes.iter().map(|&b| choose2(b)).sum();
        PairCounts {
            total: choose2(self.n),
            together_both,
            together_truth: together_rows,
            together_predicted: together_cols,
        }
    }
}

fn choose2(k: u64) -> f64 {
    let k = k as f64;
    k * (k - 1.0) / 2.0
}

/// Pair statistics, as unordered pairs (f64 because 1M items make 5·10¹¹ pairs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairCounts {
    pub total: f64,
    pub together_both: f64,
    pub together_truth: f64,
    pub together_predicted: f64,
}

impl PairCounts {
    /// Share of predicted pairs that are true pairs; 1 when nothing was paired (nothing wrong).
    pub fn precision(&self) -> f64 {
        if self.together_predicted == 0.0 {
            1.0
        } else {
            self.together_both / self.together_predicted
        }
    }

    /// Share of true pairs that were predicted; 1 when the truth has no pairs.
    pub fn recall(&self) -> f64 {
        if self.together_truth == 0.0 {
            1.0
        } else {
            self.together_both / self.together_truth
        }
    }
}

/// Adjusted Rand index (Hubert and Arabie), in the pair-confusion form scikit-learn uses so that
/// the degenerate cases agree with it: identical partitions score 1.
pub fn adjusted_rand_index(c: &Contingency) -> f64 {
    let p = c.pair_counts();
    let tp = p.together_both;
    let fp = p.together_predicted - tp;
    let fn_ = p.together_truth - tp;
    let tn = p.total - tp - fp - fn_;
    if fn_ == 0.0 && fp == 0.0 {
        return 1.0;
    }
    let num = 2.0 * (tp * tn - fn_ * fp);
    let den = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
    if den == 0.0 {
        1.0
    } else {
        num / den
    }
}

fn entropy(sizes: &[u64], n: u64) -> f64 {
    let n = n as f64;
    sizes
        .iter()
        .filter(|&&s| s > 0)
        .map(|&s| {
            let p = s as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Mutual information (natural log) of the two labelings.
pub fn mutual_information(c: &Contingency) -> f64 {
    let n = c.n as f64;
    c.cells
        .iter()
        .map(|&(r, col, nij)| {
            let nij = nij as f64;
            let a = c.row_sizes[r] as f64;
            let b = c.col_sizes[col] as f64;
            (nij / n) * (n * nij / (a * b)).ln()
        })
        .sum::<f64>()
        .max(0.0)
}

/// ln(k!) for k in 0..=n.
fn ln_factorials(n: u64) -> Vec<f64> {
    let mut out = Vec::with_capacity(n as usize + 1);
    let mut acc = 0.0f64;
    out.push(0.0);
    for k in 1..=n {
        acc += (k as f64).ln();
        out.push(acc);
    }
    out
}

/// Expected mutual information of two random labelings with the same marginals
/// (Vinh, Epps and Bailey 2010). The term depends on a cluster pair only through its two sizes,
/// so it is summed over distinct sizes with multiplicities: storms have thousands of singleton
/// clusters but few distinct sizes.
pub fn expected_mutual_information(c: &Contingency) -> f64 {
    let n = c.n;
    if n == 0 {
        return 0.0;
    }
    let lf = ln_factorials(n);
    let nf = n as f64;
    let multiplicities = |sizes: &[u64]| {
        let mut m: FxHashMap<u64, u64> = FxHashMap::default();
        for &s in sizes {
            *m.entry(s).or_insert(0) += 1;
        }
        let mut v: Vec<(u64, u64)> = m.into_iter().collect();
        v.sort_unstable();
        v
    };
    let rows = multiplicities(&c.row_sizes);
    let cols = multiplicities(&c.col_sizes);
    let mut emi = 0.0;
    for &(a, ka) in &rows {
        for &(b, kb) in &cols {
            let lo = (a + b).saturating_sub(n).max(1);
            let hi = a.min(b);
            let mut term = 0.0;
            // ln of the hypergeometric probability's constant part: a! b! (n-a)! (n-b)! / n!
            let constant =
                lf[a as usize] + lf[b as usize] + lf[(n - a) as usize] + lf[(n - b) as usize]
                    - lf[n as usize];
            for nij in lo..=hi {
                let ln_p = constant
                    - lf[nij as usize]
                    - lf[(a - nij) as usize]
                    - lf[(b - nij) as usize]
                    - lf[(n + nij - a - b) as usize];
                let x = nij as f64;
                term += (x / nf) * (nf * x / (a as f64 * b as f64)).ln() * ln_p.exp();
            }
            emi += term * (ka * kb) as f64;
        }
    }
    emi
}

/// Adjusted mutual information with the arithmetic mean of the entropies as normaliser.
pub fn adjusted_mutual_information(c: &Contingency) -> f64 {
    let (r, k) = (c.row_sizes.len(), c.col_sizes.len());
    // Both labelings a single cluster (or empty): identical, as scikit-learn defines it.
    if (r == 1 && k == 1) || (r == 0 && k == 0) {
        return 1.0;
    }
    let mi = mutual_information(c);
    let emi = expected_mutual_information(c);
    let h_true = entropy(&c.row_sizes, c.n);
    let h_pred = entropy(&c.col_sizes, c.n);
    let normaliser = (h_true + h_pred) / 2.0;
    let mut den = normaliser - emi;
    // Guard as scikit-learn does: keep the sign, avoid dividing by zero.
    if den < 0.0 {
        den = den.min(-f64::EPSILON);
    } else {
        den = den.max(f64::EPSILON);
    }
    (mi - emi) / den
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ari(t: &[usize], p: &[usize]) -> f64 {
        adjusted_rand_index(&Contingency::from_labels(t, p))
    }
    fn ami(t: &[usize], p: &[usize]) -> f64 {
        adjusted_mutual_information(&Contingency::from_labels(t, p))
    }

    #[test]
    fn ari_matches_scikit_learn_documented_examples() {
        // sklearn.metrics.adjusted_rand_score docstring examples.
        assert_eq!(ari(&[0, 0, 1, 1], &[0, 0, 1, 1]), 1.0);
        assert_eq!(ari(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
        assert!((ari(&[0, 0, 1, 2], &[0, 0, 1, 1]) - 0.5714285714285715).abs() < 1e-12);
        assert!((ari(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.5714285714285715).abs() < 1e-12);
        assert_eq!(ari(&[0, 0, 0, 0], &[0, 1, 2, 3]), 0.0);
        assert!((ari(&[0, 0, 1, 1], &[0, 1, 0, 1]) - (-0.5)).abs() < 1e-12);
    }

    #[test]
    fn ari_hand_worked_from_pairs() {
        // truth {a,b,c}{d,e}, predicted {a,b}{c,d,e}: 10 pairs; tp = ab + de = 2,
        // truth pairs 3+1 = 4, predicted pairs 1+3 = 4, so fp = 2, fn = 2, tn = 4.
        // ARI = 2(2·4 − 2·2) / ((2+2)(2+4) + (2+2)(2+4)) = 8/48.
        let v = ari(&[0, 0, 0, 1, 1], &[0, 0, 1, 1, 1]);
        assert!((v - 8.0 / 48.0).abs() < 1e-12, "{v}");
        let p = Contingency::from_labels(&[0, 0, 0, 1, 1], &[0, 0, 1, 1, 1]).pair_counts();
        assert_eq!(p.precision(), 0.5);
        assert_eq!(p.recall(), 0.5);
    }

    #[test]
    fn ami_matches_scikit_learn_reference_values() {
        // Reference values computed with scikit-learn 1.9.1 (adjusted_mutual_info_score,
        // mutual_info_score, expected_mutual_information; arithmetic normalisation).
        let a = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3];
        let b = [1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 3, 1, 3, 3, 3, 2, 2];
        let c = Contingency::from_labels(&a, &b);
        assert!((mutual_information(&c) - 0.3680508999942334).abs() < 1e-12);
        assert!((expected_mutual_information(&c) - 0.15687933588681321).abs() < 1e-12);
        assert!((adjusted_mutual_information(&c) - 0.25542164130818273).abs() < 1e-12);
        assert!((ami(&[1, 1, 2, 2], &[2, 2, 3, 3]) - 1.0).abs() < 1e-12);
        let a110: Vec<usize> = a.iter().copied().cycle().take(a.len() * 110).collect();
        let b110: Vec<usize> = b.iter().copied().cycle().take(b.len() * 110).collect();
        assert!((ami(&a110, &b110) - 0.3734910966707227).abs() < 1e-9);
        assert!((ami(&[0, 0, 0, 1, 1], &[0, 0, 1, 1, 1]) - 0.2512669357444356).abs() < 1e-12);
        let t = [0, 0, 0, 1, 1, 2, 3, 4];
        let p = [0, 0, 1, 1, 1, 2, 2, 5];
        assert!((ami(&t, &p) - 0.4085440976466575).abs() < 1e-12);
        // Docstring: a partition against all singletons carries no information.
        assert!(ami(&[0, 0, 0, 0], &[0, 1, 2, 3]).abs() < 1e-12);
    }

    #[test]
    fn singletons_everywhere_are_a_perfect_match() {
        let t: Vec<usize> = (0..50).collect();
        assert_eq!(ari(&t, &t), 1.0);
        assert!((ami(&t, &t) - 1.0).abs() < 1e-9);
    }
}
