//! Options said once: the [`options_table!`] macro declares a struct of options, each field with
//! its help (the doc comment), default, kind and bounds, and gives from that one declaration
//! the struct's `Default`, its clap flags (natively), its table for the page ([`OptionSpec`]:
//! the form's fields, the link's parsing and the API's argument checks) and the bounds check
//! that the page, the API and the CLI share.

use serde::{Deserialize, Serialize};

use crate::model::config::Shortcut;
use crate::train::lambda::LambdaShape;

/// What an option's value is, as the page's form shows it and a link or the CLI reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Kind {
    /// A whole number from `min` to `max`.
    Integer {
        min: f64,
        max: f64,
    },
    /// A finite number from `min` to `max`; `above`/`below`: the bound itself is excluded.
    Number {
        min: f64,
        max: f64,
        above: bool,
        below: bool,
    },
    Boolean,
    /// One of a fixed list (an enum's serde names).
    Choice {
        values: Vec<String>,
    },
    /// A named model among those that fit the data (the data's `presets`).
    Preset,
    /// A count where 0 means "all" (`null` in the options); at most `max`.
    Count {
        max: f64,
    },
}

impl Kind {
    pub fn integer(min: usize, max: u64) -> Self {
        Kind::Integer { min: min as f64, max: max as f64 }
    }

    /// `[min, max]`.
    pub fn number(min: f64, max: f64) -> Self {
        Kind::Number { min, max, above: false, below: false }
    }

    /// The serde names of `values`.
    pub fn choice<T: Serialize>(values: &[T]) -> Self {
        let name = |v: &T| serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        Kind::Choice { values: values.iter().map(name).collect() }
    }

    /// The bounds as a reader says them: "1 to 1000", "above 0, at most 10".
    fn range(&self) -> String {
        match *self {
            Kind::Integer { min, max } => format!("{min} to {max}"),
            Kind::Count { max } => format!("0 (all) to {max}"),
            Kind::Number { min, max, above, below } => match (above, below) {
                (false, false) => format!("{min} to {max}"),
                (true, false) => format!("above {min}, at most {max}"),
                (false, true) => format!("at least {min}, below {max}"),
                (true, true) => format!("above {min}, below {max}"),
            },
            _ => String::new(),
        }
    }

    /// Why `value` (a number, as its option holds it) is out of bounds, if it is.
    pub fn out_of_range(&self, label: &str, value: Option<f64>, shown: &str) -> Option<String> {
        let v = value?;
        let inside = match *self {
            Kind::Integer { min, max } => v >= min && v <= max,
            Kind::Count { max } => v <= max,
            Kind::Number { min, max, above, below } => {
                v.is_finite() && if above { v > min } else { v >= min } && if below { v < max } else { v <= max }
            }
            _ => true,
        };
        (!inside).then(|| format!("{label} {shown} is out of range: {}", self.range()))
    }
}

/// One option as the page gets it: its key in the options (camelCase), its flag on the command
/// line, its kind and bounds, its default, and the English help (the page says its own, from
/// the translations under `opt.<name>`). Its TypeScript type is written out below: `Kind`
/// flattened in is a union, which a derived interface cannot extend.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionSpec {
    pub name: String,
    /// Where it sits in the options (`["train", "epochs"]` for a study's epochs).
    pub path: Vec<String>,
    pub flag: String,
    #[serde(flatten)]
    pub kind: Kind,
    pub default: serde_json::Value,
    pub help: String,
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const OPTION_SPEC: &str = r#"
/** One option as the page gets it (see the Rust `OptionSpec`). */
export type OptionSpec = Kind & {
    name: string;
    /** Where it sits in the options (`["train", "epochs"]` for a study's epochs). */
    path: string[];
    flag: string;
    default: string | number | boolean | null;
    help: string;
};
"#;

/// An option out of range: the form's name of the field and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
pub struct OptionError {
    pub field: String,
    pub message: String,
}

/// `act_num` -> `actNum`, as serde's `rename_all = "camelCase"` names a field.
pub fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        match (c, upper) {
            ('_', _) => upper = true,
            (c, true) => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            (c, false) => out.push(c),
        }
    }
    out
}

/// A value as the bounds check sees it: a number (none for names and switches), and as a
/// message shows it.
pub trait OptionValue {
    fn number(&self) -> Option<f64> {
        None
    }
    fn shown(&self) -> String {
        String::new()
    }
}

