//! Code-defined groups: predicates an application registers, like the gem's `define_group`.
//!
//! They live in the application, not in the store, so evaluation receives them as a parameter.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::Context;

/// A predicate deciding whether a context belongs to a group.
pub type GroupPredicate = Arc<dyn Fn(&Context) -> bool + Send + Sync>;

/// The code-defined groups an application registered, by name.
#[derive(Clone, Default)]
pub struct CodeGroups {
    predicates: HashMap<String, GroupPredicate>,
}

impl CodeGroups {
    /// No code groups.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers (or replaces) a group.
    pub fn define(
        &mut self,
        name: impl Into<String>,
        predicate: impl Fn(&Context) -> bool + Send + Sync + 'static,
    ) {
        self.predicates.insert(name.into(), Arc::new(predicate));
    }

    /// Whether `name` is defined here and the context belongs to it; `None` when undefined.
    pub fn contains(&self, name: &str, context: &Context) -> Option<bool> {
        self.predicates
            .get(name)
            .map(|predicate| predicate(context))
    }

    /// The names of the registered groups, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.predicates.keys().cloned().collect();
        names.sort();
        names
    }
}

impl fmt::Debug for CodeGroups {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CodeGroups")
            .field("names", &self.names())
            .finish()
    }
}
