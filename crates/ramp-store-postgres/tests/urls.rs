//! The `postgres://` URL forms people type, and the malformed ones that must be refused rather
//! than half understood. No server needed.

use ramp_store::StoreError;
use ramp_store_postgres::{PostgresUrl, DEFAULT_SCHEMA};
use tokio_postgres::config::Host;

#[test]
fn urls_give_the_connection_the_schema_and_the_bucketing() {
    let url = PostgresUrl::parse("postgres://ramp@db.internal:6543/flags").unwrap();
    assert_eq!(url.schema(), DEFAULT_SCHEMA);
    assert!(!url.randomize_percentage());
    let config = url.config();
    assert_eq!(config.get_user(), Some("ramp"));
    assert_eq!(config.get_dbname(), Some("flags"));
    assert_eq!(config.get_hosts(), &[Host::Tcp("db.internal".into())]);
    assert_eq!(config.get_ports(), &[6543]);

    let url = PostgresUrl::parse(
        "postgresql://ana:s%40cret@127.0.0.1/test?schema=ramp_test_1&randomize=true&connect_timeout=1&application_name=cli",
    )
    .unwrap();
    assert_eq!(url.schema(), "ramp_test_1");
    assert!(url.randomize_percentage());
    assert_eq!(url.config().get_password(), Some(&b"s@cret"[..]));
    assert_eq!(
        url.config().get_connect_timeout(),
        Some(&std::time::Duration::from_secs(1)),
        "parameters other than Ramp's pass through"
    );
    assert_eq!(url.config().get_application_name(), Some("cli"));
    assert!(
        !format!("{url:?}").contains("s@cret"),
        "Debug never shows the password"
    );
    assert!(!PostgresUrl::parse("postgres://a@h/d?randomize=false")
        .unwrap()
        .randomize_percentage());
}

#[test]
fn malformed_urls_are_invalid() {
    for url in [
        "",
        "localhost:5432",
        "sqlite://ramp.db",
        "postgres:/ramp@localhost/test",
        "postgres://localhost/test",
        "postgres://ramp@/test",
        "postgres://ramp@localhost/test?schema=",
        "postgres://ramp@localhost/test?schema=Ramp",
        "postgres://ramp@localhost/test?schema=ramp-test",
        "postgres://ramp@localhost/test?schema=pg_catalog",
        "postgres://ramp@localhost/test?schema=a&schema=b",
        "postgres://ramp@localhost/test?randomize=yes",
        "postgres://ramp@localhost/test?randomise=true",
        "postgres://ramp@localhost/test?sslmode=require",
        "postgres://ramp@localhost/test#top",
        "postgres://ramp@localhost:notaport/test",
    ] {
        match PostgresUrl::parse(url) {
            Err(StoreError::InvalidUrl { url: given, reason }) => {
                assert_eq!(given, url);
                assert!(!reason.is_empty());
            }
            other => panic!("{url:?} gave {other:?}"),
        }
    }
    let long = format!("postgres://ramp@localhost/test?schema={}", "s".repeat(51));
    assert!(matches!(
        PostgresUrl::parse(&long),
        Err(StoreError::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn opening_a_malformed_url_is_invalid_without_connecting() {
    let error = ramp_store_postgres::PostgresStore::open_url("postgres://nobody")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::InvalidUrl { .. }), "{error:?}");
}
