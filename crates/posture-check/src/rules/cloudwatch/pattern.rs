//! CloudWatch Logs JSON filter patterns (`{ ($.eventName = X) || ($.errorCode = "*Y") }`),
//! parsed into clauses and put in disjunctive normal form, so that a pattern can be
//! compared with the clauses a rule requires whatever its whitespace, quoting, parentheses
//! and clause order.

use std::collections::BTreeSet;
use std::fmt;

/// How a clause compares its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `NOT EXISTS`
    NotExists,
    /// `IS NULL`
    IsNull,
    /// `IS TRUE`
    IsTrue,
    /// `IS FALSE`
    IsFalse,
}

/// One comparison, normalised: the selector without spaces, the value without quotes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Clause {
    /// `$.eventName`, `$.userIdentity.type`, ...
    pub field: String,
    /// The comparison.
    pub op: Op,
    /// The value compared with; `None` for the unary forms (`NOT EXISTS`, `IS NULL`, ...).
    pub value: Option<String>,
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::NotExists => "NOT EXISTS",
            Op::IsNull => "IS NULL",
            Op::IsTrue => "IS TRUE",
            Op::IsFalse => "IS FALSE",
        };
        match &self.value {
            Some(v) => write!(f, "{} {op} {v}", self.field),
            None => write!(f, "{} {op}", self.field),
        }
    }
}

/// A conjunction of clauses; a pattern is an OR of these.
pub(crate) type Conjunction = BTreeSet<Clause>;

/// More alternatives than this is not a monitoring pattern anyone writes; refuse it rather
/// than spend the evaluation on it.
const MAX_CONJUNCTIONS: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Selector(String),
    Op(Op),
    Value(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '&' if next == Some('&') => {
                tokens.push(Token::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                tokens.push(Token::Or);
                i += 2;
            }
            '!' if next == Some('=') => {
                tokens.push(Token::Op(Op::Ne));
                i += 2;
            }
            '<' | '>' => {
                let eq = next == Some('=');
                let op = match (c, eq) {
                    ('<', true) => Op::Le,
                    ('<', false) => Op::Lt,
                    (_, true) => Op::Ge,
                    _ => Op::Gt,
                };
                tokens.push(Token::Op(op));
                i += if eq { 2 } else { 1 };
            }
            '=' => {
                tokens.push(Token::Op(Op::Eq));
                i += 1;
            }
            '$' => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '=' | '!' | '<' | '>' | '(' | ')' | '&' | '|')
                {
                    i += 1;
                }
                tokens.push(Token::Selector(chars[start..i].iter().collect()));
            }
            '"' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("an unterminated quoted value".to_owned()),
                        Some('\\') => {
                            if let Some(&escaped) = chars.get(i + 1) {
                                value.push(escaped);
                            }
                            i += 2;
                        }
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Value(value));
            }
            _ => {
                let start = i;
                let ends_value = |j: usize| match chars.get(j) {
                    None | Some('(' | ')') => true,
                    Some(&c @ ('&' | '|')) => chars.get(j + 1) == Some(&c),
                    Some(c) => c.is_whitespace(),
                };
                while !ends_value(i) {
                    i += 1;
                }
                tokens.push(Token::Value(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    /// expr := and ('||' and)*
    fn expr(&mut self) -> Result<Vec<Conjunction>, String> {
        let mut out = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            out.extend(self.and()?);
            if out.len() > MAX_CONJUNCTIONS {
                return Err("too many alternatives".to_owned());
            }
        }
        Ok(out)
    }

    /// and := atom ('&&' atom)*
    fn and(&mut self) -> Result<Vec<Conjunction>, String> {
        let mut out = self.atom()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            let rhs = self.atom()?;
            if out.len().saturating_mul(rhs.len()) > MAX_CONJUNCTIONS {
                return Err("too many alternatives".to_owned());
            }
            out = out
                .iter()
                .flat_map(|l| {
                    rhs.iter().map(move |r| {
                        let mut c = l.clone();
                        c.extend(r.iter().cloned());
                        c
                    })
                })
                .collect();
        }
        Ok(out)
    }

    /// atom := '(' expr ')' | clause
    fn atom(&mut self) -> Result<Vec<Conjunction>, String> {
        match self.bump() {
            Some(Token::Open) => {
                let inner = self.expr()?;
                match self.bump() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err("an unbalanced parenthesis".to_owned()),
                }
            }
            Some(Token::Selector(field)) => {
                let clause = self.clause_after(field)?;
                Ok(vec![BTreeSet::from([clause])])
            }
            Some(other) => Err(format!(
                "{other:?} where a clause ($.field ...) was expected"
            )),
            None => Err("the pattern ends where a clause was expected".to_owned()),
        }
    }

    fn clause_after(&mut self, field: String) -> Result<Clause, String> {
        let unary = |op| Clause {
            field: field.clone(),
            op,
            value: None,
        };
        match self.bump() {
            Some(Token::Op(op)) => match self.bump() {
                Some(Token::Value(v)) => Ok(Clause {
                    field,
                    op,
                    value: Some(v),
                }),
                _ => Err(format!("no value after {field}")),
            },
            Some(Token::Value(word)) => {
                let second = match self.bump() {
                    Some(Token::Value(w)) => w,
                    _ => return Err(format!("no comparison after {field}")),
                };
                match (
                    word.to_ascii_uppercase().as_str(),
                    second.to_ascii_uppercase().as_str(),
                ) {
                    ("NOT", "EXISTS") => Ok(unary(Op::NotExists)),
                    ("IS", "NULL") => Ok(unary(Op::IsNull)),
                    ("IS", "TRUE") => Ok(unary(Op::IsTrue)),
                    ("IS", "FALSE") => Ok(unary(Op::IsFalse)),
                    _ => Err(format!("unknown comparison {word} {second} after {field}")),
                }
            }
            _ => Err(format!("no comparison after {field}")),
        }
    }
}

