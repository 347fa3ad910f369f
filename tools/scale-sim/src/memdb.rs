//! An in-memory DynamoDB behind the SDK's HTTP connector: the store's real
//! requests (built and signed by the SDK, as in production) are applied to
//! items held in memory and answered in DynamoDB's JSON protocol, and every
//! read and write is charged, in capacity units, to the partition key it
//! touched: the table's, and each index's whose entry the write changes.

use crate::expr::{self, Context, Item};
use crate::load::{Load, Space};
use quota_shared::store::schema::{IndexDef, TABLES, TableDef};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Builds the item at (pk, sk) the first time a usage row is touched.
pub type Seed = Box<dyn Fn(&str, &str) -> Option<Item> + Send>;

/// A table of items by (pk, sk), with its definition.
struct Table {
    def: &'static TableDef,
    items: HashMap<(String, String), Item>,
}

pub struct MemDb {
    tables: HashMap<String, Table>,
    pub load: Load,
    /// Fills a user's month usage row the first time it is read or written
    /// (the month so far, before the simulation started).
    pub seed: Seed,
    seeded: std::collections::HashSet<(String, String)>,
}

fn s_of<'a>(item: &'a Item, attr: &str) -> Option<&'a str> {
    item.get(attr)?.as_object()?.values().next()?.as_str()
}

/// An index's key of `item`, when it has both attributes.
fn index_key(index: &IndexDef, item: &Item) -> Option<(String, String)> {
    Some((s_of(item, index.partition_key)?.to_string(), s_of(item, index.sort_key)?.to_string()))
}

