//! A tier's (or an override's) model limits: one list attribute of maps.

use super::attr::{Item, corrupt, get_s, limit_attributes, limits, opt_s, s};
use crate::error::Error;
use crate::model::LimitId;
use crate::model::model_limit::ModelLimit;
use crate::model::price::{ModelId, ModelPattern};
use aws_sdk_dynamodb::types::AttributeValue;

pub const MODEL_LIMITS: &str = "modelLimits";

pub fn model_limits_attribute(all: &[ModelLimit]) -> AttributeValue {
    AttributeValue::L(
        all.iter()
            .map(|l| {
                let mut m: Item = limit_attributes(&l.limits)
                    .into_iter()
                    .filter(|(_, v)| !matches!(v, AttributeValue::Null(_)))
                    .map(|(k, v)| (k.to_string(), v))
                    .collect();
                m.insert("limitId".into(), s(l.limit_id.as_str()));
                m.insert("models".into(), AttributeValue::L(l.models.iter().map(|p| s(p.to_string())).collect()));
                if let Some(model) = &l.suggest_model {
                    m.insert("suggestModel".into(), s(model.as_str()));
                }
                AttributeValue::M(m)
            })
            .collect(),
    )
}

/// The model limits an item holds (none when it has no such attribute).
pub fn model_limits_of(item: &Item) -> Result<Vec<ModelLimit>, Error> {
    let Some(value) = item.get(MODEL_LIMITS) else { return Ok(vec![]) };
    let AttributeValue::L(all) = value else { return Err(corrupt(MODEL_LIMITS, item)) };
    all.iter()
        .map(|entry| {
            let AttributeValue::M(m) = entry else { return Err(corrupt(MODEL_LIMITS, item)) };
            let bad = || corrupt(MODEL_LIMITS, item);
            let models = match m.get("models") {
                Some(AttributeValue::L(ms)) => ms
                    .iter()
                    .map(|p| p.as_s().ok().and_then(|p| ModelPattern::parse("models", p).ok()).ok_or_else(bad))
                    .collect::<Result<Vec<_>, _>>()?,
                _ => return Err(bad()),
            };
            Ok(ModelLimit {
                limit_id: LimitId::parse(get_s(m, "limitId")?).map_err(|_| bad())?,
                models,
                limits: limits(m)?,
                suggest_model: opt_s(m, "suggestModel")
                    .map(|raw| ModelId::parse("suggestModel", raw).map_err(|_| bad()))
                    .transpose()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::model_limit::{NewModelLimit, model_limits};

    #[test]
    fn model_limits_round_trip_and_a_broken_list_is_corrupt() {
        let raw: Vec<NewModelLimit> = serde_json::from_value(serde_json::json!([
            {"limitId": "premium", "models": ["anthropic/claude-opus*", "openai/o3"], "dailyRequestLimit": 20,
             "monthlyCostLimit": "12.5", "suggestModel": "anthropic/claude-haiku-4-5"},
            {"limitId": "images", "models": ["openai/gpt-image-1"], "monthlyRequestLimit": 100}
        ]))
        .unwrap();
        let mut errors = crate::error::FieldErrors::default();
        let all = model_limits("modelLimits", raw, &mut errors);
        let item: Item = [(MODEL_LIMITS.to_string(), model_limits_attribute(&all))].into();
        assert_eq!(model_limits_of(&item).unwrap(), all);
        assert_eq!(model_limits_of(&Item::new()).unwrap(), vec![]);
        let broken: Item = [(MODEL_LIMITS.to_string(), s("x"))].into();
        assert!(model_limits_of(&broken).is_err());
    }
}
