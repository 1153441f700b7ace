//! IAM wildcard patterns (`*` any run, `?` one character), and the three questions the
//! evaluator asks of them: does a pattern match a name, can two patterns match a common
//! name, and does one pattern match every name another matches.
//!
//! The last two let the evaluator reason about sets of requests ("every object of the
//! bucket" is `arn:aws:s3:::bucket/*`, "every S3 action" is `s3:*`) rather than one
//! concrete request at a time.

/// Whether letters compare with or without regard to case. Actions, condition operators
/// and keys are case-insensitive in IAM; ARNs are case-sensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// `s3:getobject` is `s3:GetObject`.
    Insensitive,
    /// `arn:aws:s3:::A` is not `arn:aws:s3:::a`.
    Sensitive,
}

impl Case {
    fn same(self, a: u8, b: u8) -> bool {
        match self {
            Case::Insensitive => a.eq_ignore_ascii_case(&b),
            Case::Sensitive => a == b,
        }
    }

    fn same_char(self, a: char, b: char) -> bool {
        match self {
            Case::Insensitive => a.eq_ignore_ascii_case(&b),
            Case::Sensitive => a == b,
        }
    }
}

/// The length in bytes of the UTF-8 character that starts at `text[at]`.
fn char_len(text: &[u8], at: usize) -> usize {
    match text[at] {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Whether `text` contains a wildcard.
pub fn has_wildcard(text: &str) -> bool {
    text.bytes().any(|c| c == b'*' || c == b'?')
}

/// Whether `pattern` matches the literal `name`: `*` any run of characters, `?` exactly
/// one character (not one byte: `é` is two). Iterative (two pointers and one
/// backtrack point, no recursion): constant memory and at worst len(pattern) × len(name)
/// steps, however many stars the pattern has.
pub fn matches(pattern: &str, name: &str, case: Case) -> bool {
    let (p, t) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    // `ti` only ever stops on a character boundary of `name`: `?` and a star's retry
    // step over a whole character, and a literal compares a whole character byte by byte
    // (the pattern is UTF-8 too) or fails back to a boundary.
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == b'?' {
            pi += 1;
            ti += char_len(t, ti);
        } else if pi < p.len() && case.same(p[pi], t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((star, from)) = backtrack {
            let next = from + char_len(t, from);
            pi = star + 1;
            ti = next;
            backtrack = Some((star, next));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The most (pattern × pattern) cells [`intersects`] and [`covers`] will compare: two
/// 2,048-character patterns (the longest ARN AWS accepts) fit. Past it the answer is the
/// cautious one ("may overlap", "not covered"), so a hostile document cannot make one
/// comparison cost more than this; the tables keep one row, so memory is linear.
pub const MAX_CELLS: usize = 1 << 22;

fn within_budget(a: &str, b: &str) -> bool {
    (a.len() + 1).saturating_mul(b.len() + 1) <= MAX_CELLS
}

/// Whether some name is matched by both `a` and `b`. `true` when the pair is too large
/// to compare (see [`MAX_CELLS`]).
pub fn intersects(a: &str, b: &str, case: Case) -> bool {
    if !within_budget(a, b) {
        return true;
    }
    if !has_wildcard(b) {
        return matches(a, b, case);
    }
    if !has_wildcard(a) {
        return matches(b, a, case);
    }
    // By character, so that `?` stands for one character however many bytes it has.
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (n, m) = (a.len(), b.len());
    // row[j] for the current i: the suffixes a[i..] and b[j..] can produce a common
    // name; next[j] the same for i + 1.
    let mut next = vec![false; m + 1];
    let mut row = vec![false; m + 1];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            row[j] = if i == n && j == m {
                true
            } else if i < n && a[i] == '*' {
                // a's star produces nothing more, or absorbs what b[j] produces.
                next[j] || (j < m && row[j + 1])
            } else if j < m && b[j] == '*' {
                row[j + 1] || (i < n && next[j])
            } else if i < n && j < m && (a[i] == '?' || b[j] == '?' || case.same_char(a[i], b[j])) {
                next[j + 1]
            } else {
                false
            };
        }
        std::mem::swap(&mut next, &mut row);
    }
    next[0]
}

/// Whether `outer` matches every name `inner` matches. Sound (a `true` is always right)
/// but not complete: a union of patterns covering `inner` only together is not seen, and
/// callers treat "not covered" as the cautious answer, which is also the answer when the
/// pair is too large to compare (see [`MAX_CELLS`]).
pub fn covers(outer: &str, inner: &str, case: Case) -> bool {
    if !within_budget(outer, inner) {
        return false;
    }
    if !has_wildcard(inner) {
        return matches(outer, inner, case);
    }
    let (o, t): (Vec<char>, Vec<char>) = (outer.chars().collect(), inner.chars().collect());
    let (n, m) = (o.len(), t.len());
    // row[j] for the current i: o[i..] matches everything t[j..] matches; next[j] the
    // same for i + 1. The empty outer suffix covers only the empty inner one.
    let mut next = vec![false; m + 1];
    next[m] = true;
    let mut row = vec![false; m + 1];
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            row[j] = match o[i] {
                // The outer star absorbs the inner token, whatever it is, or ends.
                '*' => next[j] || (j < m && row[j + 1]),
                // One character: any inner token but a star, which may produce several.
                '?' => j < m && t[j] != '*' && next[j + 1],
                c => j < m && t[j] != '*' && t[j] != '?' && case.same_char(c, t[j]) && next[j + 1],
            };
        }
        std::mem::swap(&mut next, &mut row);
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::Case::{Insensitive, Sensitive};
    use super::*;

    #[test]
    fn matches_like_iam() {
        assert!(matches("s3:Get*", "s3:GetObject", Insensitive));
        assert!(matches("s3:getobject*", "s3:GetObject", Insensitive));
        assert!(matches("*", "s3:PutObject", Insensitive));
        assert!(matches("s3:?etObject", "s3:GetObject", Insensitive));
        assert!(!matches("s3:Get*", "s3:PutObject", Insensitive));
        assert!(!matches("s3:GetObject", "s3:GetObjectVersion", Insensitive));
        assert!(!matches("arn:aws:s3:::A/*", "arn:aws:s3:::a/x", Sensitive));
        assert!(matches("arn:aws:s3:::a*", "arn:aws:s3:::a/x", Sensitive));
    }

    #[test]
    fn intersects_finds_a_common_name() {
        assert!(intersects("s3:Get*", "s3:*", Insensitive));
        assert!(intersects("s3:*Object", "s3:Get*", Insensitive));
        assert!(intersects(
            "arn:aws:s3:::phi/*",
            "arn:aws:s3:::phi/public/*",
            Sensitive
        ));
        assert!(intersects("arn:aws:s3:::ph?/*", "*/x", Sensitive));
        assert!(!intersects("s3:Get*", "s3:Put*", Insensitive));
        assert!(!intersects(
            "arn:aws:s3:::phi",
            "arn:aws:s3:::phi/*",
            Sensitive
        ));
        assert!(!intersects("iam:*", "s3:*", Insensitive));
    }

    /// Regression: `intersects` and `covers` filled an (n+1)×(m+1) table, so two
    /// wildcarded 100,000-character patterns (an attacker's `Allow` and `Deny`) asked
    /// for 10^10 bytes and the scan aborted or stalled. Past the budget the answer is
    /// the cautious one: "may overlap", "not covered".
    #[test]
    fn glob_pair_of_huge_patterns_does_not_allocate_their_product() {
        let a = format!("*{}", "a*".repeat(50_000));
        let b = format!("{}*", "*b".repeat(50_000));
        assert!(intersects(&a, &b, Sensitive), "unsure: may overlap");
        assert!(!covers(&a, &b, Sensitive), "unsure: not covered");
        assert!(!covers(&b, &a, Sensitive));
        // A literal name as long: still decided exactly, and linearly.
        let name = "a".repeat(100_000);
        assert!(matches(&a, &name, Sensitive));
        assert!(!matches(&b, &name, Sensitive));
    }

    /// Regression (found by the hostile-input property tests): `?` consumed one byte,
    /// so `arn:aws:s3:::b/?` did not match an object key `é` (two bytes) and a `Deny`
    /// on such names did not apply where IAM applies it.
    #[test]
    fn question_mark_is_one_character_not_one_byte() {
        assert!(matches("?", "é", Sensitive));
        assert!(matches("b/?", "b/é", Sensitive));
        assert!(matches("*?", "é", Sensitive));
        assert!(matches("?x", "💥x", Insensitive));
        assert!(!matches("??", "é", Sensitive));
        assert!(!matches("?", "éé", Sensitive));
        assert!(matches("*é?", "aéé", Sensitive));
        assert!(intersects("?", "é*", Sensitive));
        assert!(!intersects("??", "é", Sensitive));
        assert!(covers("?", "é", Sensitive));
        assert!(covers("b/?*", "b/é*", Sensitive));
        assert!(!covers("b/??", "b/é", Sensitive));
    }

    /// Pathological wildcard runs against long names stay polynomial (no backtracking
    /// blow-up) and exact.
    #[test]
    fn pathological_star_runs_against_long_names() {
        let p = "*****a*****a*****a*****b";
        let long = "a".repeat(20_000);
        assert!(!matches(p, &long, Sensitive));
        assert!(matches(p, &format!("{long}b"), Sensitive));
        assert!(!intersects(p, &long, Sensitive));
        assert!(covers("*", p, Sensitive));
        assert!(!covers(p, "*a*", Sensitive));
        assert!(covers("*a*", p, Sensitive));
        assert!(intersects(p, "*?*?*?*", Sensitive));
        let q = format!("{}b", "*a".repeat(500));
        assert!(!intersects(
            &q,
            &format!("{}c", "a*".repeat(500)),
            Sensitive
        ));
        assert!(covers(&format!("{}*", "*a".repeat(200)), &q, Sensitive));
    }

    #[test]
    fn covers_is_set_inclusion() {
        assert!(covers("*", "s3:*", Insensitive));
        assert!(covers("s3:*", "s3:Get*", Insensitive));
        assert!(covers("S3:*", "s3:*", Insensitive));
        assert!(covers("*", "*:*", Insensitive));
        assert!(covers("*:*", "*:*", Insensitive));
        assert!(covers(
            "arn:aws:s3:::phi/*",
            "arn:aws:s3:::phi/public/*",
            Sensitive
        ));
        assert!(covers("arn:aws:s3:::phi*", "arn:aws:s3:::phi/*", Sensitive));
        assert!(covers("a?c", "a?c", Sensitive));
        assert!(!covers("s3:Get*", "s3:*", Insensitive));
        assert!(!covers("*:*", "*", Insensitive));
        assert!(!covers("a?", "a*", Sensitive));
        assert!(!covers("arn:aws:s3:::phi", "arn:aws:s3:::phi/*", Sensitive));
        assert!(!covers(
            "arn:aws:s3:::phi/p*",
            "arn:aws:s3:::phi/*",
            Sensitive
        ));
        assert!(!covers(
            "arn:aws:s3:::PHI/*",
            "arn:aws:s3:::phi/*",
            Sensitive
        ));
    }
}
