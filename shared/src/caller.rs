//! Which function is talking to AWS: each of the three names itself on every AWS request it sends
//! (`app/{name}` in the user agent, the SDK's own convention), so a recording of the requests an emulator
//! received tells the functions apart. The role test (`tests/roles.rs`) holds each function's requests
//! to the role the SAM template gives it; requests without a name (operators, test set-up) are not a
//! function's.

crate::named_enum! {
    /// One of the three Lambda functions; its name is its crate and binary name, which is also what
    /// its requests carry as `app/{name}`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Function {
        /// webhook-ingest.
        WebhookIngest => "webhook-ingest",
        /// order-poller.
        OrderPoller => "order-poller",
        /// fulfillment-push.
        FulfillmentPush => "fulfillment-push",
    }
}

impl Function {
    /// The function a user agent names (`… app/webhook-ingest …`), if any.
    pub fn in_user_agent(user_agent: &str) -> Option<Function> {
        user_agent
            .split_whitespace()
            .filter_map(|part| part.strip_prefix("app/"))
            .find_map(Function::from_name)
    }

    /// The user agent its hand-signed requests (SSM, Secrets Manager) carry.
    pub fn user_agent(self) -> String {
        format!(
            "orderbridge/{} app/{}",
            env!("CARGO_PKG_VERSION"),
            self.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Function;

    #[test]
    fn a_user_agent_names_its_function_and_nothing_else_does() {
        for f in Function::ALL {
            assert_eq!(Function::in_user_agent(&f.user_agent()), Some(f));
            let sdk = format!(
                "aws-sdk-rust/1.3 os/linux lang/rust/1.95 app/{}",
                f.as_str()
            );
            assert_eq!(Function::in_user_agent(&sdk), Some(f));
        }
        assert_eq!(Function::in_user_agent("aws-sdk-rust/1.3 os/linux"), None);
        assert_eq!(Function::in_user_agent("app/webhook-ingest-2"), None);
        assert_eq!(Function::in_user_agent(""), None);
    }
}
