//! placeholder: the postgres store.
