//! `ec2_ami_not_public`: no AMI the account owns is public (launchable by every AWS
//! account).

use posture_model::{Resource, ResourceBody, ResourceKind, Severity};

use crate::{Ctx, Outcome, Rule, RuleMeta};

/// See the module docs.
#[derive(Debug)]
pub struct Ec2AmiNotPublic;

static META: RuleMeta = RuleMeta {
    id: "ec2_ami_not_public",
    title: "AMI owned by the account is not public",
    severity: Severity::High,
    subject: ResourceKind::Image,
    rationale: "A public AMI lets any AWS account launch a copy of the image, with whatever \
                ePHI, credentials or configuration were baked into its snapshots; only the \
                workforce members authorized should have access (164.312(a)(1), \
                164.308(a)(3)(i)).",
    remediation: "Remove the public launch permission (aws ec2 modify-image-attribute \
                  --image-id ID --launch-permission \"Remove=[{Group=all}]\"), share with \
                  named accounts instead, and turn on AMI Block Public Access (aws ec2 \
                  enable-image-block-public-access --image-block-public-access-state \
                  block-new-sharing).",
    api_calls: &["ec2:DescribeImages"],
    params: &[],
};

impl Rule for Ec2AmiNotPublic {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, subject: &Resource, _ctx: &Ctx<'_>) -> Outcome {
        let ResourceBody::Image(image) = &subject.body else {
            return Outcome::not_applicable("not an AMI");
        };
        let id = &image.image_id;
        let label = match &image.name {
            Some(name) => format!("{id} ({name})"),
            None => id.clone(),
        };
        if image.state.as_deref() == Some("deregistered") {
            return Outcome::not_applicable(format!("AMI {label} is deregistered"))
                .with("state", &image.state);
        }
        let outcome = match image.public {
            Some(true) => Outcome::fail(format!(
                "AMI {label} is public: every AWS account can launch it"
            )),
            Some(false) => Outcome::pass(format!("AMI {label} is not public")),
            None => Outcome::error(format!(
                "DescribeImages did not say whether AMI {label} is public"
            )),
        };
        outcome
            .with("public", image.public)
            .with("state", &image.state)
    }
}

#[cfg(test)]
mod tests {
    use posture_model::Status;
    use posture_model::resources::Image;

    use super::*;
    use crate::testing::*;

    fn image(public: impl Into<Option<bool>>, state: &str) -> Resource {
        let public = public.into();
        resource(
            "arn:aws:ec2:us-east-1::image/ami-1",
            region(),
            ResourceBody::Image(Image {
                image_id: "ami-1".into(),
                name: Some("phi-golden".into()),
                public,
                state: Some(state.into()),
                creation_date: None,
            }),
        )
    }

    #[test]
    fn pass_when_private() {
        let o = expect(
            run(&Ec2AmiNotPublic, &image(false, "available"), &[]),
            Status::Pass,
        );
        assert_eq!(o.evidence["public"], false);
    }

    #[test]
    fn fail_when_public() {
        let o = expect(
            run(&Ec2AmiNotPublic, &image(true, "available"), &[]),
            Status::Fail,
        );
        assert!(o.reason.contains("phi-golden"), "{}", o.reason);
        assert_eq!(o.evidence["public"], true);
    }

    #[test]
    fn error_when_the_public_flag_is_missing() {
        let o = expect(
            run(&Ec2AmiNotPublic, &image(None, "available"), &[]),
            Status::Error,
        );
        assert_eq!(o.evidence["public"], serde_json::Value::Null);
    }

    #[test]
    fn error_when_listing_failed() {
        let f = crate::rules::ec2::fixtures::evaluate_with_gap(
            "ec2_ami_not_public",
            &[image(false, "available")],
            "ec2:DescribeImages",
            "arn:aws:ec2:us-east-1::image/ami-1",
        );
        assert_eq!(f.status, Status::Error, "{f:?}");
        assert!(f.reason.contains("ec2:DescribeImages"), "{}", f.reason);
    }

    #[test]
    fn not_applicable_when_deregistered() {
        let o = expect(
            run(&Ec2AmiNotPublic, &image(true, "deregistered"), &[]),
            Status::NotApplicable,
        );
        assert_eq!(o.evidence["state"], "deregistered");
    }
}
