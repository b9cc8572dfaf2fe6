//! Deserializing parsed arguments while noting where a value is refused
//! (`limit`, `ids[1]`, `style.shield`), so that the error can name it.
//!
//! This is what the `serde_path_to_error` crate did, with the same paths,
//! for the one deserializer arguments go through (`serde_json`'s, over a
//! parsed [`Value`]). That crate wraps every visitor, access and seed
//! generically, and with 16 argument structs its wrappers cost the
//! component about 30 KB; following the value directly costs a fraction of
//! that. Objects, arrays (and tuples), options and enums are followed; every
//! other value is handed to `serde_json`'s deserializer, so each message is
//! still `serde_json`'s own. `tests/properties.rs` holds the paths and
//! messages to `serde_path_to_error`'s over generated arguments.

use alloc::string::String;
use core::cell::Cell;
use core::fmt::Write as _;

use serde::Deserialize;
use serde::de::value::BorrowedStrDeserializer;
use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error as _, Expected, MapAccess, SeqAccess,
    Unexpected, VariantAccess, Visitor,
};
use serde_json::{Error, Map, Value};

/// A refusal and where it happened.
pub(super) struct Refused {
    /// Field names joined by `.`, element indexes as `[1]`; `.` for the
    /// arguments as a whole.
    pub path: String,
    /// What `serde_json` said.
    pub error: Error,
}

/// What `read` makes of `value`, or the refusal with the path of the
/// innermost place the error passed through.
pub(super) fn read<'de, R>(
    value: &'de Value,
    read: impl for<'p> FnOnce(ArgumentsDeserializer<'de, 'p>) -> Result<R, Error>,
) -> Result<R, Refused> {
    let refusal = Refusal::default();
    read(ArgumentsDeserializer {
        value,
        place: Place::Root,
        refusal: &refusal,
    })
    .map_err(|error| Refused {
        path: refusal.0.take().unwrap_or_else(|| Place::Root.path()),
        error,
    })
}

/// Where a value sits in the arguments.
#[derive(Clone, Copy)]
enum Place<'p> {
    Root,
    /// A field of an object, or the value of an enum variant.
    Key {
        parent: &'p Place<'p>,
        name: &'p str,
    },
    /// An element of an array.
    Element {
        parent: &'p Place<'p>,
        index: usize,
    },
}

impl Place<'_> {
    fn path(&self) -> String {
        let mut path = String::new();
        if !self.write(&mut path) {
            path.push('.');
        }
        path
    }

    /// Writes the path below the root, and says whether there was one.
    fn write(&self, path: &mut String) -> bool {
        match *self {
            Place::Root => false,
            Place::Key { parent, name } => {
                if parent.write(path) {
                    path.push('.');
                }
                path.push_str(name);
                true
            }
            Place::Element { parent, index } => {
                parent.write(path);
                let _ = write!(path, "[{index}]");
                true
            }
        }
    }
}

/// The path of the first place an error was noted at: errors pass outwards,
/// so that is the innermost one.
#[derive(Default)]
struct Refusal(Cell<Option<String>>);

impl Refusal {
    fn noted(&self, error: Error, place: &Place<'_>) -> Error {
        let path = self.0.take().unwrap_or_else(|| place.path());
        self.0.set(Some(path));
        error
    }
}

/// `serde_json`'s description of `value` in a type error.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(boolean) => Unexpected::Bool(*boolean),
        Value::Number(number) => match (number.as_u64(), number.as_i64()) {
            (Some(unsigned), _) => Unexpected::Unsigned(unsigned),
            (None, Some(signed)) => Unexpected::Signed(signed),
            (None, None) => Unexpected::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(string) => Unexpected::Str(string),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

fn invalid_type(value: &Value, expected: &dyn Expected) -> Error {
    Error::invalid_type(unexpected(value), expected)
}

/// A value of the arguments (at first, all of them), and where it sits.
#[derive(Clone, Copy)]
pub(crate) struct ArgumentsDeserializer<'de, 'p> {
    value: &'de Value,
    place: Place<'p>,
    refusal: &'p Refusal,
}

impl<'de> ArgumentsDeserializer<'de, '_> {
    /// The value itself, for a reader that says where a refusal happened
    /// on its own (`Object`'s), and so needs no tracking.
    pub(crate) fn value(&self) -> &'de Value {
        self.value
    }

    fn noted<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        result.map_err(|error| self.refusal.noted(error, &self.place))
    }
}

/// Leaves are read by `serde_json`'s deserializer for `&Value`, with a
/// refusal noted here.
macro_rules! read_by_serde_json {
    ($($method:ident($($argument:ident: $type:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($argument: $type,)* visitor: V) -> Result<V::Value, Error> {
            let result = self.value.$method($($argument,)* visitor);
            self.noted(result)
        }
    )*};
}

impl<'de> Deserializer<'de> for ArgumentsDeserializer<'de, '_> {
    type Error = Error;

    read_by_serde_json! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        };
        self.noted(result)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let result = visitor.visit_newtype_struct(self);
        self.noted(result)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.value {
            Value::Array(items) => {
                let mut elements = Elements {
                    items: items.iter(),
                    index: 0,
                    parent: &self.place,
                    refusal: self.refusal,
                };
                visitor.visit_seq(&mut elements).and_then(|seq| {
                    if elements.items.len() == 0 {
                        Ok(seq)
                    } else {
                        Err(Error::invalid_length(
                            items.len(),
                            &"fewer elements in array",
                        ))
                    }
                })
            }
            other => Err(invalid_type(other, &visitor)),
        };
        self.noted(result)
    }

    /// A tuple is an array, as in `serde_json`.
    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let result = match self.value {
            Value::Object(object) => Fields::visit(object, &self.place, self.refusal, visitor),
            other => Err(invalid_type(other, &visitor)),
        };
        self.noted(result)
    }

    /// A struct is read from an object only. `serde_json` would also read
    /// one from an array of its fields in order, but arguments are always
    /// an object and no argument holds a struct, and reading arrays would
    /// cost every argument struct a second visitor in the component.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let variant = |name, value| Variant {
            name,
            value,
            parent: &self.place,
            refusal: self.refusal,
        };
        let result = match self.value {
            Value::String(name) => visitor.visit_enum(variant(name, None)),
            Value::Object(object) => {
                let mut entries = object.iter();
                match (entries.next(), entries.next()) {
                    (Some((name, value)), None) => visitor.visit_enum(variant(name, Some(value))),
                    _ => Err(Error::invalid_value(
                        Unexpected::Map,
                        &"map with a single key",
                    )),
                }
            }
            other => Err(invalid_type(other, &"string or map")),
        };
        self.noted(result)
    }
}

