//! Enums that are stored and sent as names (`direct_user`, `block`, ...).
//! strum's `serialize_all` is the one spelling: `as_str`, `parse`, serde and
//! the DynamoDB item mapping all go through it, so a new variant is added in
//! one place.

/// Declares a fieldless enum named in snake_case by strum, with `as_str`,
/// `parse`, and serde as that name (an unknown name is refused with serde's
/// usual "unknown variant, expected ..." message).
macro_rules! named_enum {
    ($(#[$meta:meta])* $vis:vis enum $t:ident { $($(#[$vmeta:meta])* $variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            strum::IntoStaticStr, strum::EnumString, strum::VariantNames,
        )]
        #[strum(serialize_all = "snake_case")]
        $vis enum $t { $($(#[$vmeta])* $variant),* }

        impl $t {
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            pub fn parse(raw: &str) -> Option<Self> {
                raw.parse().ok()
            }
        }

        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl utoipa::PartialSchema for $t {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(<$t as strum::VariantNames>::VARIANTS.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $t {}

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse(&raw).ok_or_else(|| {
                    <D::Error as serde::de::Error>::unknown_variant(&raw, <$t as strum::VariantNames>::VARIANTS)
                })
            }
        }
    };
}

pub(crate) use named_enum;

#[cfg(test)]
mod tests {
    use strum::VariantNames;

    named_enum! {
        /// A stand-in for the stored enums (tested here without the model,
        /// which uses this macro).
        enum Sample {
            DirectUser,
            OverrideApplied,
            Warn,
        }
    }

    #[test]
    fn serde_as_str_and_parse_spell_every_name_alike() {
        for name in Sample::VARIANTS {
            let value: Sample = serde_json::from_value(serde_json::json!(name)).expect("every name parses");
            assert_eq!(serde_json::to_value(value).unwrap(), serde_json::json!(name));
            assert_eq!(Sample::parse(name).map(Sample::as_str), Some(*name));
        }
        let err = serde_json::from_value::<Sample>(serde_json::json!("nope")).unwrap_err().to_string();
        assert!(err.starts_with("unknown variant `nope`, expected "), "{err}");
        assert_eq!(Sample::DirectUser.as_str(), "direct_user");
        assert_eq!(Sample::parse("override_applied"), Some(Sample::OverrideApplied));
        assert_eq!(Sample::parse("Warn"), None, "names are exact");
    }
}
