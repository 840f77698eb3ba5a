//! What a delivery came to: the `outcome` of its answer and log line, and the `Outcome` dimension of the
//! `Webhooks` metric. One enum, declared once below; its names, the list the operator's `status` reads
//! from CloudWatch ([`Outcome::NAMES`]) and the parsing of an answer are all derived from it.

orderbridge::named_enum! {
    /// What a delivery came to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Outcome {
        /// An order new to orderbridge.
        Created => "created",
        /// A newer state of a known order.
        Updated => "updated",
        /// An older state than the one kept: nothing changed.
        Stale => "stale",
        /// The same version with other content: kept for the operator.
        Conflict => "conflict",
        /// A delivery already applied.
        Duplicate => "duplicate",
        /// A refund recorded on its order.
        Recorded => "recorded",
        /// A refund already on its order.
        Unchanged => "unchanged",
        /// A refund for an order not yet known: it waits for the order.
        Parked => "parked",
        /// A compliance request queued for fulfillment-push.
        Queued => "queued",
        /// A topic or body orderbridge does nothing with.
        Ignored => "ignored",
        /// A delivery that can never be applied as it is, held for the operator (2xx).
        Held => "held",
        /// A delivery turned away (4xx).
        Rejected => "rejected",
        /// A verified delivery that failed for a passing reason (503): Genstore redelivers it.
        Failed => "failed",
    }
}

impl From<orderbridge::sync::Outcome> for Outcome {
    fn from(o: orderbridge::sync::Outcome) -> Self {
        match o {
            orderbridge::sync::Outcome::Created => Outcome::Created,
            orderbridge::sync::Outcome::Updated => Outcome::Updated,
            orderbridge::sync::Outcome::Stale => Outcome::Stale,
            orderbridge::sync::Outcome::Conflict => Outcome::Conflict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_has_one_name_and_reads_back() {
        assert_eq!(Outcome::ALL.len(), Outcome::NAMES.len());
        for (o, name) in Outcome::ALL.into_iter().zip(Outcome::NAMES) {
            assert_eq!(o.as_str(), name);
            assert_eq!(Outcome::from_name(name), Some(o));
        }
        let mut names = Outcome::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Outcome::NAMES.len(), "names are distinct");
        assert_eq!(Outcome::from_name("Created"), None);
    }

    /// The template's alarms name outcomes by their metric names: each must be one this enum declares.
    #[test]
    fn every_outcome_the_alarms_name_is_one_of_ours() {
        let template = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml"),
        )
        .unwrap();
        let named: Vec<&str> = template
            .split("{ Name: Outcome, Value: ")
            .skip(1)
            .filter_map(|rest| rest.split_once(' ').map(|(v, _)| v))
            .collect();
        assert!(named.len() >= 3, "the webhook alarms: {named:?}");
        for value in named {
            assert!(Outcome::from_name(value).is_some(), "{value} is no outcome");
        }
    }

    #[test]
    fn a_state_change_keeps_its_name() {
        for o in [
            orderbridge::sync::Outcome::Created,
            orderbridge::sync::Outcome::Updated,
            orderbridge::sync::Outcome::Stale,
            orderbridge::sync::Outcome::Conflict,
        ] {
            assert_eq!(Outcome::from(o).as_str(), o.as_str());
        }
    }
}
