//! placeholder: the redis store.
