//! What orderbridge tells Zonos about a Genstore order's fulfillments, decided from the domain (pure).
//!
//! - **Tracking.** Zonos keeps one list of tracking numbers per order and takes no carrier
//!   (`setShipmentTracking`): every number of the live fulfillments, each once, in the order they were
//!   made. The whole list goes each time, so a corrected or cancelled number leaves it.
//! - **Vendor status.** Decision (`platforms.md` §2): once every unit not cancelled has shipped, the
//!   vendor status is `VENDOR_END_OF_DAY_COMPLETE`.

use super::ZonosStatus;
use crate::order::ChannelOrder;

/// Every tracking number of the order's live fulfillments, each once.
pub fn tracking_numbers(source: &ChannelOrder) -> Vec<String> {
    let mut numbers: Vec<String> = Vec::new();
    for s in source.shipments.iter().filter(|s| s.status.is_live()) {
        for n in &s.tracking_numbers {
            if !numbers.contains(n) {
                numbers.push(n.clone());
            }
        }
    }
    numbers
}

/// The vendor status the order's fulfillments call for, if any.
pub fn vendor_status(source: &ChannelOrder) -> Option<ZonosStatus> {
    source
        .fully_shipped()
        .then_some(ZonosStatus::VendorEndOfDayComplete)
}
