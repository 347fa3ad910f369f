//! Per-model limits: a tier (or a custom override) may ration some models
//! beside its own limits ("20 messages a day on the premium models"). A
//! request for a model an entry names must fit the entry's limits as well;
//! usage counts toward an entry only for its models.

use super::price::{ModelId, ModelPattern};
use super::{LimitId, Limits};
use crate::error::FieldErrors;
use serde::{Deserialize, Serialize};

/// Entries one tier or override may hold: each adds counters to its users'
/// usage rows (3 metrics, a month and each day), so the row stays small.
pub const MAX_MODEL_LIMITS: usize = 10;
/// Model ids or prefixes one entry may name.
pub const MAX_LIMIT_MODELS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelLimit {
    pub limit_id: LimitId,
    /// The models it rations: exact ids, or prefixes ending in `*`.
    pub models: Vec<ModelPattern>,
    #[serde(flatten)]
    pub limits: Limits,
    /// What a block by this entry suggests instead (`suggestedModel`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggest_model: Option<ModelId>,
}

impl ModelLimit {
    pub fn matches(&self, model: &ModelId) -> bool {
        self.models.iter().any(|p| p.matches(model))
    }
}

/// The entries of `limits` that ration `model`.
pub fn matching<'a>(limits: &'a [ModelLimit], model: Option<&ModelId>) -> Vec<&'a ModelLimit> {
    match model {
        Some(m) => limits.iter().filter(|l| l.matches(m)).collect(),
        None => vec![],
    }
}

super::limits::with_limits! {
/// One entry of a body's `modelLimits`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewModelLimit {
    pub limit_id: LimitId,
    #[schema(value_type = Vec<ModelPattern>, min_items = 1, max_items = 20)]
    pub models: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Option<ModelId>)]
    pub suggest_model: Option<String>,
}}

/// True when some model id matches both patterns.
fn overlap(a: &ModelPattern, b: &ModelPattern) -> bool {
    match (a, b) {
        (ModelPattern::Exact(x), ModelPattern::Exact(y)) => x == y,
        (ModelPattern::Exact(x), ModelPattern::Prefix(p)) | (ModelPattern::Prefix(p), ModelPattern::Exact(x)) => {
            x.as_str().starts_with(p.as_str())
        }
        (ModelPattern::Prefix(p), ModelPattern::Prefix(q)) => p.starts_with(q.as_str()) || q.starts_with(p.as_str()),
    }
}

/// Checks a body's `modelLimits` (named `field[i].…` in errors) and builds them.
pub fn model_limits(field: &str, raw: Vec<NewModelLimit>, errors: &mut FieldErrors) -> Vec<ModelLimit> {
    if raw.len() > MAX_MODEL_LIMITS {
        errors.push(field, format!("at most {MAX_MODEL_LIMITS} entries"));
    }
    let mut built = Vec::new();
    for (i, entry) in raw.into_iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        if built.iter().any(|l: &ModelLimit| l.limit_id == entry.limit_id) {
            errors.push(at("limitId"), format!("{} is used by another entry", entry.limit_id));
        }
        if entry.models.is_empty() || entry.models.len() > MAX_LIMIT_MODELS {
            errors.push(at("models"), format!("name 1 to {MAX_LIMIT_MODELS} models or prefixes"));
        }
        let models: Vec<ModelPattern> = entry
            .models
            .iter()
            .enumerate()
            .filter_map(|(j, m)| errors.check(ModelPattern::parse(&at(&format!("models[{j}]")), m)))
            .collect();
        let suggest_model =
            entry.suggest_model.as_deref().and_then(|m| errors.check(ModelId::parse(&at("suggestModel"), m)));
        // Entries are disjoint, so a request is rationed by at most one:
        // its hold and its record touch one entry's counters.
        for (j, p) in models.iter().enumerate() {
            if let Some(other) = built.iter().find(|l: &&ModelLimit| l.models.iter().any(|q| overlap(p, q))) {
                errors.push(
                    at(&format!("models[{j}]")),
                    format!("{p} overlaps the models of {}: a model is rationed by at most one entry", other.limit_id),
                );
            }
        }
        let limits = entry.limits();
        let mut own = FieldErrors::default();
        limits.validate(&mut own);
        if limits.is_empty() {
            own.push("monthlyCostLimit", "set at least one cost, token or request limit");
        }
        for e in own.0 {
            errors.push(at(&e.field), e.message);
        }
        built.push(ModelLimit { limit_id: entry.limit_id, models, limits, suggest_model });
    }
    built
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> (Vec<ModelLimit>, Vec<String>) {
        let raw: Vec<NewModelLimit> = serde_json::from_value(json).unwrap();
        let mut errors = FieldErrors::default();
        let built = model_limits("modelLimits", raw, &mut errors);
        (built, errors.0.into_iter().map(|e| e.field).collect())
    }

    #[test]
    fn an_entry_rations_its_models_only() {
        let (built, errors) = parse(serde_json::json!([
            {"limitId": "premium", "models": ["anthropic/claude-opus*", "openai/o3"], "dailyRequestLimit": 20,
             "suggestModel": "anthropic/claude-haiku-4-5"}
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        let id = |s: &str| ModelId::parse("model", s).unwrap();
        assert!(built[0].matches(&id("anthropic/claude-opus-4-1")));
        assert!(built[0].matches(&id("openai/o3")));
        assert!(!built[0].matches(&id("openai/o3-mini")), "exact ids match exactly");
        assert_eq!(matching(&built, Some(&id("openai/gpt-4o"))).len(), 0);
        assert_eq!(matching(&built, None).len(), 0, "no model, no model limit");
    }

    #[test]
    fn every_broken_entry_is_named_by_its_place() {
        let (_, errors) = parse(serde_json::json!([
            {"limitId": "a", "models": [], "dailyRequestLimit": 0},
            {"limitId": "a", "models": ["ok", "bad model"], "suggestModel": "x y"}
        ]));
        assert_eq!(
            errors,
            [
                "modelLimits[0].models",
                "modelLimits[0].dailyRequestLimit",
                "modelLimits[1].limitId",
                "modelLimits[1].models[1]",
                "modelLimits[1].suggestModel",
                "modelLimits[1].monthlyCostLimit"
            ]
        );
        let (_, overlapping) = parse(serde_json::json!([
            {"limitId": "a", "models": ["anthropic/claude-opus*"], "dailyRequestLimit": 1},
            {"limitId": "b", "models": ["openai/o3", "anthropic/claude-opus-4-1"], "dailyRequestLimit": 1},
            {"limitId": "c", "models": ["anthropic/claude*"], "dailyRequestLimit": 1},
            {"limitId": "d", "models": ["openai/o3-mini", "anthropic/claude-sonnet-4-5", "openai/o*"], "dailyRequestLimit": 1}
        ]));
        assert_eq!(
            overlapping,
            [
                "modelLimits[1].models[1]",
                "modelLimits[2].models[0]",
                "modelLimits[3].models[1]",
                "modelLimits[3].models[2]"
            ],
            "exact within a prefix, a prefix of a prefix, and either way round"
        );
        let eleven: Vec<_> = (0..11)
            .map(|i| serde_json::json!({"limitId": format!("l{i}"), "models": [format!("m{i}")], "dailyRequestLimit": 1}))
            .collect();
        assert_eq!(parse(serde_json::Value::Array(eleven)).1, ["modelLimits"]);
    }
}
