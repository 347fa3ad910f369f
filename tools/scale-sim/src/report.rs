//! What the simulation prints: every key form's hottest partition key
//! against DynamoDB's per-partition limits, and the units consumed.

use crate::load::{KeyLoad, READ_LIMIT, Space, WRITE_LIMIT};
use crate::sim::Outcome;
use quota_shared::store::keys::partition_key_pattern;
use std::collections::BTreeMap;

/// One key form's hottest key, by the share of a limit it used.
pub struct Row {
    pub space: Space,
    pub form: &'static str,
    pub key: String,
    pub keys: usize,
    pub peak_reads: f64,
    pub peak_writes: f64,
    pub mean_reads: f64,
    pub mean_writes: f64,
    pub judged_reads: f64,
    pub judged_writes: f64,
}

impl Row {
    /// The larger share of a limit the key took: the judged rate is the
    /// larger of the mean and the busiest second, whose excess over the
    /// mean is shrunk by the square root of the sample (the sample's own
    /// noise: `sample` of the traffic varies by 1/sqrt(sample) more).
    pub fn use_of_limit(&self) -> f64 {
        (self.judged_reads / READ_LIMIT).max(self.judged_writes / WRITE_LIMIT)
    }
}

/// Index partition keys name their form the way table keys do (`TOPM#...`,
/// `EVENTS#...`); a form's keys are compared together.
fn form(pk: &str) -> &'static str {
    partition_key_pattern(pk).unwrap_or("(other)")
}

pub fn rows(o: &Outcome, sample: f64) -> Vec<Row> {
    let seconds = f64::from(o.load.seconds.max(1));
    let mut by_form: BTreeMap<(Space, &'static str), Row> = BTreeMap::new();
    for ((space, pk), KeyLoad { peak, total }) in &o.load.keys {
        // A sampled user makes all their turns: their own keys are counted
        // whole; every shared key saw the sample's share of its traffic.
        let scale = if form(pk) == "USER#*" { 1.0 } else { 1.0 / sample };
        let noise = if form(pk) == "USER#*" { 1.0 } else { sample.sqrt() };
        let judged = |peak: f64, mean: f64| mean + (peak - mean).max(0.0) * noise;
        let (mean_reads, mean_writes) = (total.read * scale / seconds, total.write * scale / seconds);
        let candidate = Row {
            judged_reads: judged(peak.read * scale, mean_reads),
            judged_writes: judged(peak.write * scale, mean_writes),
            space: *space,
            form: form(pk),
            key: pk.clone(),
            keys: 1,
            peak_reads: peak.read * scale,
            peak_writes: peak.write * scale,
            mean_reads,
            mean_writes,
        };
        match by_form.get_mut(&(*space, candidate.form)) {
            None => {
                by_form.insert((*space, candidate.form), candidate);
            }
            Some(best) => {
                let keys = best.keys + 1;
                if candidate.use_of_limit() > best.use_of_limit() {
                    *best = candidate;
                }
                best.keys = keys;
            }
        }
    }
    let mut rows: Vec<Row> = by_form.into_values().collect();
    rows.sort_by(|a, b| b.use_of_limit().total_cmp(&a.use_of_limit()));
    rows
}

fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The report, and whether every key stayed inside its limits.
pub fn print(o: &Outcome, sample: f64, header: &str) -> bool {
    let seconds = f64::from(o.load.seconds.max(1));
    println!("{header}");
    println!(
        "simulated {} s: {} checks/s ({} blocked/s), {} records/s, {} admin changes; {} containers sampled; the busiest user makes {:.3} % of the turns",
        o.load.seconds,
        thousands(o.checks as f64 / sample / seconds),
        thousands(o.blocked as f64 / sample / seconds),
        thousands(o.records as f64 / sample / seconds),
        o.admin_changes,
        o.containers,
        o.top_share * 100.0
    );
    println!();
    println!(
        "| table or index | key form | keys | hottest key | reads/s (mean, peak) | writes/s (mean, peak) | of limit | verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let rows = rows(o, sample);
    let mut ok = true;
    for r in &rows {
        let over = r.use_of_limit() > 1.0;
        ok &= !over;
        println!(
            "| {} | `{}` | {} | `{}` | {}, {} | {}, {} | {:.0} % | {} |",
            r.space,
            r.form,
            thousands(r.keys as f64),
            r.key,
            thousands(r.mean_reads),
            thousands(r.peak_reads),
            thousands(r.mean_writes),
            thousands(r.peak_writes),
            r.use_of_limit() * 100.0,
            if over { "**over**" } else { "ok" }
        );
    }
    println!();
    println!("| table or index | read units/s | write units/s |");
    println!("|---|---|---|");
    let mut spaces: Vec<_> = o.load.spaces.iter().collect();
    spaces.sort_by_key(|(s, _)| **s);
    for (space, u) in spaces {
        println!("| {space} | {} | {} |", thousands(u.read / sample / seconds), thousands(u.write / sample / seconds));
    }
    println!();
    println!(
        "limits: {} read units and {} write units a second per partition key (table or index), judged on the larger of a key's mean and its busiest second (its excess over the mean shrunk by sqrt(sample) = {:.2}, the sample's own noise); {}",
        thousands(READ_LIMIT),
        thousands(WRITE_LIMIT),
        sample.sqrt(),
        if ok { "PASS: no key over its limit" } else { "FAIL: a key is over its limit (first row)" }
    );
    ok
}
