//! What a tool is: the [`Tool`] trait each argument struct implements, and
//! the type-erased [`ToolSpec`] the catalogue lists.
//!
//! A tool's JSON Schema is derived from its argument struct by schemars, but
//! ahead of time: `cargo xtask generate` writes each schema's text into
//! `src/input_schemas.rs`, and [`ToolSpec::input_schema`] reads it there. So
//! listing the tools does no work, and schemars, which only runs outside
//! the component, is not linked into it. A unit test fails when the text drifts
//! from the structs.

use alloc::format;
use core::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::arguments::{self, ArgumentsDeserializer};
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
    /// Deserializes the argument struct and says where the call goes.
    endpoint_of: fn(ArgumentsDeserializer<'_, '_>) -> Result<Endpoint, serde_json::Error>,
    /// Outside the component only, so that nothing in it refers to schemars.
    #[cfg(not(component))]
    derive_input_schema: fn() -> String,
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
            endpoint_of: endpoint_of::<T>,
            #[cfg(not(component))]
            derive_input_schema: derive_input_schema::<T>,
        }
    }

    /// The JSON Schema of the tool's arguments object, as compact JSON text:
    /// what [`ToolSpec::derived_input_schema`] gave when `cargo xtask
    /// generate` last ran.
    pub fn input_schema(&self) -> &'static str {
        crate::input_schemas::INPUT_SCHEMAS
            .iter()
            .find(|(tool, _)| *tool == self.name)
            .map(|(_, schema)| *schema)
            .unwrap_or_else(|| {
                panic!(
                    "{} has no generated input schema: run `cargo xtask generate`",
                    self.name
                )
            })
    }

    /// The JSON Schema schemars derives from the argument struct now, as
    /// `cargo xtask generate` writes it. Not in the component.
    #[cfg(not(component))]
    pub fn derived_input_schema(&self) -> String {
        (self.derive_input_schema)()
    }

    /// Checks `arguments` against the schema and returns where the call goes.
    pub fn plan(&self, arguments: &str) -> Result<Endpoint, Error> {
        arguments::parse_with(arguments, self.endpoint_of).map_err(|error| Error {
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
/// framework can read it, with optional fields simply left out of `required`,
/// as compact JSON with its keys in order (whatever serde_json's features).
#[cfg(not(component))]
fn derive_input_schema<T: JsonSchema>() -> String {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
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
    schema.sort_all_objects();
    schema.to_string()
}

/// Where a call to `T` goes, from its arguments: all that is compiled once
/// per tool.
fn endpoint_of<T: Tool>(
    arguments: ArgumentsDeserializer<'_, '_>,
) -> Result<Endpoint, serde_json::Error> {
    T::deserialize(arguments).map(|arguments| arguments.endpoint())
}
