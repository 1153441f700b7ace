//! The evaluator's tests, led by the regression cases named after the false positives
//! other tools report (issue 3, item 4).

use serde_json::{Value, json};

use super::*;

const BUCKET: &str = "arn:aws:s3:::phi";
const OBJECTS: &str = "arn:aws:s3:::phi/*";

fn policy(statements: Value) -> Policy {
    Policy::parse(&json!({"Version": "2012-10-17", "Statement": statements})).expect("a policy")
}

fn read_targets() -> [Target<'static>; 3] {
    [
        Target::new("s3:GetObject", OBJECTS),
        Target::new("s3:GetObjectVersion", OBJECTS),
        Target::new("s3:ListBucket", BUCKET),
    ]
}

fn write_targets() -> [Target<'static>; 4] {
    [
        Target::new("s3:PutObject", OBJECTS),
        Target::new("s3:DeleteObject", OBJECTS),
        Target::new("s3:PutBucketAcl", BUCKET),
        Target::new("s3:PutBucketPolicy", BUCKET),
    ]
}

fn public_get(extra: Value) -> Value {
    let mut s = json!({
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": OBJECTS
    });
    if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), extra) {
        s.extend(extra);
    }
    s
}

// ---- regression cases ---------------------------------------------------------------

#[test]
fn secure_transport_deny_on_objects_arn_makes_bucket_compliant() {
    let p = policy(json!([{
        "Sid": "DenyHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": OBJECTS,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }]));
    let t = p.insecure_transport_denial("s3:*", OBJECTS);
    assert_eq!(
        t.enforced_by.map(Statement::label).as_deref(),
        Some("DenyHttp")
    );

    // The bucket ARN alone leaves object requests over HTTP.
    let p = policy(json!([{
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": BUCKET,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }]));
    let t = p.insecure_transport_denial("s3:*", OBJECTS);
    assert_eq!(t.enforced_by, None);
    assert!(t.rejected[0].problem.contains("Resource"), "{t:?}");
}

#[test]
fn principal_star_limited_by_principal_org_id_is_not_public() {
    let p = policy(json!([public_get(json!({
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    }))]));
    let e = p.public_access(&read_targets());
    assert!(!e.is_public(), "{e:?}");
    assert_eq!(e.limited.len(), 1);
    assert_eq!(
        e.limited[0].evidence(),
        json!({
            "statement": "PublicRead",
            "covers": ["s3:GetObject"],
            "limited_by": ["StringEquals aws:PrincipalOrgID o-abc123"]
        })
    );
    // With IfExists an anonymous caller (no org) passes the test: still public.
    let p = policy(json!([public_get(json!({
        "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}
    }))]));
    assert!(p.public_access(&read_targets()).is_public());
}

#[test]
fn public_get_star_is_public_read_not_public_write() {
    let p = policy(json!([{
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:Get*",
        "Resource": OBJECTS
    }]));
    let read = p.public_access(&read_targets());
    assert_eq!(read.actions(), ["s3:GetObject", "s3:GetObjectVersion"]);
    let write = p.public_access(&write_targets());
    assert!(!write.is_public(), "{write:?}");
}

#[test]
fn explicit_deny_wins_over_public_allow() {
    let deny = json!({
        "Sid": "DenyAll",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": OBJECTS
    });
    let p = policy(json!([public_get(json!({})), deny]));
    let e = p.public_access(&read_targets());
    assert!(!e.is_public(), "{e:?}");
    assert_eq!(e.denied[0].evidence()["denied_by"], json!(["DenyAll"]));
    let d = p.allows(&Request::new(Caller::Anyone, "s3:GetObject", OBJECTS));
    assert_eq!(d.verdict, Verdict::ExplicitlyDenied);

    // A Deny outside the organization cancels it for every outsider too.
    let p = policy(json!([public_get(json!({})), {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": [BUCKET, OBJECTS],
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}
    }]));
    assert!(!p.public_access(&read_targets()).is_public());

    // A Deny with a condition the caller can avoid, or on fewer actions, does not.
    for deny in [
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": OBJECTS,
               "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObjectVersion",
               "Resource": OBJECTS}),
        json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
               "Action": "s3:*", "Resource": OBJECTS}),
        json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
               "Resource": "arn:aws:s3:::phi/private/*"}),
    ] {
        let p = policy(json!([public_get(json!({})), deny]));
        assert!(p.public_access(&read_targets()).is_public(), "{deny}");
    }
}

