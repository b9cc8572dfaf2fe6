//! The sandbox's data: Discord objects shaped as Discord's OpenAPI
//! description says (`fixtures.json`, checked against the spec by the
//! `fixtures_match_openapi` test).

use serde_json::Value;

/// The parsed `fixtures.json`.
pub(crate) struct Fixtures {
    pub data: Value,
}

impl Fixtures {
    pub fn load() -> Self {
        let data = serde_json::from_str(include_str!("fixtures.json"))
            .expect("fixtures.json is valid JSON");
        Self { data }
    }

    /// The object at `data[table][key]`, if any.
    pub fn get(&self, table: &str, key: &str) -> Option<&Value> {
        self.data.get(table)?.get(key)
    }

    /// The items of the array at `data[table]` (or `data[table][key]` when
    /// `key` is not empty).
    pub fn list<'a>(&'a self, table: &str, key: &str) -> impl Iterator<Item = &'a Value> + 'a {
        let value = &self.data[table];
        let value = if key.is_empty() { value } else { &value[key] };
        value.as_array().into_iter().flatten()
    }
}
