//! Reading events: by user (the table's key), by tier and by type (indexes),
//! newest first, optionally within a time range.

use super::dynamo::{DynamoStore, store_error};
use super::events_write::AUDIT_RETENTION_DAYS;
use super::item::{Item, any_event_from_item, event_from_item, get_s, s};
use super::schema::{
    EVENTS_BY_MONTH, EVENTS_BY_TIER, EVENTS_BY_TYPE, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, GSI3_PK, GSI3_SK, PK, SK,
};
use super::{cursor, keys};
use crate::error::Error;
use crate::model::period::{Period, Window};
use crate::model::{Event, EventType, GroupId, QuotaEvent, TierId, UserId};
use crate::page::{Page, PageRequest};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Whose events to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventScope {
    User(UserId),
    Tier(TierId),
    Type(EventType),
}

/// A half-open time range [from, to); either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn bound(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

type EventQuery = aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

/// The key condition for the partition `:pk` within `range`. Sort keys start
/// with the RFC 3339 time in UTC with milliseconds, so text order is time
/// order and the range is a key condition. An event at exactly `to` has the
/// key "{to}#{id}", which sorts after "{to}": both `<` and BETWEEN leave it
/// out, so the range is half-open.
fn within(mut q: EventQuery, range: TimeRange, sk_attr: &str) -> (EventQuery, &'static str) {
    let condition = match (range.from, range.to) {
        (None, None) => "#pk = :pk",
        (Some(_), None) => "#pk = :pk AND #sk >= :from",
        (None, Some(_)) => "#pk = :pk AND #sk < :to",
        (Some(_), Some(_)) => "#pk = :pk AND #sk BETWEEN :from AND :to",
    };
    if let Some(from) = range.from {
        q = q.expression_attribute_values(":from", s(bound(from)));
    }
    if let Some(to) = range.to {
        q = q.expression_attribute_values(":to", s(bound(to)));
    }
    if range.from.is_some() || range.to.is_some() {
        q = q.expression_attribute_names("#sk", sk_attr);
    }
    (q, condition)
}

/// True when a start key's sort key lies in `range` (see [`within`]).
fn inside(sort_key: Option<&String>, range: &TimeRange) -> bool {
    sort_key
        .is_some_and(|sk| range.from.is_none_or(|from| *sk >= bound(from)) && range.to.is_none_or(|to| *sk < bound(to)))
}

impl DynamoStore {
    pub async fn list_events(
        &self,
        scope: &EventScope,
        range: TimeRange,
        page: &PageRequest,
    ) -> Result<Page<QuotaEvent>, Error> {
        // A tier's or a type's listing spread over partitions: the search merges them.
        if self.fanout.event_reads() > 1 && !matches!(scope, EventScope::User(_)) {
            let filter = match scope {
                EventScope::Tier(t) => EventFilter { tier: Some(t.clone()), range, ..Default::default() },
                EventScope::Type(k) => EventFilter { kind: Some(*k), range, ..Default::default() },
                EventScope::User(_) => unreachable!("matched above"),
            };
            let found = self.search_events(&filter, page, Utc::now()).await?;
            let items = found.items.into_iter().filter_map(|e| if let Event::Quota(q) = e { Some(q) } else { None });
            return Ok(Page { items: items.collect(), next_token: found.next_token });
        }
        let (index, pk_attr, sk_attr, pk, attrs): (Option<&str>, &str, &str, String, &[&str]) = match scope {
            EventScope::User(u) => (None, PK, SK, keys::user_pk(u), &[PK, SK]),
            EventScope::Tier(t) => {
                (Some(EVENTS_BY_TIER), GSI1_PK, GSI1_SK, keys::tier_gsi_pk(t), &[PK, SK, GSI1_PK, GSI1_SK])
            }
            EventScope::Type(k) => {
                (Some(EVENTS_BY_TYPE), GSI2_PK, GSI2_SK, keys::event_type_pk(*k), &[PK, SK, GSI2_PK, GSI2_SK])
            }
        };
        let start = cursor::decode(page.next_token.as_deref(), attrs, (pk_attr, &pk))?;
        if let Some(k) = &start
            && !inside(k.get(sk_attr).and_then(|v| v.as_s().ok()), &range)
        {
            return Err(Error::InvalidCursor);
        }
        let q = self.listing(index, pk_attr, pk).limit(page.limit as i32).set_exclusive_start_key(start);
        let (q, condition) = within(q, range, sk_attr);
        // Quota events only (the inspector's and the tests' view): admin changes
        // stored with a user are left out here; the search answers both kinds.
        let out = q
            .key_condition_expression(condition)
            .filter_expression("eventType <> :admin")
            .expression_attribute_values(":admin", s(EventType::AdminChange.as_str()))
            .send()
            .await
            .map_err(|e| store_error("Query", e))?;
        let items = out.items().iter().map(event_from_item).collect::<Result<_, _>>()?;
        Ok(Page { items, next_token: cursor::encode(out.last_evaluated_key()) })
    }
}

