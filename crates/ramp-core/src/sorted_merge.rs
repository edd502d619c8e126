//! Applying edits by name to a list sorted by name, in one pass: how a snapshot and a compiled
//! snapshot take a change of some features without re-sorting or re-building the rest.
//!
//! One merge rather than a binary search and an insert or remove per edit, so a change of
//! many features costs one pass over the list, not one shift of it per feature.

use std::collections::BTreeMap;

/// Edits keyed by name, sorted: `None` removes, `Some` inserts or replaces.
pub(crate) struct Edits<K, V> {
    by_name: BTreeMap<K, Option<V>>,
}

impl<K: Ord + AsRef<str>, V> Edits<K, V> {
    /// Removals first, then insertions and replacements, each later edit of a name replacing an
    /// earlier one: the same result as applying them one by one in that order.
    pub(crate) fn new(
        removed: impl IntoIterator<Item = K>,
        inserted: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut by_name = BTreeMap::new();
        for name in removed {
            by_name.insert(name, None);
        }
        for (name, value) in inserted {
            by_name.insert(name, Some(value));
        }
        Self { by_name }
    }
}

/// `old` (sorted by `name`) with `edits` applied, still sorted, each new value made by `make`;
/// and whether the set of names changed (something was inserted or removed).
pub(crate) fn merge_by_name<T, K: Ord + AsRef<str>, V>(
    old: impl IntoIterator<Item = T>,
    name: impl Fn(&T) -> &str,
    edits: Edits<K, V>,
    mut make: impl FnMut(V) -> T,
) -> (Vec<T>, bool) {
    let old = old.into_iter();
    let mut merged = Vec::with_capacity(old.size_hint().0 + edits.by_name.len());
    let mut old = old.peekable();
    let mut names_changed = false;
    for (edited, edit) in edits.by_name {
        let edited = edited.as_ref();
        while let Some(kept) = old.next_if(|item| name(item) < edited) {
            merged.push(kept);
        }
        let existed = old.next_if(|item| name(item) == edited).is_some();
        match edit {
            Some(value) => {
                merged.push(make(value));
                names_changed |= !existed;
            }
            None => names_changed |= existed,
        }
    }
    merged.extend(old);
    (merged, names_changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merge(old: &[&str], removed: &[&str], inserted: &[&str]) -> (Vec<String>, bool) {
        let edits = Edits::new(
            removed.iter().copied(),
            inserted.iter().map(|name| (*name, name.to_uppercase())),
        );
        merge_by_name(
            old.iter().map(|name| name.to_string()),
            |item| item.as_str(),
            edits,
            |value| value,
        )
    }

    #[test]
    fn edits_apply_in_one_pass_and_keep_the_order() {
        let (merged, names_changed) = merge(&["a", "c", "e"], &["c", "nope"], &["d", "a", "z"]);
        assert_eq!(merged, ["A", "D", "e", "Z"]);
        assert!(names_changed);
    }

    #[test]
    fn replacing_keeps_the_names_and_says_so() {
        let (merged, names_changed) = merge(&["a", "b"], &[], &["b"]);
        assert_eq!(merged, ["a", "B"]);
        assert!(!names_changed);
        let (merged, names_changed) = merge(&["a", "b"], &["x"], &[]);
        assert_eq!(merged, ["a", "b"]);
        assert!(!names_changed, "removing what is not there changes nothing");
    }

    #[test]
    fn a_name_both_removed_and_inserted_is_inserted() {
        let (merged, names_changed) = merge(&["a"], &["a", "b"], &["a", "b"]);
        assert_eq!(merged, ["A", "B"]);
        assert!(names_changed);
    }
}
