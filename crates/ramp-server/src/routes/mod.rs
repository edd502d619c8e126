//! Every route, in one table: the same declarations build the router and the OpenAPI document,
//! so the document cannot miss a route.

pub mod accounts;
pub mod cleanup;
pub mod code_references;
pub mod edits;
pub mod evaluate;
pub mod exposure_reads;
pub mod exposure_users;
pub mod exposures;
pub mod feature_list;
pub mod feature_order;
pub mod feature_users;
pub mod features;
pub mod group_history;
pub mod groups;
pub mod history;
pub mod last_change;
pub mod lifecycle;
pub mod migrations;
pub mod ofrep;
pub mod operators;
pub mod session;
pub mod stamps;
pub mod stream;
pub mod tokens;
pub mod transfer;
pub mod ui;
pub mod user_list;

use std::sync::OnceLock;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::{middleware, Json, Router};
use tower::ServiceBuilder;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::{Modify, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Ramp", description = "Gradual feature rollout: admin API, OFREP and the SDK feed."),
    modifiers(&Security),
    security(("bearer" = []), ("api_key" = []))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// The routes that need a token (all but the operators' and the OpenAPI document).
fn authenticated() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            feature_list::list_features,
            features::create_feature
        ))
        .routes(routes!(features::show_feature, features::delete_feature))
        .routes(routes!(features::change_feature))
        .routes(routes!(edits::activate))
        .routes(routes!(edits::deactivate))
        .routes(routes!(edits::set_percentage))
        .routes(routes!(
            edits::add_users,
            edits::set_users,
            feature_users::users_page
        ))
        .routes(routes!(feature_users::coverage))
        .routes(routes!(edits::remove_users))
        .routes(routes!(edits::exclude_users))
        .routes(routes!(edits::include_users))
        .routes(routes!(edits::add_groups))
        .routes(routes!(edits::remove_groups))
        .routes(routes!(edits::set_data, edits::clear_data))
        .routes(routes!(edits::set_stage))
        .routes(routes!(user_list::stream_users))
        .routes(routes!(evaluate::check))
        .routes(routes!(evaluate::states))
        .routes(routes!(
            evaluate::report_code_groups,
            evaluate::list_code_groups
        ))
        .routes(routes!(
            exposures::report_exposures,
            exposures::exposure_summary
        ))
        .routes(routes!(exposure_reads::feature_exposures))
        .routes(routes!(exposure_users::feature_users))
        .routes(routes!(exposure_reads::exposure_activity))
        .routes(routes!(exposure_reads::unchecked_features))
        .routes(routes!(code_references::put_code_references))
        .routes(routes!(code_references::reference_summary))
        .routes(routes!(cleanup::cleanup))
        .routes(routes!(code_references::feature_references))
        .routes(routes!(code_references::removal_checklist_of))
        .routes(routes!(migrations::feature_migrations))
        .merge(migrations::reports())
        .routes(routes!(stamps::resolve_stamp))
        .routes(routes!(groups::list_groups))
        .routes(routes!(
            groups::show_group,
            groups::put_group,
            groups::delete_group
        ))
        .routes(routes!(history::global_history))
        .routes(routes!(history::feature_history))
        .routes(routes!(history::history_event))
        .routes(routes!(history::revert))
        .routes(routes!(group_history::group_history))
        .routes(routes!(group_history::revert_group))
        .routes(routes!(
            lifecycle::lifecycle_settings,
            lifecycle::put_lifecycle_settings
        ))
        .routes(routes!(transfer::export))
        .routes(routes!(transfer::import))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(accounts::list_accounts, accounts::create_account))
        .routes(routes!(accounts::delete_account))
        .routes(routes!(stream::snapshot))
        .routes(routes!(ofrep::evaluate_flag))
        .routes(routes!(ofrep::evaluate_flags))
}

/// The event stream: it needs a token too, but stays out of the compression layer, whose body
/// type (room for a Brotli encoder) would cost every idle subscriber about 6 KB.
fn event_stream() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(stream::stream))
}

fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_document))
        .routes(routes!(operators::healthz))
        .routes(routes!(operators::readyz))
        .routes(routes!(operators::metrics))
        .routes(routes!(
            session::log_in,
            session::current_session,
            session::log_out
        ))
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operators",
    responses((status = 200, body = serde_json::Value)))]
async fn openapi_document() -> Json<OpenApi> {
    Json(DOCUMENT.get().cloned().unwrap_or_else(ApiDoc::openapi))
}

/// The document `build` made; every server in a process has the same routes.
static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();

/// Answers smaller than this go as they are: compressing them saves too little to pay for.
const SMALLEST_COMPRESSED_BYTES: u16 = 1024;

/// Compresses answers (gzip or Brotli, when the client asks) at the fastest level: the large
/// answers (a 10,000-feature list is megabytes of JSON) shrink several times for a fraction
/// of a millisecond per 100 KB, and a client cannot make the server spend more than that.
/// Never an event stream: each event must leave at once, not wait in a compressor (the
/// predicate says so too, for any other `text/event-stream` answer).
fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = SizeAbove::new(SMALLEST_COMPRESSED_BYTES)
        .and(NotForContentType::SSE)
        .and(NotForContentType::IMAGES);
    CompressionLayer::new()
        .quality(CompressionLevel::Fastest)
        .compress_when(predicate)
}

/// The router and the OpenAPI document it was built with.
pub fn build(state: AppState) -> (Router, OpenApi) {
    let authorize = middleware::from_fn_with_state(state.clone(), crate::auth::authorize);
    let (authenticated, authenticated_document) = authenticated().split_for_parts();
    let authenticated = authenticated.route_layer(authorize.clone());
    let (event_stream, event_stream_document) = event_stream().split_for_parts();
    let event_stream = event_stream.route_layer(authorize);
    let (public, public_document) = public().split_for_parts();
    let mut document = ApiDoc::openapi();
    document.merge(authenticated_document);
    document.merge(event_stream_document);
    document.merge(public_document);
    let compressed = Router::new()
        .merge(authenticated)
        .merge(public)
        .merge(ui::router())
        .layer(compression());
    let router = Router::new()
        .merge(compressed)
        .merge(event_stream)
        .fallback(|| async {
            ApiError::not_found("no such route")
                .with_error("no_route")
                .into_response()
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method",
            )
            .into_response()
        })
        // One stack rather than one layer per call: each layer wraps every route again.
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                .layer(DefaultBodyLimit::max(state.config.body_limit))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    crate::metrics::track,
                )),
        )
        .with_state(state);
    let _ = DOCUMENT.set(document.clone());
    (router, document)
}
