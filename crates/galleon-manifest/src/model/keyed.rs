//! An ordered map keyed by manifest names, with the position of every key.
//!
//! Keys carry spans so that "defined twice" and "no such key" errors can point at the key itself,
//! and order is kept so plans and graphs list resources in the order they were written.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::span::Sp;

/// Entries of one manifest section (`galleries:`, `subnets:`, ...), in file order.
#[derive(Clone, Debug)]
pub struct KeyedMap<V>(pub Vec<(Sp<String>, V)>);

impl<V> Default for KeyedMap<V> {
    fn default() -> Self {
        KeyedMap(Vec::new())
    }
}

impl<V> KeyedMap<V> {
    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }
    /// The entry (key with its span, value) under `key`, if any.
    pub fn entry(&self, key: &str) -> Option<(&Sp<String>, &V)> {
        self.0
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(k, v)| (k, v))
    }
    /// Entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&Sp<String>, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when the section is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for KeyedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = KeyedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map keyed by name")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                // `images:` with nothing under it means "none", not an error.
                Ok(KeyedMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Sp<String>, V>()? {
                    out.push((k, v));
                }
                Ok(KeyedMap(out))
            }
        }
        deserializer.deserialize_map(MapVisitor(PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for KeyedMap<V> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let value = generator.subschema_for::<V>();
        json_schema!({
            "type": ["object", "null"],
            "additionalProperties": value,
        })
    }
}
