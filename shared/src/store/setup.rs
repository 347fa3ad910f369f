//! Creates the tables from the schema definitions: for tests, the local
//! stack and the demo data. Production tables come from `infra/`.

use super::dynamo::{DynamoStore, store_error};
use super::schema::{EVENTS_TABLE, IndexDef, QUOTA_TABLE, TableDef};
use crate::error::Error;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};

fn key_schema(pk: &str, sk: &str) -> Vec<KeySchemaElement> {
    [(pk, KeyType::Hash), (sk, KeyType::Range)]
        .into_iter()
        .map(|(name, kind)| KeySchemaElement::builder().attribute_name(name).key_type(kind).build().expect("set"))
        .collect()
}

fn projection(index: &IndexDef) -> Projection {
    match index.projection {
        "INCLUDE" => Projection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(index.non_key_attributes.iter().map(|a| a.to_string()).collect()))
            .build(),
        _ => Projection::builder().projection_type(ProjectionType::All).build(),
    }
}

impl DynamoStore {
    /// Creates both tables (with indexes and TTL) unless they exist.
    pub async fn create_tables(&self) -> Result<(), Error> {
        for (def, name) in [(QUOTA_TABLE, self.quota().to_string()), (EVENTS_TABLE, self.events().to_string())] {
            self.create_table(&def, &name).await?;
        }
        Ok(())
    }

    async fn create_table(&self, def: &TableDef, name: &str) -> Result<(), Error> {
        let mut attrs = vec![(def.partition_key, "S"), (def.sort_key, "S")];
        for index in def.indexes {
            attrs.extend([(index.partition_key, "S"), (index.sort_key, index.sort_key_type)]);
        }
        attrs.sort_unstable();
        attrs.dedup();
        let mut req = self
            .client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_key_schema(Some(key_schema(def.partition_key, def.sort_key)));
        for (attr, kind) in attrs {
            let kind = if kind == "N" { ScalarAttributeType::N } else { ScalarAttributeType::S };
            req = req.attribute_definitions(
                AttributeDefinition::builder().attribute_name(attr).attribute_type(kind).build().expect("set"),
            );
        }
        for index in def.indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index.name)
                    .set_key_schema(Some(key_schema(index.partition_key, index.sort_key)))
                    .projection(projection(index))
                    .build()
                    .expect("set"),
            );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {
                return Ok(());
            }
            Err(e) => return Err(store_error("CreateTable", e)),
        }
        self.client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(def.ttl_attribute)
                    .build()
                    .expect("set"),
            )
            .send()
            .await
            .map_err(|e| store_error("UpdateTimeToLive", e))?;
        Ok(())
    }
}
