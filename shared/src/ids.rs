//! Identifier newtypes, so an order id of one platform can never be passed where another's is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an identifier as the platform wrote it.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

string_id!(
    /// An order's id on the channel it came from (Genstore `orderId`, Zonos `999-12345`, Google `G-PLA-…`).
    ChannelOrderId
);
string_id!(
    /// A Genstore order id: the link every external order gets once it is mirrored.
    GenstoreOrderId
);
string_id!(
    /// The merchant's own order id as a channel records it (orderbridge writes the Genstore order id).
    MerchantOrderId
);
string_id!(
    /// A line item's id on its channel.
    LineItemId
);
string_id!(
    /// A shipment's id: a Genstore `fulfillId`, a Google `shipmentId`.
    ShipmentId
);
string_id!(
    /// A refund's id on its channel.
    RefundId
);
string_id!(
    /// A customer's id on its channel (not personal data by itself; used to find what to erase).
    CustomerId
);
string_id!(
    /// A stock keeping unit.
    Sku
);
string_id!(
    /// A product id on its channel.
    ProductId
);

impl From<GenstoreOrderId> for ChannelOrderId {
    fn from(id: GenstoreOrderId) -> Self {
        ChannelOrderId(id.0)
    }
}

impl From<ChannelOrderId> for GenstoreOrderId {
    fn from(id: ChannelOrderId) -> Self {
        GenstoreOrderId(id.0)
    }
}