macro_rules! numeric {
    ($($t:ty),*) => {$(
        impl OptionValue for $t {
            fn number(&self) -> Option<f64> {
                Some(*self as f64)
            }
            fn shown(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
numeric!(f64, f32, usize, u64, u32);

impl OptionValue for bool {}
impl OptionValue for String {}
impl OptionValue for Shortcut {}
impl OptionValue for LambdaShape {}

/// How many images to use: the first N, or all of them (`null` in the options, 0 on the
/// command line and in the page's form).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
#[serde(transparent)]
pub struct Limit(pub Option<usize>);

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.unwrap_or(0))
    }
}

impl Limit {
    /// The first N, or none for all: 0 is all here too (JavaScript's 0 reads as `Some(0)`).
    pub fn first(self) -> Option<usize> {
        self.0.filter(|&n| n > 0)
    }
}

impl std::str::FromStr for Limit {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n: usize = s.parse()?;
        Ok(Limit((n > 0).then_some(n)))
    }
}

impl OptionValue for Limit {
    fn number(&self) -> Option<f64> {
        Some(self.0.unwrap_or(0) as f64)
    }
    fn shown(&self) -> String {
        self.to_string()
    }
}

/// Declares a struct of options: each field's doc comment is its help, `= default` its
/// default, then its [`Kind`] and, in brackets, any further clap `arg(...)` settings (a
/// `value_enum`, an alias). See `TrainOptions` for an example; a new option is one more row.
#[macro_export]
macro_rules! options_table {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident: $ty:ty = $default:expr, $kind:expr, [$($cli:tt)*];
            )*
        }
        $(nested $(#[doc = $ndoc:literal])* $nested:ident: $nty:ty = $ndefault:expr;)?
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify), tsify(missing_as_null, hashmap_as_object))]
        #[cfg_attr(not(target_arch = "wasm32"), derive(clap::Args))]
        #[serde(rename_all = "camelCase", default)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[cfg_attr(not(target_arch = "wasm32"), arg(long, default_value_t = <$name as Default>::default().$field, $($cli)*))]
                pub $field: $ty,
            )*
            $(
                $(#[doc = $ndoc])*
                #[cfg_attr(not(target_arch = "wasm32"), command(flatten))]
                pub $nested: $nty,
            )?
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $($field: $default,)* $($nested: $ndefault,)? }
            }
        }

        impl $name {
            /// Every option of this struct: name, flag, kind and bounds, default, help.
            pub fn table() -> Vec<$crate::train::table::OptionSpec> {
                let defaults = Self::default();
                vec![$(
                    $crate::train::table::OptionSpec {
                        name: $crate::train::table::camel(stringify!($field)),
                        path: vec![$crate::train::table::camel(stringify!($field))],
                        flag: format!("--{}", stringify!($field).replace('_', "-")),
                        kind: $kind,
                        default: serde_json::to_value(&defaults.$field).unwrap_or_default(),
                        help: { let lines: &[&str] = &[$($doc.trim()),*]; lines.join(" ") },
                    },
                )*]
            }

            /// The first option outside its bounds: its name and why.
            pub fn check_bounds(&self) -> std::result::Result<(), $crate::train::table::OptionError> {
                $(
                    let label = stringify!($field).replace('_', " ");
                    let value = $crate::train::table::OptionValue::number(&self.$field);
                    let shown = $crate::train::table::OptionValue::shown(&self.$field);
                    if let Some(message) = ($kind).out_of_range(&label, value, &shown) {
                        return Err($crate::train::table::OptionError {
                            field: $crate::train::table::camel(stringify!($field)),
                            message,
                        });
                    }
                )*
                Ok(())
            }
        }
    };
}
pub use options_table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_serde_writes_them() {
        assert_eq!(camel("act_num"), "actNum");
        assert_eq!(camel("per_step"), "perStep");
        assert_eq!(camel("seed"), "seed");
    }

    #[test]
    fn ranges_read_as_written() {
        let lr = Kind::Number { min: 0.0, max: 10.0, above: true, below: false };
        assert_eq!(lr.out_of_range("lr", Some(0.0), "0").unwrap(), "lr 0 is out of range: above 0, at most 10");
        assert_eq!(
            lr.out_of_range("lr", Some(f64::NAN), "NaN").unwrap(),
            "lr NaN is out of range: above 0, at most 10"
        );
        assert_eq!(lr.out_of_range("lr", Some(10.0), "10"), None);
        assert_eq!(
            Kind::integer(1, 1000).out_of_range("epochs", Some(0.0), "0").unwrap(),
            "epochs 0 is out of range: 1 to 1000"
        );
        assert_eq!(Kind::Boolean.out_of_range("x", None, "true"), None);
    }
}
