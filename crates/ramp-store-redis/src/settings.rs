//! The lifecycle settings in `ramp:settings` (a hash: `lifecycle` the JSON document,
//! `lifecycle:version` its version; absent means the defaults at version 0), which the gem
//! never reads. A write reads the document, describes it with the shared rules, then commits
//! with one script that checks the version it read, writes, and adds the event to Ramp's own
//! event set (`ramp:group-events`), so concurrent writers in any process never lose an update.

use ramp_core::{Attribution, LifecycleSettings};
use ramp_store::settings::{decode_settings, encode_settings, prepare_settings_write};
use ramp_store::{AppliedSettings, StoreError, VersionedSettings};
use redis::Value;

use crate::group_events;
use crate::pool::{Connection, Request};
use crate::reply::{array, count, unexpected};
use crate::scripts::eval;
use crate::store::{contention, now, Shared};
use crate::writes::{back_off, MAX_ATTEMPTS};

async fn read(
    shared: &Shared,
    connection: &mut Connection<'_>,
) -> Result<VersionedSettings, StoreError> {
    const CONTEXT: &str = "reading the lifecycle settings";
    let mut command = redis::cmd("HMGET");
    command
        .arg(shared.keys.settings())
        .arg("lifecycle")
        .arg("lifecycle:version");
    let reply = connection
        .first(CONTEXT, Request::Command(&command))
        .await?;
    let [body, version]: [Value; 2] = array(reply, CONTEXT)?
        .try_into()
        .map_err(|_| unexpected(CONTEXT))?;
    match body {
        Value::Nil => Ok(VersionedSettings::default()),
        Value::BulkString(body) => {
            let version = count(&version, CONTEXT)?;
            decode_settings("redis", &String::from_utf8_lossy(&body), version)
        }
        _ => Err(unexpected(CONTEXT)),
    }
}

pub(crate) async fn lifecycle_settings(shared: &Shared) -> Result<VersionedSettings, StoreError> {
    let mut connection = shared.pool.get().await?;
    read(shared, &mut connection).await
}

pub(crate) async fn put_lifecycle_settings(
    shared: &Shared,
    settings: &LifecycleSettings,
    expected_version: Option<u64>,
    attribution: &Attribution,
) -> Result<AppliedSettings, StoreError> {
    const CONTEXT: &str = "writing the lifecycle settings";
    for attempt in 0..MAX_ATTEMPTS {
        let mut connection = shared.pool.get().await?;
        let current = read(shared, &mut connection).await?;
        let time = now();
        let Some(prepared) =
            prepare_settings_write(&current, settings, expected_version, attribution, time)?
        else {
            return Ok(AppliedSettings {
                version: current.version,
                event: None,
            });
        };
        let keys = &shared.keys;
        let mut script = eval(
            &shared.scripts.write_settings,
            &[keys.settings(), keys.global_events(), keys.group_events()],
        );
        script
            .arg(expected_version.map_or_else(String::new, |version| version.to_string()))
            .arg(current.version)
            .arg(encode_settings(&prepared.stored.settings))
            .arg(group_events::encode(&prepared.event))
            .arg(time.timestamp_micros())
            .arg(shared.url.history_limit);
        let _gate = shared.gate.read().await;
        let reply = connection
            .commit(CONTEXT, Request::Command(&script))
            .await?;
        let [outcome, number, id]: [Value; 3] = array(reply, CONTEXT)?
            .try_into()
            .map_err(|_| unexpected(CONTEXT))?;
        let (number, id) = (count(&number, CONTEXT)?, count(&id, CONTEXT)?);
        match count(&outcome, CONTEXT)? {
            0 => {
                let mut event = prepared.event;
                event.id = id;
                return Ok(AppliedSettings {
                    version: number,
                    event: Some(event),
                });
            }
            1 => {
                return Err(StoreError::settings_conflict(
                    expected_version.unwrap_or(0),
                    number,
                ))
            }
            3 => back_off(attempt).await,
            _ => return Err(unexpected(CONTEXT)),
        }
    }
    Err(contention("the lifecycle settings", MAX_ATTEMPTS))
}
