//! Comparing what code references with what the store defines: flags referenced but not
//! defined (a typo, or a flag deleted while code still asks for it) and flags defined but never
//! referenced (done, or only used from code this scan did not see).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::Reference;

/// References set against the defined flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Comparison {
    /// Referenced but not defined: flag -> how many references.
    pub undefined: BTreeMap<String, usize>,
    /// Defined but never referenced, sorted.
    pub unreferenced: Vec<String>,
    /// Defined and referenced: flag -> how many references.
    pub referenced: BTreeMap<String, usize>,
}

impl Comparison {
    /// Sets `references` against the names of the defined flags.
    pub fn new<'a>(references: &[Reference], defined: impl IntoIterator<Item = &'a str>) -> Self {
        let defined: BTreeSet<&str> = defined.into_iter().collect();
        let mut comparison = Comparison::default();
        for reference in references {
            let counts = if defined.contains(reference.feature.as_str()) {
                &mut comparison.referenced
            } else {
                &mut comparison.undefined
            };
            *counts.entry(reference.feature.clone()).or_default() += 1;
        }
        comparison.unreferenced = defined
            .into_iter()
            .filter(|name| !comparison.referenced.contains_key(*name))
            .map(str::to_owned)
            .collect();
        comparison
    }
}