/// What the events API asks for: any combination, including none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub user: Option<UserId>,
    /// A group's events (its warnings and blocks, whichever member crossed).
    pub group: Option<GroupId>,
    pub tier: Option<TierId>,
    pub kind: Option<EventType>,
    pub range: TimeRange,
    /// Admin changes of this target (implies `admin_change`).
    pub target_id: Option<String>,
    /// Admin changes by this actor (implies `admin_change`).
    pub actor: Option<String>,
}

/// Where a search continues: the month partition (all-events path) and
/// DynamoDB's last key in it.
#[derive(Debug, Serialize, Deserialize)]
struct SearchCursor {
    /// The month partition being read, for the all-events path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m: Option<String>,
    /// The last key read there (absent: start that month from its newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
    /// Where a listing spread over partitions goes on: before this sort key
    /// (the last one answered), in every partition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<String>,
}

/// How far back the all-events path walks: to `from`, but never past the
/// longest retention (the audit trail's; older months are empty).
fn oldest_month(range: &TimeRange, now: DateTime<Utc>) -> String {
    let retained = now - chrono::Duration::days(AUDIT_RETENTION_DAYS + 1);
    let floor = range.from.map_or(retained, |f| f.max(retained));
    Period::containing(Window::Monthly, floor).month_key()
}

/// Where the all-events path starts: the month of `to`, but never after now
/// (no event is stored in the future).
fn newest_month(range: &TimeRange, now: DateTime<Utc>) -> String {
    let ceiling = range.to.map_or(now, |t| t.min(now));
    Period::containing(Window::Monthly, ceiling).month_key()
}

fn previous_month(month: &str) -> Option<String> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
    Some(if m == 1 { format!("{:04}-12", y - 1) } else { format!("{y:04}-{:02}", m - 1) })
}

fn valid_month(month: &str) -> bool {
    month.len() == 7
        && month.as_bytes()[4] == b'-'
        && month[..4].parse::<u32>().is_ok()
        && month[5..].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
}