#[test]
fn condition_on_secure_transport_only_does_not_limit_exposure() {
    let p = policy(json!([public_get(json!({
        "Condition": {"Bool": {"aws:SecureTransport": "true"}}
    }))]));
    let e = p.public_access(&read_targets());
    assert!(e.is_public(), "{e:?}");
    assert_eq!(
        e.public[0].evidence()["conditions_not_limiting"],
        json!(["Bool aws:SecureTransport true"])
    );
}

#[test]
fn not_action_allow_is_treated_as_broad() {
    let p = policy(
        json!([{"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*",
                           "Resource": "*"}]),
    );
    let a = p.admin_access();
    assert!(a.is_admin());
    assert!(a.full.is_empty());
    assert_eq!(
        a.near_full[0].scope,
        AdminScope::AllActionsExcept(vec!["iam:*".into()])
    );
    assert!(
        a.near_full[0].scope.describe().contains("NotAction"),
        "{a:?}"
    );

    // In a resource policy, an Allow with NotAction grants the rest to anyone.
    let p = policy(
        json!([{"Effect": "Allow", "Principal": "*", "NotAction": "s3:Delete*",
                           "Resource": "*"}]),
    );
    assert_eq!(
        p.public_access(&read_targets()).actions(),
        ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
    );
    assert!(
        !p.public_access(&[Target::new("s3:DeleteObject", OBJECTS)])
            .is_public()
    );
}

#[test]
fn source_ip_any_range_is_still_public() {
    for range in [json!("0.0.0.0/0"), json!(["10.0.0.0/8", "::/0"])] {
        let p = policy(json!([public_get(json!({
            "Condition": {"IpAddress": {"aws:SourceIp": range}}
        }))]));
        assert!(p.public_access(&read_targets()).is_public(), "{range}");
    }
    let p = policy(json!([public_get(json!({
        "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}
    }))]));
    assert!(!p.public_access(&read_targets()).is_public());
}

#[test]
fn principal_account_root_is_not_public() {
    for principal in [
        json!({"AWS": "arn:aws:iam::111122223333:root"}),
        json!({"AWS": "111122223333"}),
        json!({"AWS": ["arn:aws:iam::444455556666:role/reader"]}),
    ] {
        let p = policy(
            json!([{"Effect": "Allow", "Principal": principal, "Action": "s3:*",
                               "Resource": OBJECTS}]),
        );
        assert!(!p.public_access(&read_targets()).is_public(), "{principal}");
        assert!(!p.is_public(), "{principal}");
    }
}

#[test]
fn service_principal_is_not_public() {
    let p = policy(json!([{
        "Sid": "CloudTrailWrite",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": OBJECTS
    }]));
    assert!(!p.public_access(&write_targets()).is_public());
    assert!(p.external_grants(&["111122223333"]).is_empty());
}

// ---- the general evaluator ----------------------------------------------------------

