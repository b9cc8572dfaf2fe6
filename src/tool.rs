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
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::arguments::{self, ArgumentsDeserializer};
use crate::credential::CredentialKind;
use crate::error::Error;
use crate::http::Method;
use crate::response::OutputKind;
use crate::route::{Endpoint, Nonce};
use crate::{input_schemas, packed};

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
    /// The HTTP method of the tool's route, stated here so that it is known
    /// without a call (MCP annotations derive from it); a test holds it to
    /// the method of the endpoint a call plans.
    const METHOD: Method = Method::Get;

    /// Where the call goes, from checked arguments and the call's `nonce`
    /// (which a message is sent with); refuses arguments that only break a
    /// rule together (`invalid-arguments`, naming the fields).
    fn endpoint(&self, nonce: &Nonce) -> Result<Endpoint, Error>;
}

/// A tool as the catalogue holds it: its declaration without its type.
#[derive(Clone, Copy)]
pub struct ToolSpec {
    /// The tool's name.
    pub name: &'static str,
    /// What it does, for an agent. Not in the component, which carries it
    /// packed with the schemas ([`listed`]).
    #[cfg(not(component))]
    pub description: &'static str,
    /// OAuth 2.0 scopes it needs with a bearer credential.
    pub scopes: &'static [&'static str],
    /// The credential kinds it runs with.
    pub accepts: &'static [CredentialKind],
    /// What a successful answer carries.
    pub output: OutputKind,
    /// The HTTP method of the tool's route.
    pub method: Method,
    /// Deserializes the argument struct and says where the call goes.
    endpoint_of: EndpointOf,
    /// Outside the component only, so that nothing in it refers to schemars.
    #[cfg(not(component))]
    derive_input_schema: fn() -> String,
}

impl ToolSpec {
    /// The spec of tool `T`.
    pub const fn of<T: Tool>() -> Self {
        Self {
            name: T::NAME,
            #[cfg(not(component))]
            description: T::DESCRIPTION,
            scopes: T::SCOPES,
            accepts: T::ACCEPTS,
            output: T::OUTPUT,
            method: T::METHOD,
            endpoint_of: endpoint_of::<T>,
            #[cfg(not(component))]
            derive_input_schema: derive_input_schema::<T>,
        }
    }

    /// The JSON Schema of the tool's arguments object, as compact JSON text:
    /// what [`ToolSpec::derived_input_schema`] gave when `cargo xtask
    /// generate` last ran.
    pub fn input_schema(&self) -> String {
        listed()
            .into_iter()
            .find(|listed| listed.name == self.name)
            .map(|listed| listed.input_schema)
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

    /// Checks `arguments` against the schema and returns where the call
    /// goes, with `nonce` in its body if it sends a message.
    pub fn plan(&self, arguments: &str, nonce: &Nonce) -> Result<Endpoint, Error> {
        arguments::parse_with(arguments, |arguments| (self.endpoint_of)(arguments, nonce))
            .and_then(|endpoint| endpoint)
            .map_err(|error| Error {
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

/// A tool as `list-tools` gives it: what `cargo xtask generate` last wrote
/// of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The tool's name.
    pub name: &'static str,
    /// What it does, for an agent.
    pub description: String,
    /// The JSON Schema of its arguments object, as compact JSON text.
    pub input_schema: String,
}

/// Every tool's description and input schema, in catalogue order, unpacked
/// once: the text is two lines per tool, as `cargo xtask generate` packs
/// it.
pub fn listed() -> Vec<Listed> {
    let text = String::from_utf8(packed::unpack(input_schemas::PACKED)).unwrap_or_default();
    let mut lines = text.split('\n');
    let mut listed = Vec::with_capacity(input_schemas::TOOLS.len());
    for &name in input_schemas::TOOLS {
        let (Some(description), Some(input_schema)) = (lines.next(), lines.next()) else {
            break;
        };
        listed.push(Listed {
            name,
            description: description.into(),
            input_schema: input_schema.into(),
        });
    }
    listed
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

/// What reads a tool's arguments: a refusal of one argument (which the
/// reader names), else the endpoint or the refusal of arguments together.
type EndpointOf =
    fn(ArgumentsDeserializer<'_, '_>, &Nonce) -> Result<Result<Endpoint, Error>, serde_json::Error>;

/// Where a call to `T` goes, from its arguments: all that is compiled once
/// per tool.
fn endpoint_of<T: Tool>(
    arguments: ArgumentsDeserializer<'_, '_>,
    nonce: &Nonce,
) -> Result<Result<Endpoint, Error>, serde_json::Error> {
    // From the value itself: argument structs read with `Object`, which
    // names the refused field (and where inside it) on its own.
    T::deserialize(arguments.value()).map(|arguments| arguments.endpoint(nonce))
}
