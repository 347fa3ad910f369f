//! Capacity units per partition key and second, for the table and each
//! index: the figures DynamoDB's per-partition limits apply to.

use std::collections::HashMap;

/// DynamoDB serves one partition about this many read units a second...
pub const READ_LIMIT: f64 = 3000.0;
/// ...and this many write units (an index's partition the same).
pub const WRITE_LIMIT: f64 = 1000.0;

/// Where a key lives: a table, or one of its indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    Table(&'static str),
    Index(&'static str, &'static str),
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Space::Table(t) => write!(f, "{t}"),
            Space::Index(t, i) => write!(f, "{t}.{i}"),
        }
    }
}

/// Read and write units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Units {
    pub read: f64,
    pub write: f64,
}

/// One key's figures over the run: its busiest second and its total.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyLoad {
    pub peak: Units,
    pub total: Units,
}

#[derive(Default)]
pub struct Load {
    second: HashMap<(Space, String), Units>,
    pub keys: HashMap<(Space, String), KeyLoad>,
    /// Units of every key together, per space, over the run.
    pub spaces: HashMap<Space, Units>,
    pub seconds: u32,
}

impl Load {
    pub fn read(&mut self, space: Space, pk: &str, units: f64) {
        self.second.entry((space, pk.to_string())).or_default().read += units;
    }

    pub fn write(&mut self, space: Space, pk: &str, units: f64) {
        self.second.entry((space, pk.to_string())).or_default().write += units;
    }

    /// Closes a simulated second: each key's figures go into its peak and total.
    pub fn end_second(&mut self) {
        for (key, u) in self.second.drain() {
            let k = self.keys.entry(key.clone()).or_default();
            k.peak.read = k.peak.read.max(u.read);
            k.peak.write = k.peak.write.max(u.write);
            k.total.read += u.read;
            k.total.write += u.write;
            let s = self.spaces.entry(key.0).or_default();
            s.read += u.read;
            s.write += u.write;
        }
        self.seconds += 1;
    }

    /// Forgets everything counted so far (the setup's writes).
    pub fn reset(&mut self) {
        *self = Load::default();
    }
}