/// Parses a JSON filter pattern into its alternatives (an OR of ANDs of clauses), with
/// `&&` binding tighter than `||`. A pattern that is not a JSON filter pattern (space-
/// delimited terms, a regular expression) is an error: it names no event fields.
pub(crate) fn parse(pattern: &str) -> Result<Vec<Conjunction>, String> {
    let trimmed = pattern.trim();
    let body = trimmed
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(|| "not a JSON filter pattern ({ ... })".to_owned())?;
    let mut parser = Parser {
        tokens: tokenize(body)?,
        pos: 0,
    };
    let out = parser.expr()?;
    match parser.peek() {
        None => Ok(out),
        Some(t) => Err(format!("unexpected {t:?} after a complete expression")),
    }
}

/// Parses one clause (`$.eventName = CreateTrail`), as rules write what they require.
pub(crate) fn clause(text: &str) -> Result<Clause, String> {
    let conj = parse(&format!("{{ {text} }}"))?;
    match <[Conjunction; 1]>::try_from(conj) {
        Ok([c]) if c.len() == 1 => c.into_iter().next().ok_or_else(|| text.to_owned()),
        _ => Err(format!("{text} is not a single clause")),
    }
}

/// What a monitoring filter must match: every clause of `required` together with each one
/// of `any_of` (or `required` alone when `any_of` is empty). A filter's alternative covers
/// such a combination when it has all of its clauses and nothing else but clauses from
/// `optional` (known, harmless narrowings such as the event source).
#[derive(Debug)]
pub(crate) struct Requirement {
    /// Clauses every matching alternative has.
    pub required: &'static [&'static str],
    /// Alternatives, one of which goes with `required` (usually event names).
    pub any_of: &'static [&'static str],
    /// Clauses a filter may add without missing any event that matters.
    pub optional: &'static [&'static str],
}

impl Requirement {
    fn parsed(list: &[&str]) -> Vec<Clause> {
        list.iter().filter_map(|c| clause(c).ok()).collect()
    }

    /// The combinations of clauses the filter must cover.
    pub(crate) fn combinations(&self) -> Vec<Conjunction> {
        let required: Conjunction = Self::parsed(self.required).into_iter().collect();
        let any_of = Self::parsed(self.any_of);
        if any_of.is_empty() {
            return vec![required];
        }
        any_of
            .into_iter()
            .map(|a| {
                let mut c = required.clone();
                c.insert(a);
                c
            })
            .collect()
    }