/// What an index keeps of `item`: its keys, the table's keys and the
/// projected attributes (all of them for ALL).
fn projected(def: &TableDef, index: &IndexDef, item: &Item) -> Item {
    if index.projection == "ALL" {
        return item.clone();
    }
    let keep = [index.partition_key, index.sort_key, def.partition_key, def.sort_key];
    item.iter()
        .filter(|(k, _)| keep.contains(&k.as_str()) || index.non_key_attributes.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Write units of an item of `bytes` (1 KB each, at least one).
fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Read units of `bytes` read together (4 KB each, at least one; half when
/// eventually consistent).
fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

impl MemDb {
    pub fn new(names: [(&str, &'static str); 2]) -> Self {
        let mut tables = HashMap::new();
        for (name, logical) in names {
            let def = TABLES.iter().find(|t| t.logical_name == logical).expect("a table of the schema");
            tables.insert(name.to_string(), Table { def, items: HashMap::new() });
        }
        Self { tables, load: Load::default(), seed: Box::new(|_, _| None), seeded: Default::default() }
    }

    fn table(&mut self, name: &str) -> &mut Table {
        self.tables.get_mut(name).unwrap_or_else(|| panic!("no table {name}"))
    }

    fn key_of(def: &TableDef, key: &Item) -> (String, String) {
        (
            s_of(key, def.partition_key).expect("a partition key").to_string(),
            s_of(key, def.sort_key).expect("a sort key").to_string(),
        )
    }

    /// The item at `key`, seeded first when it is a usage row never seen.
    fn current(&mut self, table: &str, key: &(String, String)) -> Option<Item> {
        if !self.seeded.contains(key) && key.1.starts_with("USAGE#") && key.0.starts_with("USER#") {
            self.seeded.insert(key.clone());
            if let Some(seed) = (self.seed)(&key.0, &key.1) {
                self.table(table).items.insert(key.clone(), seed);
            }
        }
        self.table(table).items.get(key).cloned()
    }

    /// Only what a later request reads is kept: idempotency markers and
    /// events are written and counted, never read back here.
    fn kept(logical: &str, key: &(String, String)) -> bool {
        logical == "quota" && !key.1.starts_with("REQUEST#")
    }

    /// Stores `new` (or deletes) at `key` and charges the write to the
    /// table's partition and to every index partition whose entry changed.
    fn write(&mut self, table: &str, key: (String, String), new: Option<Item>, transactional: bool) {
        let old = self.current(table, &key);
        let t = self.table(table);
        let def = t.def;
        let bytes = old.as_ref().map_or(0, expr::size).max(new.as_ref().map_or(0, expr::size));
        let factor = if transactional { 2.0 } else { 1.0 };
        let mut charges = vec![(Space::Table(def.logical_name), key.0.clone(), factor * write_units(bytes))];
        for index in def.indexes {
            let before = old.as_ref().and_then(|o| index_key(index, o).map(|k| (k, projected(def, index, o))));
            let after = new.as_ref().and_then(|n| index_key(index, n).map(|k| (k, projected(def, index, n))));
            let space = Space::Index(def.logical_name, index.name);
            match (before, after) {
                (None, None) => {}
                (Some((k, _)), None) => charges.push((space, k.0, 1.0)),
                (None, Some((k, p))) => charges.push((space, k.0, write_units(expr::size(&p)))),
                (Some((kb, pb)), Some((ka, pa))) => {
                    if kb != ka {
                        // A moved entry: deleted where it was, put where it goes.
                        charges.push((space, kb.0, 1.0));
                        charges.push((space, ka.0, write_units(expr::size(&pa))));
                    } else if pb != pa {
                        charges.push((space, ka.0, write_units(expr::size(&pa))));
                    }
                }
            }
        }
        let logical = def.logical_name;
        if Self::kept(logical, &key) {
            match new {
                Some(item) => t.items.insert(key, item),
                None => t.items.remove(&key),
            };
        }
        for (space, pk, units) in charges {
            self.load.write(space, &pk, units);
        }
    }

    fn update(&mut self, table: &str, u: &Value, transactional: bool) {
        let def = self.table(table).def;
        let key_item = u["Key"].as_object().expect("a key").clone();
        let key = Self::key_of(def, &key_item);
        let mut item = self.current(table, &key).unwrap_or(key_item);
        let cx = Context {
            names: u["ExpressionAttributeNames"].as_object(),
            values: u["ExpressionAttributeValues"].as_object(),
        };
        expr::apply(&mut item, u["UpdateExpression"].as_str().expect("an update expression"), &cx);
        self.write(table, key, Some(item), transactional);
    }

    fn put(&mut self, table: &str, p: &Value, transactional: bool) {
        let def = self.table(table).def;
        let item = p["Item"].as_object().expect("an item").clone();
        let key = Self::key_of(def, &item);
        self.write(table, key, Some(item), transactional);
    }

    fn delete(&mut self, table: &str, d: &Value, transactional: bool) {
        let def = self.table(table).def;
        let key = Self::key_of(def, d["Key"].as_object().expect("a key"));
        self.write(table, key, None, transactional);
    }

    fn get(&mut self, table: &str, key: &Item, consistent: bool) -> Option<Item> {
        let def = self.table(table).def;
        let key = Self::key_of(def, key);
        let item = self.current(table, &key);
        let units = read_units(item.as_ref().map_or(0, expr::size), consistent);
        self.load.read(Space::Table(def.logical_name), &key.0, units);
        item
    }

    /// A Query of one partition of the table, all its items in sort key
    /// order (the store's hot-path Query: the shared configuration).
    fn query(&mut self, table: &str, body: &Value) -> Value {
        let def = self.table(table).def;
        assert!(body.get("IndexName").is_none(), "the simulation serves no index Query");
        let pk = body["ExpressionAttributeValues"][":pk"]["S"].as_str().expect("a partition key value").to_string();
        let mut items: Vec<(&String, &Item)> =
            self.table(table).items.iter().filter(|((p, _), _)| *p == pk).map(|((_, s), i)| (s, i)).collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        let items: Vec<Item> = items.into_iter().map(|(_, i)| i.clone()).collect();
        let consistent = body["ConsistentRead"].as_bool().unwrap_or(false);
        let units = read_units(items.iter().map(expr::size).sum(), consistent);
        self.load.read(Space::Table(def.logical_name), &pk, units);
        json!({ "Items": items, "Count": items.len(), "ScannedCount": items.len() })
    }

    /// Answers one request (`target` is the operation) in the JSON protocol.
    pub fn handle(&mut self, target: &str, body: &Value) -> Value {
        match target {
            "BatchGetItem" => {
                let mut responses = serde_json::Map::new();
                for (table, wanted) in body["RequestItems"].as_object().expect("request items") {
                    let consistent = wanted["ConsistentRead"].as_bool().unwrap_or(false);
                    let found: Vec<Item> = wanted["Keys"]
                        .as_array()
                        .expect("keys")
                        .iter()
                        .filter_map(|k| self.get(table, k.as_object().expect("a key"), consistent))
                        .collect();
                    responses.insert(table.clone(), json!(found));
                }
                json!({ "Responses": responses, "UnprocessedKeys": {} })
            }
            "GetItem" => {
                let table = body["TableName"].as_str().expect("a table");
                let consistent = body["ConsistentRead"].as_bool().unwrap_or(false);
                match self.get(table, body["Key"].as_object().expect("a key"), consistent) {
                    Some(item) => json!({ "Item": item }),
                    None => json!({}),
                }
            }
            "Query" => self.query(body["TableName"].as_str().expect("a table"), body),
            "PutItem" => {
                self.put(body["TableName"].as_str().expect("a table"), body, false);
                json!({})
            }
            "UpdateItem" => {
                self.update(body["TableName"].as_str().expect("a table"), body, false);
                json!({})
            }
            "DeleteItem" => {
                self.delete(body["TableName"].as_str().expect("a table"), body, false);
                json!({})
            }
            "TransactWriteItems" => {
                for action in body["TransactItems"].as_array().expect("transaction items") {
                    let (kind, a) = action.as_object().and_then(|o| o.iter().next()).expect("one action");
                    let table = a["TableName"].as_str().expect("a table");
                    match kind.as_str() {
                        "Put" => self.put(table, a, true),
                        "Update" => self.update(table, a, true),
                        "Delete" => self.delete(table, a, true),
                        // Charged as a transactional write of the item it
                        // reads (the conservative reading of DynamoDB's docs).
                        "ConditionCheck" => {
                            let def = self.table(table).def;
                            let key = Self::key_of(def, a["Key"].as_object().expect("a key"));
                            let bytes = self.current(table, &key).as_ref().map_or(0, expr::size);
                            self.load.write(Space::Table(def.logical_name), &key.0, 2.0 * write_units(bytes));
                        }
                        other => panic!("transaction action {other}"),
                    }
                }
                json!({})
            }
            other => panic!("the simulation does not serve {other}"),
        }
    }
}
