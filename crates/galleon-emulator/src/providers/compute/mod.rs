//! The Compute resource provider's rules: galleries and their images and versions, VM sizes,
//! and the synchronous checks Compute and the ARM front door run on a VM write (linked
//! authorization, image availability, generation, security type, SKU, quota).

pub mod checks;
pub mod gallery;
pub mod image_terms;
pub mod linked;
pub mod restrictions;
pub mod routes;
pub mod shared_routes;
pub mod sizes;
pub mod usages;
pub mod vm;
pub mod vm_routes;

#[cfg(test)]
pub(crate) mod test_lookup {
    //! An in-memory [`super::checks::Lookup`] for unit tests.
    use serde_json::Value;
    use std::collections::BTreeMap;

    use super::checks::Lookup;
    use crate::providers::rp::id_key;

    #[derive(Default)]
    pub struct MapLookup(pub BTreeMap<String, Value>);

    impl MapLookup {
        pub fn put(&mut self, doc: Value) {
            let id = doc["id"].as_str().unwrap().to_owned();
            self.0.insert(id_key(&id), doc);
        }
    }

    impl Lookup for MapLookup {
        fn get(&self, id: &str) -> Option<Value> {
            self.0.get(&id_key(id)).cloned()
        }
        fn children(&self, parent_id: &str, child_type: &str) -> Vec<Value> {
            let prefix = format!("{}/{}/", id_key(parent_id), child_type.to_ascii_lowercase());
            self.0
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
                .map(|(_, v)| v.clone())
                .collect()
        }
    }
}
