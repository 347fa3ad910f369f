//! The part of DynamoDB's update expression language the store writes:
//! `SET a = v | a = if_not_exists(a, v) | a = b + v`, `ADD a v`,
//! `REMOVE a`, paths of `#name`s and names joined by dots. Conditions are
//! not evaluated: the simulation counts load, it does not judge races (the
//! emulator tests do), so every condition is taken as met.

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

pub type Item = Map<String, Value>;

/// `text` split at `sep` where no parenthesis is open.
fn split_top(text: &str, sep: char) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0i32, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The clauses of an update expression, by keyword.
fn clauses(expr: &str) -> Vec<(&'static str, &str)> {
    const KEYWORDS: [&str; 4] = ["SET", "ADD", "REMOVE", "DELETE"];
    let bytes = expr.as_bytes();
    let mut marks = Vec::new();
    let mut depth = 0;
    for i in 0..bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ if depth == 0 && (i == 0 || bytes[i - 1] == b' ') => {
                for k in KEYWORDS {
                    let end = i + k.len();
                    if expr[i..].starts_with(k) && (end == bytes.len() || bytes[end] == b' ') {
                        marks.push((i, k));
                    }
                }
            }
            _ => {}
        }
    }
    marks
        .iter()
        .enumerate()
        .map(|(n, (at, k))| {
            let end = marks.get(n + 1).map_or(expr.len(), |m| m.0);
            (*k, expr[at + k.len()..end].trim())
        })
        .collect()
}

pub struct Context<'a> {
    pub names: Option<&'a Map<String, Value>>,
    pub values: Option<&'a Map<String, Value>>,
}

impl Context<'_> {
    fn path(&self, text: &str) -> Vec<String> {
        text.trim()
            .split('.')
            .map(|seg| match seg.strip_prefix('#') {
                Some(_) => self
                    .names
                    .and_then(|n| n.get(seg))
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("expression name {seg} not given"))
                    .to_string(),
                None => seg.to_string(),
            })
            .collect()
    }

    fn value(&self, text: &str) -> Value {
        self.values
            .and_then(|v| v.get(text.trim()))
            .cloned()
            .unwrap_or_else(|| panic!("expression value {text} not given"))
    }

    fn operand(&self, item: &Item, text: &str) -> Option<Value> {
        let text = text.trim();
        if text.starts_with(':') {
            return Some(self.value(text));
        }
        if let Some(args) = text.strip_prefix("if_not_exists(").and_then(|t| t.strip_suffix(')')) {
            let parts = split_top(args, ',');
            return get(item, &self.path(parts[0])).cloned().or_else(|| self.operand(item, parts[1]));
        }
        if let Some(args) = text.strip_prefix("list_append(").and_then(|t| t.strip_suffix(')')) {
            let parts = split_top(args, ',');
            let list =
                |v: Option<Value>| v.and_then(|v| v.get("L").and_then(Value::as_array).cloned()).unwrap_or_default();
            let mut out = list(self.operand(item, parts[0]));
            out.extend(list(self.operand(item, parts[1])));
            return Some(serde_json::json!({ "L": out }));
        }
        get(item, &self.path(text)).cloned()
    }

    fn set_value(&self, item: &Item, rhs: &str) -> Value {
        for op in ['+', '-'] {
            let parts = split_top(rhs, op);
            if parts.len() == 2 {
                let a = number(self.operand(item, parts[0]).as_ref());
                let b = number(self.operand(item, parts[1]).as_ref());
                return num(if op == '+' { a + b } else { a - b });
            }
        }
        self.operand(item, rhs).unwrap_or_else(|| panic!("SET from a missing attribute: {rhs}"))
    }
}

fn number(v: Option<&Value>) -> Decimal {
    v.and_then(|v| v.get("N"))
        .and_then(Value::as_str)
        .map_or(Decimal::ZERO, |n| Decimal::from_str(n).expect("a number"))
}

fn num(d: Decimal) -> Value {
    serde_json::json!({ "N": d.normalize().to_string() })
}

pub fn get<'a>(item: &'a Item, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut at = item.get(first)?;
    for seg in rest {
        at = at.get("M")?.get(seg)?;
    }
    Some(at)
}

