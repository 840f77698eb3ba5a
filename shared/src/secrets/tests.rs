use super::*;

#[test]
fn references_are_told_from_literals() {
    assert_eq!(
        SecretRef::parse("ssm:/orderbridge/token"),
        SecretRef::Ssm("/orderbridge/token".into())
    );
    assert_eq!(
        SecretRef::parse("secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x"),
        SecretRef::SecretsManager("arn:aws:secretsmanager:eu-west-1:1:secret:x".into())
    );
    assert_eq!(
        SecretRef::parse(" shh "),
        SecretRef::Literal(Secret::new("shh"))
    );
}