#[test]
fn public_forms_of_principal() {
    for principal in [
        json!({"Principal": "*"}),
        json!({"Principal": {"AWS": "*"}}),
        json!({"Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}}),
        json!({"NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}}),
    ] {
        let mut s = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECTS});
        if let (Some(s), Value::Object(p)) = (s.as_object_mut(), principal.clone()) {
            s.extend(p);
        }
        assert!(policy(json!([s])).is_public(), "{principal}");
    }
    let p = policy(
        json!([{"Effect": "Allow", "NotPrincipal": "*", "Action": "*",
                           "Resource": "*"}]),
    );
    assert!(!p.is_public());
}

#[test]
fn deny_with_not_principal_cancels_public_allow() {
    let p = policy(json!([public_get(json!({})), {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/app"},
        "Action": "s3:*",
        "Resource": OBJECTS
    }]));
    assert!(!p.public_access(&read_targets()).is_public());
}

#[test]
fn resources_decide_which_targets_a_statement_reaches() {
    // GetObject applies to objects, so an Allow on the bucket ARN grants no reads of them.
    let p = policy(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                           "Resource": BUCKET}]),
    );
    assert_eq!(
        p.public_access(&read_targets()).actions(),
        ["s3:ListBucket"]
    );
    // An Allow on part of the objects is a public read of that part.
    let p = policy(
        json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::phi/public/*"}]),
    );
    assert!(p.public_access(&read_targets()).is_public());
    // A Deny covering exactly what that Allow grants takes it away.
    let p = policy(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::phi/public/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:Get*",
         "Resource": "arn:aws:s3:::phi/public/*"}
    ]));
    assert!(!p.public_access(&read_targets()).is_public());
}

#[test]
fn identity_policy_allows_with_conditions_reported() {
    let p = policy(json!([
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"},
        {"Sid": "Mfa", "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": OBJECTS,
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
        {"Sid": "NoIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}
    ]));
    let get = p.allows(&Request::new(Caller::Holder, "s3:GetObject", OBJECTS));
    assert!(get.is_allowed());
    assert!(get.grants[0].conditions.is_empty());
    let delete = p.allows(&Request::new(Caller::Holder, "s3:DeleteObject", OBJECTS));
    assert!(delete.is_allowed());
    assert_eq!(delete.grants[0].conditions.len(), 1);
    let iam = p.allows(&Request::new(Caller::Holder, "iam:CreateUser", "*"));
    assert_eq!(iam.verdict, Verdict::ExplicitlyDenied);
    assert_eq!(iam.denied_by[0].label(), "NoIam");
    let ec2 = p.allows(&Request::new(Caller::Holder, "ec2:RunInstances", "*"));
    assert_eq!(ec2.verdict, Verdict::NotAllowed);
}

/// Issue 12: which conditions pin an administrator grant to named principals, and which
/// any session of a holder can meet (the conservative default).
#[test]
fn admin_conditions_pin_only_named_principals() {
    const ROLE: &str = "arn:aws:iam::111122223333:role/break-glass";
    let allow = |condition: Value| {
        policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
                       "Condition": condition}]))
    };
    let pinned = |p: &Policy| -> Vec<String> {
        let a = p.admin_access();
        assert!(a.is_admin(), "{a:?}");
        a.full[0].pinned_principals.clone()
    };
    for (condition, pins) in [
        (
            json!({"StringEquals": {"aws:PrincipalArn": ROLE}}),
            vec![ROLE],
        ),
        (
            json!({"ArnEquals": {"aws:PrincipalArn": [ROLE]}}),
            vec![ROLE],
        ),
        (
            json!({"StringEquals": {"aws:username": "breakglass"}}),
            vec!["breakglass"],
        ),
        (
            json!({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}}),
            vec!["AROAEXAMPLEID:*"],
        ),
        (
            json!({"StringEquals": {"aws:userid": "AROAEXAMPLEID:alice"}}),
            vec!["AROAEXAMPLEID:alice"],
        ),
        // Pinned and under MFA: still pinned (the conditions must all hold).
        (
            json!({"StringEquals": {"aws:PrincipalArn": ROLE},
                   "Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            vec![ROLE],
        ),
    ] {
        assert_eq!(pinned(&allow(condition.clone())), pins, "{condition}");
    }
    for condition in [
        json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
        json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}}),
        json!({"StringEquals": {"aws:SourceVpce": "vpce-1234"}}),
        json!({"StringEquals": {"aws:PrincipalTag/role": "admin"}}),
        json!({"StringEquals": {"aws:PrincipalAccount": "111122223333"}}),
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        json!({"StringEquals": {"example:UnknownKey": "x"}}),
        // A wildcard admits whoever can create a matching role.
        json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/admin-*"}}),
        // A policy variable matches every caller.
        json!({"StringEquals": {"aws:username": "${aws:username}"}}),
        // aws:userid pins only `ROLEID:*` or a fixed `ROLEID:session`: a wildcard in the
        // role id, an empty role id, or a wildcard in the session name (which the caller
        // chooses) admits other callers.
        json!({"StringLike": {"aws:userid": "AROA*:*"}}),
        json!({"StringLike": {"aws:userid": ":*"}}),
        json!({"StringLike": {"aws:userid": "AROAEXAMPLEID:ops-*"}}),
        // A negative test in an Allow admits everyone else.
        json!({"StringNotEquals": {"aws:PrincipalArn": ROLE}}),
        // IfExists and set qualifiers pass when the key is absent or empty.
        json!({"StringEqualsIfExists": {"aws:PrincipalArn": ROLE}}),
        json!({"ForAllValues:StringEquals": {"aws:PrincipalArn": ROLE}}),
    ] {
        assert_eq!(
            pinned(&allow(condition.clone())),
            Vec::<String>::new(),
            "{condition}"
        );
    }

    // A Deny of everything "unless you are the break-glass role" pins the Allow.
    let deny_others = policy(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalArn": ROLE}}}
    ]));
    assert_eq!(pinned(&deny_others), vec![ROLE]);
    // Unless the Deny has another test a session can avoid (here by presenting MFA).
    let avoidable = policy(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:PrincipalArn": ROLE},
                       "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
    ]));
    assert_eq!(pinned(&avoidable), Vec::<String>::new());
}

#[test]
fn admin_access_kinds() {
    let full = policy(json!([{"Sid": "All", "Effect": "Allow", "Action": "*:*",
                              "Resource": ["*"]}]));
    assert_eq!(full.admin_access().full[0].statement.label(), "All");

    // Issue 12: conditions any session can meet do not excuse an administrator.
    let mfa = policy(json!([{"Effect": "Allow", "Action": "*", "Resource": "*",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]));
    let a = mfa.admin_access();
    assert!(a.is_admin());
    assert_eq!(
        a.full[0].evidence()["conditions"],
        json!(["Bool aws:MultiFactorAuthPresent true"])
    );
    assert!(!a.full[0].is_pinned());

    let mfa_deny = policy(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
    ]));
    let a = mfa_deny.admin_access();
    assert!(a.is_admin());
    assert_eq!(
        a.full[0].evidence()["conditions"],
        json!(["BoolIfExists aws:MultiFactorAuthPresent false"])
    );

    let cancelled = policy(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "Nothing", "Effect": "Deny", "Action": "*", "Resource": "*"}
    ]));
    let a = cancelled.admin_access();
    assert!(!a.is_admin());
    assert_eq!(a.denied[0].evidence()["denied_by"], json!(["Nothing"]));

    let partial = policy(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "NoIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}
    ]));
    let a = partial.admin_access();
    assert!(a.is_admin());
    assert_eq!(
        a.near_full[0].scope,
        AdminScope::AllButDenied(vec!["NoIam".into()])
    );

    let not_resource = policy(json!([{"Effect": "Allow", "Action": "*",
                                      "NotResource": "arn:aws:s3:::audit/*"}]));
    assert!(not_resource.admin_access().is_admin());

    // `arn:*` is every resource too (every_resource: `*` or `arn:*`, not both).
    let arn_star = policy(json!([{"Sid": "ArnStar", "Effect": "Allow", "Action": "*",
                                  "Resource": "arn:*"}]));
    let a = arn_star.admin_access();
    assert_eq!(a.full.len(), 1, "{a:?}");
    assert_eq!(a.full[0].scope, AdminScope::Full);

    // A Deny that selects nothing the grant selects neither removes nor narrows it, and
    // is not reported against it: here the Allow excludes the very objects the Deny names.
    let disjoint = policy(json!([
        {"Sid": "AllButAudit", "Effect": "Allow", "Action": "*",
         "NotResource": "arn:aws:s3:::audit/*"},
        {"Sid": "AuditObject", "Effect": "Deny", "Action": "*",
         "Resource": "arn:aws:s3:::audit/2026.log"}
    ]));
    let a = disjoint.admin_access();
    assert_eq!(a.near_full.len(), 1, "{a:?}");
    assert!(a.near_full[0].denied_by.is_empty(), "{a:?}");
    assert_eq!(
        a.near_full[0].scope,
        AdminScope::AllResourcesExcept(vec!["arn:aws:s3:::audit/*".into()])
    );

    for narrow in [
        json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
        json!({"Effect": "Allow", "Action": "*", "Resource": OBJECTS}),
        json!({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        json!({"Effect": "Allow", "NotAction": "*", "Resource": "*"}),
    ] {
        let p = policy(json!([narrow]));
        assert_eq!(p.admin_access(), AdminAccess::default(), "{narrow}");
    }
}

#[test]
fn external_grants_name_untrusted_accounts() {
    let p = policy(json!([
        {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Partner", "Effect": "Allow",
         "Principal": {"AWS": ["arn:aws:iam::444455556666:role/reader", "777788889999"]},
         "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "ViaCondition", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": "999999999999"}}},
        {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}
    ]));
    let found: Vec<(String, Option<String>)> = p
        .external_grants(&["111122223333", "777788889999"])
        .iter()
        .map(|g| (g.statement.label(), g.account.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("Partner".to_owned(), Some("444455556666".to_owned())),
            ("ViaCondition".to_owned(), Some("999999999999".to_owned())),
        ]
    );
    let open = policy(json!([{"Sid": "Open", "Effect": "Allow", "Principal": "*",
                              "Action": "kms:*", "Resource": "*"}]));
    let g = open.external_grants(&["111122223333"]);
    assert_eq!((g.len(), g[0].account.as_deref()), (1, None));
}

#[test]
fn tls_deny_semantics() {
    let deny = |resource: Value, condition: Value| {
        json!({"Sid": "DenyHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
               "Resource": resource, "Condition": condition})
    };
    let narrowed = policy(json!([deny(
        json!(OBJECTS),
        json!({"Bool": {"aws:SecureTransport": "false"},
               "NumericLessThan": {"s3:TlsVersion": "1.2"}})
    )]));
    let t = narrowed.insecure_transport_denial("s3:*", OBJECTS);
    assert_eq!(t.enforced_by, None);
    assert_eq!(t.rejected[0].problem, NARROWED);

    let extra_key = policy(json!([deny(
        json!(OBJECTS),
        json!({"Bool": {"aws:SecureTransport": "false", "aws:ViaAWSService": "false"}})
    )]));
    assert_eq!(
        extra_key
            .insecure_transport_denial("s3:*", OBJECTS)
            .rejected[0]
            .problem,
        NARROWED
    );

    let not_action = policy(json!([{"Effect": "Deny", "Principal": {"AWS": "*"},
        "NotAction": "ec2:*", "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:SecureTransport": [false]}}}]));
    assert!(
        not_action
            .insecure_transport_denial("s3:*", OBJECTS)
            .enforced_by
            .is_some()
    );

    let not_principal = policy(json!([{"Effect": "Deny",
        "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*",
        "Resource": OBJECTS, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]));
    assert!(
        not_principal
            .insecure_transport_denial("s3:*", OBJECTS)
            .rejected[0]
            .problem
            .contains("Principal")
    );

    let string_equals = policy(json!([deny(
        json!(OBJECTS),
        json!({"StringEquals": {"aws:SecureTransport": "false"}})
    )]));
    assert!(
        string_equals
            .insecure_transport_denial("s3:*", OBJECTS)
            .rejected[0]
            .problem
            .contains("Bool")
    );
}

/// `NotPrincipal` on an `Allow` names who is left out: for an account caller, the named
/// account is left out and every other account is included; on a `Deny`, the named
/// account is exempt and every other account is refused.
#[test]
fn not_principal_for_account_callers() {
    let left_out = policy(json!([{"Sid": "AllBut", "Effect": "Allow",
        "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:root"},
        "Action": "s3:GetObject", "Resource": OBJECTS}]));
    fn asks<'p>(p: &'p Policy, account: &str) -> Decision<'p> {
        p.allows(&Request::new(
            Caller::Account(account),
            "s3:GetObject",
            OBJECTS,
        ))
    }
    assert_eq!(asks(&left_out, "444455556666").verdict, Verdict::NotAllowed);
    assert_eq!(asks(&left_out, "777788889999").verdict, Verdict::Allowed);

    let exempt = policy(json!([
        public_get(json!({})),
        {"Sid": "OnlyOwn", "Effect": "Deny",
         "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "s3:GetObject", "Resource": OBJECTS}
    ]));
    let d = asks(&exempt, "444455556666");
    assert_eq!(d.verdict, Verdict::ExplicitlyDenied);
    assert_eq!(d.overridden[0].by[0].label(), "OnlyOwn");
    assert_eq!(asks(&exempt, "111122223333").verdict, Verdict::Allowed);
}

/// A `Deny` naming an account (or anyone) refuses that account's callers.
#[test]
fn deny_naming_an_account_refuses_it() {
    for principal in [json!({"AWS": "444455556666"}), json!("*")] {
        let p = policy(json!([
            public_get(json!({})),
            {"Sid": "NoPartner", "Effect": "Deny", "Principal": principal,
             "Action": "s3:GetObject", "Resource": OBJECTS}
        ]));
        let d = p.allows(&Request::new(
            Caller::Account("444455556666"),
            "s3:GetObject",
            OBJECTS,
        ));
        assert_eq!(d.verdict, Verdict::ExplicitlyDenied, "{principal}");
    }
}

/// A `Deny` of part of the requested resources is not an explicit denial of the request.
#[test]
fn partial_deny_is_not_an_explicit_denial() {
    let p = policy(
        json!([{"Sid": "Secret", "Effect": "Deny", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::phi/secret/*"}]),
    );
    let d = p.allows(&Request::new(Caller::Holder, "s3:GetObject", OBJECTS));
    assert_eq!(d.verdict, Verdict::NotAllowed);
    assert!(d.denied_by.is_empty(), "{d:?}");
    let d = p.allows(&Request::new(
        Caller::Holder,
        "s3:GetObject",
        "arn:aws:s3:::phi/secret/a",
    ));
    assert_eq!(d.verdict, Verdict::ExplicitlyDenied);
}

/// A grant to anyone is reported once; a grant to a named account beside it is still
/// reported for that account.
#[test]
fn external_grants_keep_named_accounts_beside_an_open_grant() {
    let p = policy(json!([
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": OBJECTS},
        {"Sid": "Partner", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "s3:PutObject", "Resource": OBJECTS}
    ]));
    let found: Vec<(String, Option<String>)> = p
        .external_grants(&["111122223333"])
        .iter()
        .map(|g| (g.statement.label(), g.account.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("Open".to_owned(), None),
            ("Partner".to_owned(), Some("444455556666".to_owned())),
        ]
    );
}

/// A parse error names the element as written, so a reader finds it in the document.
#[test]
fn parse_errors_name_the_element_as_written() {
    for (element, other) in [("NotAction", "Resource"), ("Action", "Resource")] {
        let doc = json!({"Statement": [{"Effect": "Allow", element: 5, other: "*"}]});
        let e = Policy::parse(&doc)
            .expect_err("a number is no action")
            .to_string();
        assert!(e.contains(&format!("{element} is")), "{e}");
    }
    let doc = json!({"Statement": [{"Effect": "Allow", "Action": "*", "NotResource": 5}]});
    let e = Policy::parse(&doc)
        .expect_err("a number is no resource")
        .to_string();
    assert!(e.contains("NotResource is"), "{e}");
}

/// The four principal types parse, in any case; a federated or canonical-user principal
/// is neither public nor an account.
#[test]
fn every_principal_type_parses() {
    for (kind, name) in [
        ("Federated", "cognito-identity.amazonaws.com"),
        ("federated", "arn:aws:iam::111122223333:saml-provider/idp"),
        (
            "CanonicalUser",
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        ),
        (
            "canonicaluser",
            "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        ),
        ("Service", "cloudtrail.amazonaws.com"),
    ] {
        let p = policy(json!([{"Effect": "Allow", "Principal": {kind: name},
                               "Action": "s3:GetObject", "Resource": OBJECTS}]));
        assert!(!p.is_public(), "{kind}");
        assert!(p.external_grants(&["111122223333"]).is_empty(), "{kind}");
    }
    let e = Policy::parse(
        &json!({"Statement": [{"Effect": "Allow", "Principal": {"Robot": "r2"},
        "Action": "*", "Resource": "*"}]}),
    )
    .expect_err("an unknown principal type")
    .to_string();
    assert!(e.contains("unknown principal type \"Robot\""), "{e}");
}

/// An account id is exactly twelve digits: a unique id of twelve characters or a short
/// number is not one.
#[test]
fn account_ids_are_twelve_digits() {
    use super::statement::is_account_id;
    assert!(is_account_id("111122223333"));
    assert!(!is_account_id("AIDAEXAMPLE1"));
    assert!(!is_account_id("12345"));
    assert!(!is_account_id("1111222233334"));
}

/// A public statement refused by a `Deny` on several targets is reported once, with every
/// target and the `Deny` named once.
#[test]
fn a_denied_public_statement_is_reported_once() {
    let p = policy(json!([
        {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
         "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": OBJECTS},
        {"Sid": "NoOne", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": OBJECTS}
    ]));
    let e = p.public_access(&read_targets());
    assert!(!e.is_public());
    assert_eq!(e.denied.len(), 1, "{e:?}");
    assert_eq!(e.denied[0].statement.label(), "PublicRead");
    assert_eq!(e.denied[0].actions, ["s3:GetObject", "s3:GetObjectVersion"]);
    let by: Vec<String> = e.denied[0].by.iter().map(|s| s.label()).collect();
    assert_eq!(by, ["NoOne"]);
}

/// A grant to anyone that a condition on `aws:PrincipalArn` pins to another account's
/// principals is a grant to that account (it was found by no caller: not public, and the
/// account named nowhere else). A wildcard account field is a grant to anyone.
#[test]
fn external_grants_follow_principal_arn_to_its_account() {
    let p = policy(json!([
        {"Sid": "ViaArn", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": OBJECTS,
         "Condition": {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::999999999999:role/x"}}},
        {"Sid": "OwnRoles", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
         "Resource": OBJECTS,
         "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}},
        {"Sid": "AnyAccount", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
         "Resource": BUCKET,
         "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/reader"}}}
    ]));
    let found: Vec<(String, Option<String>)> = p
        .external_grants(&["111122223333"])
        .iter()
        .map(|g| (g.statement.label(), g.account.clone()))
        .collect();
    assert_eq!(
        found,
        [
            ("ViaArn".to_owned(), Some("999999999999".to_owned())),
            ("AnyAccount".to_owned(), None),
        ]
    );
}
