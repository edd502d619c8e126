//! `text_enum!`: parsing and printing for the enums whose values are also words people type
//! and stores keep (stages, kinds, health states), from their `ALL` list and `as_str`, so the
//! three cannot drift apart in how an unknown word is refused.

/// Implements `FromStr` (an unknown word is the given `CoreError` variant, which lists the
/// choices) and `Display` (the stored word) for `$type`, which has `ALL` and `as_str`.
macro_rules! text_enum {
    ($type:ident, $error:ident) => {
        impl ::std::str::FromStr for $type {
            type Err = $crate::CoreError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $type::ALL
                    .into_iter()
                    .find(|value| value.as_str() == text)
                    .ok_or_else(|| $crate::CoreError::$error {
                        given: text.to_owned(),
                    })
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;