impl DynamoStore {
    /// Events matching every filter given, newest first. The most selective
    /// key serves the Query (user: the table; tier, type: an index; none:
    /// the month index, month by month back to `from` or the retention);
    /// the other filters apply on the server, and short reads are topped up
    /// (`Limit` = what is missing) so a page is full unless the events end,
    /// and following `nextToken` yields every match exactly once.
    pub async fn search_events(
        &self,
        filter: &EventFilter,
        page: &PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<Event>, Error> {
        // A target or an actor names admin changes only.
        let kind = filter
            .kind
            .or_else(|| (filter.target_id.is_some() || filter.actor.is_some()).then_some(EventType::AdminChange));
        let filter = &EventFilter { kind, ..filter.clone() };
        let by_month =
            filter.user.is_none() && filter.group.is_none() && filter.tier.is_none() && filter.kind.is_none();
        // A group's events share the tier index (their partition is the group's).
        let (index, pk_attr, sk_attr, attrs): (Option<&str>, &str, &str, [&str; 4]) = if filter.user.is_some() {
            (None, PK, SK, [PK, SK, "", ""])
        } else if filter.tier.is_some() || filter.group.is_some() {
            (Some(EVENTS_BY_TIER), GSI1_PK, GSI1_SK, [PK, SK, GSI1_PK, GSI1_SK])
        } else if filter.kind.is_some() {
            (Some(EVENTS_BY_TYPE), GSI2_PK, GSI2_SK, [PK, SK, GSI2_PK, GSI2_SK])
        } else {
            (Some(EVENTS_BY_MONTH), GSI3_PK, GSI3_SK, [PK, SK, GSI3_PK, GSI3_SK])
        };
        let attrs: Vec<&str> = attrs.into_iter().filter(|a| !a.is_empty()).collect();
        // Month, type and tier listings are spread over partitions: merged.
        if filter.user.is_none() && filter.group.is_none() && self.fanout.event_reads() > 1 {
            return self.search_partitions(filter, index, (pk_attr, sk_attr), by_month, page, now).await;
        }
        let newest_month = newest_month(&filter.range, now);
        let oldest = oldest_month(&filter.range, now);
        // The partition read first, and the token's place in it.
        let token: Option<SearchCursor> = match page.next_token.as_deref() {
            None => None,
            Some(raw) => Some(decode_search_cursor(raw)?),
        };
        let mut month = match (&token, by_month) {
            (Some(SearchCursor { m: Some(m), .. }), true) if valid_month(m) && *m <= newest_month && *m >= oldest => {
                m.clone()
            }
            (Some(_), true) => return Err(Error::InvalidCursor),
            (Some(SearchCursor { m: Some(_), .. }), false) => return Err(Error::InvalidCursor),
            _ => newest_month,
        };
        let partition = |month: &str| match (&filter.user, &filter.group, &filter.tier, filter.kind) {
            (Some(u), _, _, _) => keys::user_pk(u),
            (None, Some(g), _, _) => keys::group_events_pk(g),
            (None, None, Some(t), _) => keys::tier_gsi_pk(t),
            (None, None, None, Some(k)) => keys::event_type_pk(k),
            (None, None, None, None) => keys::event_month_pk(month),
        };
        if token.as_ref().is_some_and(|t| t.b.is_some()) {
            // A token of a listing spread over partitions.
            return Err(Error::InvalidCursor);
        }
        let mut start = match token.and_then(|t| t.k) {
            Some(k) => cursor::decode(Some(&k), &attrs, (pk_attr, &partition(&month)))?,
            None => None,
        };
        // A token from a search over other times (the same filters, another
        // `from`/`to`): DynamoDB refuses a start key outside the key
        // condition, so it is refused here, as a token that is not ours.
        if let Some(k) = &start
            && !inside(k.get(sk_attr).and_then(|v| v.as_s().ok()), &filter.range)
        {
            return Err(Error::InvalidCursor);
        }
        let mut found = Vec::new();
        loop {
            let q = self.listing(index, pk_attr, partition(&month));
            let (q, condition) = within(q, filter.range, sk_attr);
            let q = filtered(q, filter).key_condition_expression(condition);
            let missing = page.limit as usize - found.len();
            let (more, next) = self.query_filling(q, Some(missing), start.take(), any_event_from_item).await?;
            found.extend(more);
            start = next;
            let full = found.len() >= page.limit as usize;
            if start.is_none() && by_month && month > oldest {
                // This month is read to its end: go on with the previous one.
                month = previous_month(&month).ok_or(Error::InvalidCursor)?;
                if full {
                    let next = SearchCursor { m: Some(month), k: None, b: None };
                    return Ok(Page { items: found, next_token: Some(encode_search_cursor(&next)) });
                }
                continue;
            }
            // Full, or the partitions are read to their end.
            break;
        }
        let next = start.as_ref().map(|k| SearchCursor {
            m: by_month.then(|| month.clone()),
            k: cursor::encode(Some(k)),
            b: None,
        });
        Ok(Page { items: found, next_token: next.as_ref().map(encode_search_cursor) })
    }
}

/// The filters the key did not take, as a filter expression.
fn filtered(mut q: EventQuery, filter: &EventFilter) -> EventQuery {
    let mut conditions = Vec::new();
    if (filter.user.is_some() || filter.group.is_some())
        && let Some(t) = &filter.tier
    {
        conditions.push("tierId = :tier");
        q = q.expression_attribute_values(":tier", s(t.as_str()));
    }
    if filter.user.is_some()
        && let Some(g) = &filter.group
    {
        conditions.push("groupId = :group");
        q = q.expression_attribute_values(":group", s(g.as_str()));
    }
    if (filter.user.is_some() || filter.group.is_some() || filter.tier.is_some())
        && let Some(k) = filter.kind
    {
        conditions.push("eventType = :kind");
        q = q.expression_attribute_values(":kind", s(k.as_str()));
    }
    if let Some(target) = &filter.target_id {
        conditions.push("targetId = :target");
        q = q.expression_attribute_values(":target", s(target));
    }
    if let Some(actor) = &filter.actor {
        conditions.push("actor = :actor");
        q = q.expression_attribute_values(":actor", s(actor));
    }
    if conditions.is_empty() { q } else { q.filter_expression(conditions.join(" AND ")) }
}

impl DynamoStore {
    /// [`DynamoStore::search_events`] over a listing spread over partitions
    /// (month, type or tier; `QUOTA_EVENT_PARTITIONS`): each page reads
    /// every partition newest first (16 at a time, each up to what the page
    /// misses) and merges them by sort key, which is unique (`{time}#{id}`),
    /// so the token is the last sort key answered and the next page reads
    /// below it; the month path walks back month by month as the other does.
    async fn search_partitions(
        &self,
        filter: &EventFilter,
        index: Option<&str>,
        (pk_attr, sk_attr): (&str, &str),
        by_month: bool,
        page: &PageRequest,
        now: DateTime<Utc>,
    ) -> Result<Page<Event>, Error> {
        use futures_util::{StreamExt, TryStreamExt};
        let newest = newest_month(&filter.range, now);
        let oldest = oldest_month(&filter.range, now);
        let (mut month, mut before) = match page.next_token.as_deref() {
            None => (newest, None),
            Some(raw) => {
                let c = decode_search_cursor(raw)?;
                if c.k.is_some() {
                    // A token of a listing in one partition.
                    return Err(Error::InvalidCursor);
                }
                let month = match (c.m, by_month) {
                    (Some(m), true) if valid_month(&m) && m <= newest && m >= oldest => m,
                    (None, false) => newest,
                    _ => return Err(Error::InvalidCursor),
                };
                // Only a sort key this listing answered: inside the range (and the month).
                let ours = |b: &String| {
                    b.len() <= 200
                        && inside(Some(b), &filter.range)
                        && (!by_month || b.starts_with(&format!("{month}-")))
                };
                if c.b.as_ref().is_some_and(|b| !ours(b)) || (!by_month && c.b.is_none()) {
                    return Err(Error::InvalidCursor);
                }
                (month, c.b)
            }
        };
        let base = |month: &str| match (&filter.tier, filter.kind) {
            (Some(t), _) => keys::tier_gsi_pk(t),
            (None, Some(k)) => keys::event_type_pk(k),
            (None, None) => keys::event_month_pk(month),
        };
        let limit = page.limit as usize;
        let mut found: Vec<Keyed> = Vec::new();
        loop {
            let missing = limit - found.len();
            // The last answered key is read again (`<=`) and dropped.
            let wanted = missing + usize::from(before.is_some());
            let reads: Vec<(Vec<Keyed>, Option<Item>)> = futures_util::stream::iter(0..self.fanout.event_reads())
                .map(|n| {
                    let q = self.listing(index, pk_attr, keys::in_partition(base(&month), n));
                    let (q, condition) = within_before(q, filter.range, before.as_deref(), sk_attr);
                    let q = filtered(q, filter).key_condition_expression(condition);
                    self.query_filling(q, Some(wanted), None, |item| {
                        Ok((get_s(item, sk_attr)?.to_string(), any_event_from_item(item)?))
                    })
                })
                .buffered(16)
                .try_collect()
                .await?;
            let mut more = false;
            let mut merged = Vec::new();
            for (rows, next) in reads {
                more |= next.is_some();
                merged.extend(rows);
            }
            merged.retain(|(sk, _)| Some(sk) != before.as_ref());
            merged.sort_by(|a, b| b.0.cmp(&a.0));
            more |= merged.len() > missing;
            merged.truncate(missing);
            found.extend(merged);
            let earlier = (by_month && month > oldest).then(|| previous_month(&month)).flatten();
            if found.len() >= limit {
                let next = match (more, earlier) {
                    (true, _) => Some(SearchCursor {
                        m: by_month.then(|| month.clone()),
                        k: None,
                        b: found.last().map(|f| f.0.clone()),
                    }),
                    (false, Some(m)) => Some(SearchCursor { m: Some(m), k: None, b: None }),
                    (false, None) => None,
                };
                let items = found.into_iter().map(|(_, e)| e).collect();
                return Ok(Page { items, next_token: next.as_ref().map(encode_search_cursor) });
            }
            match earlier {
                // This month is read to its end: go on with the previous one.
                Some(m) => (month, before) = (m, None),
                None => return Ok(Page { items: found.into_iter().map(|(_, e)| e).collect(), next_token: None }),
            }
        }
    }
}

impl DynamoStore {
    /// A Query of one event listing (the table's partition `pk`, or an
    /// index's), newest first.
    fn listing(&self, index: Option<&str>, pk_attr: &str, pk: String) -> EventQuery {
        self.client
            .query()
            .table_name(self.events())
            .set_index_name(index.map(str::to_string))
            .expression_attribute_names("#pk", pk_attr)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false)
    }
}

/// An event with its sort key in the listing read.
type Keyed = (String, Event);

/// [`within`], below `before` (a sort key, included: the caller drops it).
fn within_before(q: EventQuery, range: TimeRange, before: Option<&str>, sk_attr: &str) -> (EventQuery, &'static str) {
    let Some(before) = before else { return within(q, range, sk_attr) };
    let q = q.expression_attribute_names("#sk", sk_attr).expression_attribute_values(":before", s(before));
    match range.from {
        Some(from) => {
            (q.expression_attribute_values(":from", s(bound(from))), "#pk = :pk AND #sk BETWEEN :from AND :before")
        }
        None => (q, "#pk = :pk AND #sk <= :before"),
    }
}

fn encode_search_cursor(c: &SearchCursor) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).expect("strings serialise"))
}

fn decode_search_cursor(raw: &str) -> Result<SearchCursor, Error> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).map_err(|_| Error::InvalidCursor)?;
    let c: SearchCursor = serde_json::from_slice(&bytes).map_err(|_| Error::InvalidCursor)?;
    if c.m.is_none() && c.k.is_none() && c.b.is_none() || c.k.is_some() && c.b.is_some() {
        return Err(Error::InvalidCursor);
    }
    Ok(c)
}