fn parent<'a>(item: &'a mut Item, path: &[String]) -> Option<&'a mut Item> {
    let mut at = item;
    for seg in &path[..path.len() - 1] {
        at = at.get_mut(seg)?.get_mut("M")?.as_object_mut()?;
    }
    Some(at)
}

fn put(item: &mut Item, path: &[String], value: Value) {
    let last = path.last().expect("a path").clone();
    parent(item, path).expect("the map a nested SET names exists").insert(last, value);
}

fn remove(item: &mut Item, path: &[String]) {
    let last = path.last().expect("a path");
    if let Some(p) = parent(item, path) {
        p.remove(last);
    }
}

/// Applies `expr` to `item`.
pub fn apply(item: &mut Item, expr: &str, cx: &Context<'_>) {
    for (keyword, body) in clauses(expr) {
        for action in split_top(body, ',') {
            match keyword {
                "SET" => {
                    let (lhs, rhs) = action.split_once('=').expect("SET a = v");
                    let value = cx.set_value(item, rhs);
                    put(item, &cx.path(lhs), value);
                }
                "ADD" => {
                    let (lhs, rhs) = action.trim().split_once(' ').expect("ADD a v");
                    let path = cx.path(lhs);
                    let add = cx.value(rhs);
                    let value = if add.get("N").is_some() {
                        num(number(get(item, &path)) + number(Some(&add)))
                    } else {
                        // A set: the union.
                        let kind = add.as_object().and_then(|o| o.keys().next().cloned()).expect("a set type");
                        let mut members: Vec<Value> = get(item, &path)
                            .and_then(|v| v.get(&kind))
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default();
                        for m in add[&kind].as_array().expect("a set").iter() {
                            if !members.contains(m) {
                                members.push(m.clone());
                            }
                        }
                        serde_json::json!({ kind: members })
                    };
                    put(item, &path, value);
                }
                "REMOVE" => remove(item, &cx.path(action)),
                _ => {}
            }
        }
    }
}

/// DynamoDB's item size: names and values in bytes (numbers about one
/// byte per two digits), what capacity units are reckoned from.
pub fn size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

fn value_size(v: &Value) -> usize {
    let Some((kind, inner)) = v.as_object().and_then(|o| o.iter().next()) else { return 1 };
    match kind.as_str() {
        "S" | "B" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(1, |n| n.len().div_ceil(2) + 1),
        "BOOL" | "NULL" => 1,
        "M" => 3 + inner.as_object().map_or(0, |m| m.iter().map(|(k, v)| k.len() + value_size(v) + 1).sum()),
        "L" => 3 + inner.as_array().map_or(0, |l| l.iter().map(|v| value_size(v) + 1).sum()),
        _ => inner.as_array().map_or(0, |l| l.iter().map(|m| m.as_str().map_or(0, str::len)).sum()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_store_s_expressions_apply() {
        let names =
            json!({"#a0": "cost", "#a1": "d07:cost", "#ttl": "ttl", "#rsv": "rsv:r1", "#h": "holds", "#id": "x"});
        let values = json!({":a0": {"N": "0.5"}, ":a1": {"N": "-0.25"}, ":ttl": {"N": "99"}, ":one": {"N": "1"}, ":m": {"M": {}}, ":t": {"BOOL": true}});
        let cx = Context { names: names.as_object(), values: values.as_object() };
        let mut item: Item = json!({"cost": {"N": "1"}, "rsv:r1": {"S": "x"}}).as_object().unwrap().clone();
        apply(&mut item, "ADD #a0 :a0, #a1 :a1 SET #ttl = if_not_exists(#ttl, :ttl), #h = :m REMOVE #rsv", &cx);
        apply(&mut item, "SET #h.#id = :t ADD #a0 :one", &cx);
        assert_eq!(item["cost"], json!({"N": "2.5"}));
        assert_eq!(item["d07:cost"], json!({"N": "-0.25"}));
        assert_eq!(item["ttl"], json!({"N": "99"}));
        assert_eq!(item["holds"], json!({"M": {"x": {"BOOL": true}}}));
        assert!(!item.contains_key("rsv:r1"));
        assert_eq!(size(&json!({"pk": {"S": "USER#a"}}).as_object().unwrap().clone()), 8);
    }
}
