//! `alb_http_to_https_redirect`: no HTTP listener of an Application Load Balancer serves
//! requests over plain HTTP; each redirects to HTTPS (or answers with a fixed response).
//!
//! A listener passes when neither its default action nor any of its rules forwards to a
//! target or redirects somewhere other than HTTPS: a default redirect with one rule that
//! forwards `/api/*` still serves that path in clear text (AWS Config's
//! `alb-http-to-https-redirection-check` fails such forwarding too).

use posture_model::resources::ListenerAction;
use posture_model::{Observed, Resource, ResourceBody, ResourceKind, Severity};
use serde_json::json;

use super::label;
use crate::{Ctx, Outcome, Rule, RuleMeta, try_observed};

/// See the module docs.
#[derive(Debug)]
pub struct AlbHttpToHttpsRedirect;

static META: RuleMeta = RuleMeta {
    id: "alb_http_to_https_redirect",
    title: "Application Load Balancer HTTP listeners redirect to HTTPS",
    severity: Severity::High,
    subject: ResourceKind::LoadBalancer,
    rationale: "An HTTP listener that forwards requests lets clients send and receive ePHI \
                unencrypted; redirecting every request to HTTPS keeps all application traffic \
                encrypted in transit (164.312(e)(1), 164.312(e)(2)(i), 164.312(e)(2)(ii), \
                164.312(a)(2)(iv), 164.308(a)(1)(ii)(B)).",
    remediation: "Set the HTTP listener's default action to a redirect to HTTPS (port 443, \
                  HTTP_301) and remove or change rules that forward (EC2 console > Load \
                  Balancers > Listeners and rules, or ModifyListener and ModifyRule with a \
                  redirect action whose Protocol is HTTPS).",
    api_calls: &[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
    ],
    params: &[],
};

fn describe(actions: &[ListenerAction]) -> Vec<String> {
    actions
        .iter()
        .map(|a| match &a.redirect_protocol {
            Some(p) => format!("{} to {p}", a.action_type),
            None => a.action_type.clone(),
        })
        .collect()
}

impl Rule for AlbHttpToHttpsRedirect {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::LoadBalancer(lb) = &subject.body else {
            return Outcome::not_applicable("not a load balancer");
        };
        if !lb.is_application() {
            return Outcome::not_applicable(format!(
                "applies to Application Load Balancers; this is a {} load balancer",
                lb.lb_type
            ))
            .with("lb_type", &lb.lb_type);
        }
        let Some(listeners) = try_observed!(lb.listeners, "the load balancer's listeners") else {
            return Outcome::error("the load balancer's listeners were not recorded");
        };
        let http: Vec<_> = listeners.iter().filter(|l| l.protocol == "HTTP").collect();
        if http.is_empty() {
            return Outcome::not_applicable("the load balancer has no HTTP listener")
                .with("listeners", listeners.iter().map(label).collect::<Vec<_>>());
        }
        let mut seen = Vec::new();
        let mut bad = Vec::new();
        for l in http {
            let name = label(l);
            if l.default_actions
                .iter()
                .any(ListenerAction::serves_plain_http)
            {
                bad.push(format!(
                    "{name}'s default action is {}",
                    describe(&l.default_actions).join(", ")
                ));
                seen.push(
                    json!({"listener": name, "default_actions": describe(&l.default_actions)}),
                );
                continue;
            }
            let rules = match &l.rules {
                Observed::Collected(r) => r,
                Observed::Absent => {
                    return Outcome::error(format!(
                        "the rules of listener {name} were not recorded"
                    ));
                }
                Observed::Unavailable(why) => {
                    return Outcome::unavailable(&format!("the rules of listener {name}"), why);
                }
            };
            let plain: Vec<String> = rules
                .iter()
                .filter(|r| {
                    !r.is_default && r.actions.iter().any(ListenerAction::serves_plain_http)
                })
                .map(|r| {
                    format!(
                        "priority {} ({})",
                        r.priority,
                        describe(&r.actions).join(", ")
                    )
                })
                .collect();
            if !plain.is_empty() {
                bad.push(format!(
                    "{name} has rules serving plain HTTP: {}",
                    plain.join(", ")
                ));
            }
            seen.push(json!({
                "listener": name,
                "default_actions": describe(&l.default_actions),
                "rules_serving_plain_http": plain,
            }));
        }
        let outcome = if bad.is_empty() {
            Outcome::pass("every HTTP listener redirects to HTTPS")
        } else {
            Outcome::fail(bad.join("; "))
        };
        outcome.with("http_listeners", seen)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::{Observed, Status};

    use super::*;
    use crate::rules::elb::fixtures::*;
    use crate::testing::*;

    #[test]
    fn pass_when_default_redirects_and_no_rule_forwards() {
        let o = expect(
            run(&AlbHttpToHttpsRedirect, &lb_resource(alb()), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["http_listeners"][0]["default_actions"],
            serde_json::json!(["redirect to HTTPS"])
        );
    }

    #[test]
    fn pass_with_fixed_response_default_and_redirect_rules() {
        let mut lb = alb();
        let l = &mut listeners(&mut lb)[1];
        l.default_actions = vec![act("fixed-response", None)];
        l.rules = Observed::Collected(vec![
            rule("5", act("redirect", Some("HTTPS"))),
            rule("default", act("fixed-response", None)),
        ]);
        let o = expect(
            run(&AlbHttpToHttpsRedirect, &lb_resource(lb), &[]),
            Status::Pass,
        );
        assert_eq!(
            o.evidence["http_listeners"][0]["default_actions"],
            serde_json::json!(["fixed-response"])
        );
    }

    #[test]
    fn fail_when_default_forwards() {
        let mut lb = alb();
        listeners(&mut lb)[1] = plain_listener("HTTP", 80, act("forward", None));
        let o = expect(
            run(&AlbHttpToHttpsRedirect, &lb_resource(lb), &[]),
            Status::Fail,
        );
        assert!(
            o.reason.contains("HTTP:80's default action is forward"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn fail_when_a_rule_forwards_or_redirects_to_http() {
        let mut lb = alb();
        listeners(&mut lb)[1].rules = Observed::Collected(vec![
            rule("1", act("forward", None)),
            rule("2", act("redirect", Some("#{protocol}"))),
            rule("default", act("redirect", Some("HTTPS"))),
        ]);
        let o = expect(
            run(&AlbHttpToHttpsRedirect, &lb_resource(lb), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("priority 1 (forward)"), "{}", o.reason);
        assert!(
            o.reason.contains("priority 2 (redirect to #{protocol})"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn error_when_rules_unavailable() {
        let mut lb = alb();
        listeners(&mut lb)[1].rules = denied("elasticloadbalancing:DescribeRules");
        let o = expect(
            run(&AlbHttpToHttpsRedirect, &lb_resource(lb), &[]),
            Status::Error,
        );
        assert!(o.reason.contains("DescribeRules"), "{}", o.reason);
    }

    #[test]
    fn not_applicable_without_http_listener_or_to_nlb() {
        let mut lb = alb();
        listeners(&mut lb).retain(|l| l.protocol != "HTTP");
        let o = expect(
            run(&AlbHttpToHttpsRedirect, &lb_resource(lb), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["listeners"], serde_json::json!(["HTTPS:443"]));
        expect(
            run(&AlbHttpToHttpsRedirect, &lb_resource(nlb()), &[]),
            Status::NotApplicable,
        );
    }
}
