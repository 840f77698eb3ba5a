//! Zonos order statuses: every documented one, both spellings of cancelled, and the rule of which
//! statuses block a vendor status update.

use crate::status::{self, UnifiedStatus};

crate::named_enum! {
    /// A Zonos order status. Zonos adds statuses and never removes them: an unlisted one is kept
    /// verbatim.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum ZonosStatus {
        /// `IGLOBAL_FRAUD_REVIEW`
        FraudReview => "IGLOBAL_FRAUD_REVIEW",
        /// `IGLOBAL_ORDER_IN_PROCESS`
        OrderInProcess => "IGLOBAL_ORDER_IN_PROCESS",
        /// `IGLOBAL_ORDER_ON_HOLD`
        OrderOnHold => "IGLOBAL_ORDER_ON_HOLD",
        /// `IGLOBAL_ORDER_CANCELLED` (some plugins spell it `IGLOBAL_ORDER_CANCELED`)
        OrderCancelled => "IGLOBAL_ORDER_CANCELLED",
        /// `IGLOBAL_LABELS_PROCESSING`
        LabelsProcessing => "IGLOBAL_LABELS_PROCESSING",
        /// `VENDOR_PREPARING_ORDER`
        VendorPreparingOrder => "VENDOR_PREPARING_ORDER",
        /// `VENDOR_SHIPMENT_READY`
        VendorShipmentReady => "VENDOR_SHIPMENT_READY",
        /// `VENDOR_LABELS_PRINTED_DATE`
        VendorLabelsPrinted => "VENDOR_LABELS_PRINTED_DATE",
        /// `VENDOR_CANCELLATION_REQUEST`
        VendorCancellationRequest => "VENDOR_CANCELLATION_REQUEST",
        /// `VENDOR_END_OF_DAY_COMPLETE`
        VendorEndOfDayComplete => "VENDOR_END_OF_DAY_COMPLETE";
        /// A status orderbridge does not know, verbatim.
        Other(String),
    }
}

impl ZonosStatus {
    /// Reads a status; unknown text is kept.
    pub fn parse(raw: &str) -> ZonosStatus {
        let t = raw.trim();
        if t.eq_ignore_ascii_case("IGLOBAL_ORDER_CANCELED") {
            return ZonosStatus::OrderCancelled;
        }
        ZonosStatus::known(t).unwrap_or_else(|| ZonosStatus::Other(t.to_owned()))
    }

    /// True while Zonos refuses vendor status changes: labels processing, on hold, fraud review,
    /// cancelled, a cancellation requested, or end of day complete.
    pub fn blocks_vendor_updates(&self) -> bool {
        matches!(
            self,
            ZonosStatus::LabelsProcessing
                | ZonosStatus::OrderOnHold
                | ZonosStatus::FraudReview
                | ZonosStatus::OrderCancelled
                | ZonosStatus::VendorCancellationRequest
                | ZonosStatus::VendorEndOfDayComplete
        )
    }

    /// True for the blocking statuses Zonos moves on from by itself (labels processing, on hold, fraud
    /// review): a vendor update refused in them waits for the next status instead of being dropped.
    pub fn blocks_vendor_updates_for_now(&self) -> bool {
        matches!(
            self,
            ZonosStatus::LabelsProcessing | ZonosStatus::OrderOnHold | ZonosStatus::FraudReview
        )
    }

    /// True for the statuses a vendor may set (`VENDOR_*`).
    pub fn is_vendor_status(&self) -> bool {
        matches!(
            self,
            ZonosStatus::VendorPreparingOrder
                | ZonosStatus::VendorShipmentReady
                | ZonosStatus::VendorLabelsPrinted
                | ZonosStatus::VendorCancellationRequest
                | ZonosStatus::VendorEndOfDayComplete
        )
    }

    /// The unified status (see [`crate::status::ZONOS`]).
    pub fn unified(&self) -> UnifiedStatus {
        status::from_zonos(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_and_both_cancelled_spellings_are_one() {
        for s in ZonosStatus::KNOWN {
            assert_eq!(ZonosStatus::parse(s.as_str()), s);
            assert_ne!(s.unified(), UnifiedStatus::Unknown, "{s} is mapped");
        }
        assert_eq!(
            ZonosStatus::parse("IGLOBAL_ORDER_CANCELED"),
            ZonosStatus::OrderCancelled
        );
        assert_eq!(
            ZonosStatus::parse("IGLOBAL_TELEPORTED"),
            ZonosStatus::Other("IGLOBAL_TELEPORTED".into())
        );
        assert_eq!(
            ZonosStatus::parse("IGLOBAL_TELEPORTED").unified(),
            UnifiedStatus::Unknown
        );
    }

    #[test]
    fn the_documented_statuses_block_vendor_updates() {
        let blocking: Vec<&str> = ZonosStatus::KNOWN
            .iter()
            .filter(|s| s.blocks_vendor_updates())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            blocking,
            [
                "IGLOBAL_FRAUD_REVIEW",
                "IGLOBAL_ORDER_ON_HOLD",
                "IGLOBAL_ORDER_CANCELLED",
                "IGLOBAL_LABELS_PROCESSING",
                "VENDOR_CANCELLATION_REQUEST",
                "VENDOR_END_OF_DAY_COMPLETE"
            ]
        );
        assert!(!ZonosStatus::Other("NEW".into()).blocks_vendor_updates());
    }
}
