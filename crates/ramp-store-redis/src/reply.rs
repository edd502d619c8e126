//! Reading the driver's replies (`redis::Value`) into what the operations need, and a stored
//! payload into a feature.
//!
//! Replies come from our own scripts and commands, so an unexpected shape means the server is
//! not behaving as Redis does: that is an `Unavailable` error naming the step, never a panic.

use ramp_core::{Feature, FeatureName};
use ramp_store::StoreError;
use redis::Value;

use crate::error::{gave_up, redis_error, GaveUp};
use crate::payload;

/// What a feature key held when it was read.
#[derive(Debug)]
pub(crate) enum Stored {
    /// No such key: the feature does not exist.
    Missing,
    /// The payload string.
    Bytes(Vec<u8>),
    /// A key of another Redis type (a hash, a list...): unreadable for the gem too.
    WrongType,
}

impl Stored {
    /// Reads one GET reply (from a pipeline run with `ignore_errors`, which keeps server errors
    /// as values).
    pub(crate) fn from_reply(value: Value, context: &'static str) -> Result<Self, StoreError> {
        match value {
            Value::Nil => Ok(Stored::Missing),
            Value::BulkString(bytes) => Ok(Stored::Bytes(bytes)),
            Value::ServerError(error) if error.code() == "WRONGTYPE" => Ok(Stored::WrongType),
            Value::ServerError(error) => Err(redis_error(context, error.into())),
            _ => Err(unexpected(context)),
        }
    }

    /// The payload's size, to decide whether decoding it may run inline.
    pub(crate) fn size(&self) -> usize {
        match self {
            Stored::Bytes(bytes) => bytes.len(),
            _ => 0,
        }
    }

    /// The feature it holds (`None`: it does not exist). Never fails: see `payload::decode`.
    pub(crate) fn feature(&self, name: &FeatureName) -> Option<Feature> {
        match self {
            Stored::Missing => None,
            Stored::Bytes(bytes) => Some(payload::decode(name, bytes)),
            Stored::WrongType => Some(payload::damaged(
                name,
                "the key holds another Redis type than the gem's payload string".into(),
            )),
        }
    }
}

/// The error for a reply of the wrong shape.
pub(crate) fn unexpected(context: &'static str) -> StoreError {
    gave_up(GaveUp::UnexpectedReply(context))
}

/// The items of an array reply.
pub(crate) fn array(value: Value, context: &'static str) -> Result<Vec<Value>, StoreError> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        _ => Err(unexpected(context)),
    }
}

/// An integer reply (scripts return Lua numbers as integers).
pub(crate) fn integer(value: &Value, context: &'static str) -> Result<i64, StoreError> {
    match value {
        Value::Int(number) => Ok(*number),
        Value::BulkString(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or_else(|| unexpected(context)),
        _ => Err(unexpected(context)),
    }
}

/// A non-negative integer reply (versions, ids).
pub(crate) fn count(value: &Value, context: &'static str) -> Result<u64, StoreError> {
    u64::try_from(integer(value, context)?).map_err(|_| unexpected(context))
}

/// The bytes of a string reply.
pub(crate) fn bytes(value: Value, context: &'static str) -> Result<Vec<u8>, StoreError> {
    match value {
        Value::BulkString(bytes) => Ok(bytes),
        Value::SimpleString(text) => Ok(text.into_bytes()),
        Value::Okay => Ok(b"OK".to_vec()),
        _ => Err(unexpected(context)),
    }
}

/// The `member, score` pairs of a `WITHSCORES` reply.
pub(crate) fn scored(
    value: Value,
    context: &'static str,
) -> Result<Vec<(Vec<u8>, f64)>, StoreError> {
    let mut items = array(value, context)?.into_iter();
    let mut pairs = Vec::new();
    while let (Some(member), Some(score)) = (items.next(), items.next()) {
        let score = match score {
            Value::Double(score) => score,
            other => std::str::from_utf8(&bytes(other, context)?)
                .ok()
                .and_then(|text| text.parse::<f64>().ok())
                .ok_or_else(|| unexpected(context))?,
        };
        pairs.push((bytes(member, context)?, score));
    }
    Ok(pairs)
}

/// A score as the event id it encodes (the gem's scores are minus microseconds).
pub(crate) fn score_of(id: u64) -> String {
    format!("-{id}")
}
