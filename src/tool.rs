//! What a tool is: the [`Tool`] trait each argument struct implements, and
//! the type-erased [`ToolSpec`] the catalogue lists.

use std::fmt;

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde::de::DeserializeOwned;

use crate::arguments;
use crate::credential::CredentialKind;
use crate::error::Error;
use crate::response::OutputKind;
use crate::route::Endpoint;

/// A tool's argument struct, with everything else the tool declares.
///
/// Implementing it (and listing the type in [`crate::catalogue`]) is all a
/// new tool takes: the schema comes from the struct, the checking from its
/// `Deserialize`.
pub trait Tool: DeserializeOwned + JsonSchema {
    /// The tool's name, such as `discord_get_my_user`.
    const NAME: &'static str;
    /// One or two sentences an agent can plan with.
    const DESCRIPTION: &'static str;
    /// OAuth 2.0 scopes the tool needs with a bearer credential.
    const SCOPES: &'static [&'static str] = &[];
    /// The credential kinds the tool runs with.
    const ACCEPTS: &'static [CredentialKind];
    /// What a successful answer carries.
    const OUTPUT: OutputKind = OutputKind::Json;

    /// Where the call goes, from checked arguments.
    fn endpoint(&self) -> Endpoint;
}

/// A tool as the catalogue holds it: its declaration without its type.
#[derive(Clone, Copy)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: &'static str,
    /// What it does, for an agent.
    pub description: &'static str,
    /// OAuth 2.0 scopes it needs with a bearer credential.
    pub scopes: &'static [&'static str],
    /// The credential kinds it runs with.
    pub accepts: &'static [CredentialKind],
    /// What a successful answer carries.
    pub output: OutputKind,
    schema: fn() -> serde_json::Value,
    plan: fn(&str) -> Result<Endpoint, Error>,
}

impl ToolSpec {
    /// The spec of tool `T`.
    pub const fn of<T: Tool>() -> Self {
        Self {
            name: T::NAME,
            description: T::DESCRIPTION,
            scopes: T::SCOPES,
            accepts: T::ACCEPTS,
            output: T::OUTPUT,
            schema: input_schema::<T>,
            plan: plan::<T>,
        }
    }

    /// The JSON Schema of the tool's arguments object.
    pub fn input_schema(&self) -> serde_json::Value {
        (self.schema)()
    }

    /// Checks `arguments` against the schema and returns where the call goes.
    pub fn plan(&self, arguments: &str) -> Result<Endpoint, Error> {
        (self.plan)(arguments).map_err(|error| Error {
            message: format!("invalid arguments for {}: {}", self.name, error.message),
            ..error
        })
    }
}

impl fmt::Debug for ToolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToolSpec")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The schema of `T`, self-contained (no `$ref`s) so that any agent
/// framework can read it, with optional fields simply left out of `required`.
fn input_schema<T: JsonSchema>() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    if let Some(object) = schema.as_object_mut() {
        // The tool's own description says what the struct doc would.
        object.remove("title");
        object.remove("description");
        object
            .entry("properties")
            .or_insert_with(|| serde_json::json!({}));
    }
    schema
}

fn plan<T: Tool>(arguments: &str) -> Result<Endpoint, Error> {
    arguments::parse::<T>(arguments).map(|arguments| arguments.endpoint())
}
