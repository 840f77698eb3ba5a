//! Orders on DynamoDB: the versioned order item, its GSIs (Genstore id, status, customer) and pages.

use super::super::provision::{BY_CUSTOMER, BY_GENSTORE, BY_STATUS, PK, SK};
use super::{
    classify, decode_token, encode_token, get_s, n, order_item, order_pk, read_order, s,
    DynamoStore, Item,
};
use crate::channel::Channel;
use crate::ids::{CustomerId, GenstoreOrderId};
use crate::order::ChannelOrder;
use crate::status::UnifiedStatus;
use crate::store::{
    Expected, OrderKey, OrderStore, Page, PageRequest, StoreError, StoredOrder, Update, Upsert,
};
use async_trait::async_trait;

#[async_trait]
impl OrderStore for DynamoStore {
    async fn get(&self, key: &OrderKey) -> Result<Option<StoredOrder>, StoreError> {
        self.get_item(&order_pk(key), "ORDER")
            .await?
            .map(|i| read_order(&i))
            .transpose()
    }

    async fn upsert_if_newer(
        &self,
        order: &ChannelOrder,
        expected: Expected,
    ) -> Result<Upsert, StoreError> {
        let sv = order.source_version().sort_key();
        let (version, written) = match expected {
            Expected::Absent => (
                1,
                self.put_conditional(
                    order_item(order, 1)?,
                    "attribute_not_exists(#pk)",
                    &[("#pk", PK)],
                    vec![],
                )
                .await?,
            ),
            Expected::Version(v) => (
                v.saturating_add(1),
                self.put_conditional(
                    order_item(order, v.saturating_add(1))?,
                    "#version = :expected AND #sv < :sv",
                    &[("#version", "version"), ("#sv", "source_version")],
                    vec![(":expected", n(v)), (":sv", s(&sv))],
                )
                .await?,
            ),
        };
        if written {
            return Ok(Upsert::Applied { version });
        }
        let current = self
            .get_item(&order_pk(&OrderKey::of(order)), "ORDER")
            .await?;
        let stored_sv = current
            .as_ref()
            .and_then(|i| get_s(i, "source_version").map(str::to_owned));
        Ok(match stored_sv {
            Some(stored) if stored >= sv => Upsert::Stale,
            _ => Upsert::Conflict,
        })
    }

    async fn update(&self, order: &ChannelOrder, expected: u64) -> Result<Update, StoreError> {
        let written = self
            .put_conditional(
                order_item(order, expected.saturating_add(1))?,
                "#version = :expected",
                &[("#version", "version")],
                vec![(":expected", n(expected))],
            )
            .await?;
        Ok(if written {
            Update::Applied {
                version: expected.saturating_add(1),
            }
        } else {
            Update::Conflict
        })
    }

    async fn find_by_genstore_id(
        &self,
        id: &GenstoreOrderId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        self.query_index(BY_GENSTORE.name, BY_GENSTORE.pk, &format!("GENSTORE#{id}"))
            .await
    }

    async fn find_by_customer(
        &self,
        channel: Channel,
        id: &CustomerId,
    ) -> Result<Vec<StoredOrder>, StoreError> {
        self.query_index(
            BY_CUSTOMER.name,
            BY_CUSTOMER.pk,
            &format!("CUSTOMER#{channel}#{id}"),
        )
        .await
    }

    async fn list_by_status(
        &self,
        status: UnifiedStatus,
        page: PageRequest,
    ) -> Result<Page<StoredOrder>, StoreError> {
        let start = page.token.as_deref().map(decode_token).transpose()?;
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(BY_STATUS.name)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", BY_STATUS.pk)
            .expression_attribute_values(":k", s(format!("STATUS#{status}")))
            .scan_index_forward(false)
            .limit(i32::try_from(page.effective_limit()).unwrap_or(50))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify("Query", e))?;
        order_page(out.items(), out.last_evaluated_key.as_ref())
    }

    async fn scan(&self, page: PageRequest) -> Result<Page<StoredOrder>, StoreError> {
        let start = page.token.as_deref().map(decode_token).transpose()?;
        let out = self
            .client
            .scan()
            .table_name(&self.table)
            .filter_expression("#sk = :order")
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":order", s("ORDER"))
            .limit(i32::try_from(page.effective_limit()).unwrap_or(50))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("Scan", e))?;
        order_page(out.items(), out.last_evaluated_key.as_ref())
    }
}

/// A page of order items, with the token of the next page if the table said where it stops.
fn order_page(items: &[Item], last: Option<&Item>) -> Result<Page<StoredOrder>, StoreError> {
    Ok(Page {
        items: items.iter().map(read_order).collect::<Result<_, _>>()?,
        next: last.filter(|k| !k.is_empty()).map(encode_token),
    })
}
