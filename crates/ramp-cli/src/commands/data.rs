//! `data set|clear`: a feature's free-form data (description, owner, links...).

use clap::Subcommand;
use ramp_core::FeatureName;
use serde_json::Map;

use super::Session;
use crate::key_value;

/// `ramp data ...`
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Set keys: KEY=VALUE, where VALUE is JSON if it parses (30, true, null) else text; KEY=null removes KEY
    Set {
        /// The feature
        name: String,
        /// The entries
        #[arg(required = true, value_name = "KEY=VALUE")]
        entries: Vec<String>,
    },
    /// Remove every key
    Clear {
        /// The feature
        name: String,
    },
}

/// Runs `ramp data ...`.
pub async fn run(session: &Session, command: DataCommand) -> anyhow::Result<()> {
    let feature = match command {
        DataCommand::Set { name, entries } => {
            FeatureName::new(name.as_str())?;
            let mut data = Map::new();
            for entry in &entries {
                let (key, value) = key_value::parse(entry, "data entry")?;
                data.insert(key, value);
            }
            session.rollout.set_feature_data(&name, data).await?
        }
        DataCommand::Clear { name } => session.rollout.clear_feature_data(&name).await?,
    };
    let line = if feature.data.is_empty() {
        "data cleared".to_owned()
    } else {
        format!("data {}", serde_json::Value::Object(feature.data.clone()))
    };
    Ok(session.output.feature(&feature, line)?)
}