/// The fields of an object, each value tracked under its name.
struct Fields<'de, 'p> {
    entries: serde_json::map::Iter<'de>,
    /// The entry whose key was read last, until its value is.
    current: Option<(&'de str, &'de Value)>,
    parent: &'p Place<'p>,
    refusal: &'p Refusal,
}

impl<'de, 'p> Fields<'de, 'p> {
    /// `visitor` over `object`; like `serde_json`, every entry must be read.
    fn visit<V: Visitor<'de>>(
        object: &'de Map<String, Value>,
        parent: &'p Place<'p>,
        refusal: &'p Refusal,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut fields = Fields {
            entries: object.iter(),
            current: None,
            parent,
            refusal,
        };
        let map = visitor.visit_map(&mut fields)?;
        if fields.entries.len() == 0 {
            Ok(map)
        } else {
            Err(Error::invalid_length(
                object.len(),
                &"fewer elements in map",
            ))
        }
    }
}

impl<'de> MapAccess<'de> for Fields<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((name, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some((name, value));
        let place = Place::Key {
            parent: self.parent,
            name,
        };
        seed.deserialize(BorrowedStrDeserializer::new(name))
            .map(Some)
            .map_err(|error| self.refusal.noted(error, &place))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let Some((name, value)) = self.current.take() else {
            let error = Error::custom("value is missing");
            return Err(self.refusal.noted(error, self.parent));
        };
        let place = Place::Key {
            parent: self.parent,
            name,
        };
        let tracked = ArgumentsDeserializer {
            value,
            place,
            refusal: self.refusal,
        };
        seed.deserialize(tracked)
            .map_err(|error| self.refusal.noted(error, &place))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// The elements of an array, each tracked under its index.
struct Elements<'de, 'p> {
    items: core::slice::Iter<'de, Value>,
    index: usize,
    parent: &'p Place<'p>,
    refusal: &'p Refusal,
}

impl<'de> SeqAccess<'de> for Elements<'de, '_> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        let place = Place::Element {
            parent: self.parent,
            index: self.index,
        };
        self.index += 1;
        let tracked = ArgumentsDeserializer {
            value,
            place,
            refusal: self.refusal,
        };
        seed.deserialize(tracked)
            .map(Some)
            .map_err(|error| self.refusal.noted(error, &place))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// An enum's variant: its name, and its value when it came as
/// `{"name": value}`.
struct Variant<'de, 'p> {
    name: &'de str,
    value: Option<&'de Value>,
    parent: &'p Place<'p>,
    refusal: &'p Refusal,
}

impl<'de: 'p, 'p> EnumAccess<'de> for Variant<'de, 'p> {
    type Error = Error;
    type Variant = VariantValue<'de, 'p>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self::Variant), Error> {
        let chosen = seed
            .deserialize(BorrowedStrDeserializer::new(self.name))
            .map_err(|error| self.refusal.noted(error, self.parent))?;
        let value = VariantValue {
            value: self.value,
            place: Place::Key {
                parent: self.parent,
                name: self.name,
            },
            refusal: self.refusal,
        };
        Ok((chosen, value))
    }
}

/// A variant's value, tracked under the variant's name.
struct VariantValue<'de, 'p> {
    value: Option<&'de Value>,
    place: Place<'p>,
    refusal: &'p Refusal,
}

impl<'de> VariantValue<'de, '_> {
    fn tracked(&self, value: &'de Value) -> ArgumentsDeserializer<'de, '_> {
        ArgumentsDeserializer {
            value,
            place: self.place,
            refusal: self.refusal,
        }
    }

    fn noted<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        result.map_err(|error| self.refusal.noted(error, &self.place))
    }
}

impl<'de> VariantAccess<'de> for VariantValue<'de, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        let result = match self.value {
            Some(value) => <()>::deserialize(value),
            None => Ok(()),
        };
        self.noted(result)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        let result = match self.value {
            Some(value) => seed.deserialize(self.tracked(value)),
            None => Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"newtype variant",
            )),
        };
        self.noted(result)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        let result = match self.value {
            Some(Value::Array(items)) if items.is_empty() => visitor.visit_unit(),
            Some(value @ Value::Array(_)) => self.tracked(value).deserialize_seq(visitor),
            Some(other) => Err(invalid_type(other, &"tuple variant")),
            None => Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"tuple variant",
            )),
        };
        self.noted(result)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let result = match self.value {
            Some(value @ Value::Object(_)) => self.tracked(value).deserialize_map(visitor),
            Some(other) => Err(invalid_type(other, &"struct variant")),
            None => Err(Error::invalid_type(
                Unexpected::UnitVariant,
                &"struct variant",
            )),
        };
        self.noted(result)
    }
}
