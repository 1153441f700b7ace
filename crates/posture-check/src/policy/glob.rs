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
}

/// Whether `text` contains a wildcard.
pub fn has_wildcard(text: &str) -> bool {
    text.bytes().any(|c| c == b'*' || c == b'?')
}

/// Whether `pattern` matches the literal `name`.
pub fn matches(pattern: &str, name: &str, case: Case) -> bool {
    let (p, t) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == b'?' || case.same(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if let Some((star, from)) = backtrack {
            pi = star + 1;
            ti = from + 1;
            backtrack = Some((star, from + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether some name is matched by both `a` and `b`.
pub fn intersects(a: &str, b: &str, case: Case) -> bool {
    if !has_wildcard(b) {
        return matches(a, b, case);
    }
    if !has_wildcard(a) {
        return matches(b, a, case);
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (n, m) = (a.len(), b.len());
    let width = m + 1;
    // ok[i * width + j]: the suffixes a[i..] and b[j..] can produce a common name.
    let mut ok = vec![false; (n + 1) * width];
    ok[n * width + m] = true;
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            if i == n && j == m {
                continue;
            }
            let at = |i: usize, j: usize| ok[i * width + j];
            let value = if i < n && a[i] == b'*' {
                // a's star produces nothing more, or absorbs what b[j] produces.
                at(i + 1, j) || (j < m && at(i, j + 1))
            } else if j < m && b[j] == b'*' {
                at(i, j + 1) || (i < n && at(i + 1, j))
            } else if i < n && j < m && (a[i] == b'?' || b[j] == b'?' || case.same(a[i], b[j])) {
                at(i + 1, j + 1)
            } else {
                false
            };
            ok[i * width + j] = value;
        }
    }
    ok[0]
}

/// Whether `outer` matches every name `inner` matches. Sound (a `true` is always right)
/// but not complete: a union of patterns covering `inner` only together is not seen, and
/// callers treat "not covered" as the cautious answer.
pub fn covers(outer: &str, inner: &str, case: Case) -> bool {
    if !has_wildcard(inner) {
        return matches(outer, inner, case);
    }
    let (o, t) = (outer.as_bytes(), inner.as_bytes());
    let (n, m) = (o.len(), t.len());
    let width = m + 1;
    // ok[i * width + j]: o[i..] matches everything t[j..] matches.
    let mut ok = vec![false; (n + 1) * width];
    ok[n * width + m] = true;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            let at = |i: usize, j: usize| ok[i * width + j];
            let value = match o[i] {
                // The outer star absorbs the inner token, whatever it is, or ends.
                b'*' => at(i + 1, j) || (j < m && at(i, j + 1)),
                // One character: any inner token but a star, which may produce several.
                b'?' => j < m && t[j] != b'*' && at(i + 1, j + 1),
                c => {
                    j < m && t[j] != b'*' && t[j] != b'?' && case.same(c, t[j]) && at(i + 1, j + 1)
                }
            };
            ok[i * width + j] = value;
        }
    }
    ok[0]
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
