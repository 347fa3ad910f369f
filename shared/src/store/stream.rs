//! Reading DynamoDB stream records of the events table: the image arrives
//! in serde_dynamo's item type (from aws_lambda_events) and is read with the
//! same mapping as a Query's items.

use super::item::{self, Item};
use crate::error::Error;
use crate::model::Event;

/// The event a stream record's new image holds.
pub fn event_from_stream_image(image: serde_dynamo::Item) -> Result<Event, Error> {
    let item: Item = image.into_inner().into_iter().map(|(k, v)| (k, v.into())).collect();
    item::any_event_from_item(&item)
}