    /// The combinations (as text) that no alternative of `alternatives` covers; empty when
    /// the filter covers them all.
    pub(crate) fn uncovered(&self, alternatives: &[Conjunction]) -> Vec<String> {
        let optional: Conjunction = Self::parsed(self.optional).into_iter().collect();
        self.combinations()
            .into_iter()
            .filter(|want| {
                !alternatives.iter().any(|have| {
                    want.is_subset(have)
                        && have
                            .iter()
                            .all(|c| want.contains(c) || optional.contains(c))
                })
            })
            .map(|want| {
                want.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" && ")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(text: &str) -> Clause {
        clause(text).expect("a clause")
    }

    #[test]
    fn parses_quotes_whitespace_and_operators_alike() {
        let a = parse(
            r#"{ ($.eventName = "ConsoleLogin") && ($.errorMessage = "Failed authentication") }"#,
        )
        .expect("parses");
        let b = parse(r#"{$.errorMessage="Failed authentication"&&$.eventName=ConsoleLogin}"#)
            .expect("parses");
        assert_eq!(a, b);
        assert_eq!(a.len(), 1);
        assert!(a[0].contains(&c(r#"$.errorMessage = "Failed authentication""#)));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let d = parse("{ $.a = 1 && $.b = 2 || $.c = 3 }").expect("parses");
        assert_eq!(d.len(), 2);
        let d = parse("{ $.a = 1 && ($.b = 2 || $.c = 3) }").expect("parses");
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|conj| conj.contains(&c("$.a = 1"))));
    }

    #[test]
    fn unary_and_negated_clauses() {
        let d = parse(
            r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        )
        .expect("parses");
        assert_eq!(d.len(), 1);
        assert!(d[0].contains(&Clause {
            field: "$.userIdentity.invokedBy".into(),
            op: Op::NotExists,
            value: None
        }));
        assert!(d[0].contains(&c("$.eventType != AwsServiceEvent")));
        assert_eq!(
            c("$.x IS NULL").to_string(),
            "$.x IS NULL",
            "unary clauses print back"
        );
    }

    #[test]
    fn wildcard_values_keep_their_stars() {
        let d = parse(
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
        )
        .expect("parses");
        assert_eq!(d.len(), 2);
        assert!(
            d.iter()
                .any(|x| x.contains(&c("$.errorCode = *UnauthorizedOperation")))
        );
    }

    #[test]
    fn rejects_what_is_not_a_json_pattern() {
        assert!(parse("ERROR Exception").is_err());
        assert!(parse("{ ($.a = 1 }").is_err());
        assert!(parse("{ $.a = }").is_err());
        assert!(parse("{ $.a = 1 $.b = 2 }").is_err());
        assert!(parse(r#"{ $.a = "open }"#).is_err());
    }

    #[test]
    fn substring_lookalikes_do_not_match() {
        static R: Requirement = Requirement {
            required: &[],
            any_of: &["$.eventName = CreateTrail"],
            optional: &[],
        };
        let d = parse("{ $.eventName = CreateTrailX }").expect("parses");
        assert_eq!(
            R.uncovered(&d),
            vec!["$.eventName = CreateTrail".to_owned()]
        );
        let d = parse("{ $.eventNameX = CreateTrail }").expect("parses");
        assert_eq!(R.uncovered(&d).len(), 1);
    }

    #[test]
    fn extra_narrowing_is_allowed_only_when_listed() {
        static R: Requirement = Requirement {
            required: &["$.eventName = ConsoleLogin"],
            any_of: &[],
            optional: &["$.userIdentity.type = IAMUser"],
        };
        let ok = parse("{ $.eventName = ConsoleLogin && $.userIdentity.type = IAMUser }")
            .expect("parses");
        assert!(R.uncovered(&ok).is_empty());
        let narrowed = parse("{ $.eventName = ConsoleLogin && $.userIdentity.userName = bob }")
            .expect("parses");
        assert_eq!(R.uncovered(&narrowed).len(), 1);
    }

    #[test]
    fn every_alternative_must_be_covered() {
        static R: Requirement = Requirement {
            required: &[],
            any_of: &[
                "$.eventName = DisableKey",
                "$.eventName = ScheduleKeyDeletion",
            ],
            optional: &["$.eventSource = kms.amazonaws.com"],
        };
        let full = parse(
            "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}",
        )
        .expect("parses");
        assert!(R.uncovered(&full).is_empty());
        let half = parse("{ $.eventName = DisableKey }").expect("parses");
        assert_eq!(
            R.uncovered(&half),
            vec!["$.eventName = ScheduleKeyDeletion".to_owned()]
        );
        let and_not_or = parse("{ $.eventName = DisableKey && $.eventName = ScheduleKeyDeletion }")
            .expect("parses");
        assert_eq!(R.uncovered(&and_not_or).len(), 2);
    }
}
