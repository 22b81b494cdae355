//! The OpenAPI part of Okta's Factors API (`factors.rs`): its operations and schemas, merged
//! into the document `openapi.rs` serves, so schemathesis covers them.

use serde::Serialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use super::factors;

#[derive(OpenApi)]
#[openapi(
    paths(
        factors::list,
        factors::catalog,
        factors::get,
        factors::enroll,
        factors::activate,
        factors::verify,
        factors::delete,
    ),
    components(schemas(
        UserFactorDoc,
        CatalogEntryDoc,
        EnrollBody,
        PassCodeBody,
        VerifyResultDoc
    ))
)]
pub(crate) struct FactorsDoc;

/// A user's factor (Okta's `UserFactor`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserFactor)]
#[allow(dead_code)]
pub(crate) struct UserFactorDoc {
    id: String,
    #[schema(example = "token:software:totp")]
    factor_type: String,
    #[schema(example = "GOOGLE")]
    provider: String,
    vendor_name: String,
    #[schema(pattern = "^(PENDING_ACTIVATION|ACTIVE)$")]
    status: String,
    created: String,
    last_updated: String,
    /// `credentialId` (and `authenticatorName` for a passkey).
    #[schema(value_type = Object)]
    profile: Value,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
    /// While pending activation: `activation` with `sharedSecret`, `encoding`, `keyLength`,
    /// `timeStep` and `_links.qrcode`.
    #[serde(rename = "_embedded")]
    #[schema(value_type = Option<Object>)]
    embedded: Value,
}

/// One entry of the factor catalog.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserFactorSupported)]
#[allow(dead_code)]
pub(crate) struct CatalogEntryDoc {
    factor_type: String,
    provider: String,
    vendor_name: String,
    #[schema(pattern = "^(NOT_SETUP|PENDING_ACTIVATION|ACTIVE)$")]
    status: String,
    enrollment: String,
    #[serde(rename = "_links")]
    #[schema(value_type = Object)]
    links: Value,
}

/// A factor to enroll.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct EnrollBody {
    #[schema(example = "token:software:totp")]
    factor_type: String,
    #[schema(example = "GOOGLE")]
    provider: String,
}

/// A code from the authenticator.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(crate) struct PassCodeBody {
    #[schema(example = "123456")]
    pass_code: String,
}

/// A verification's outcome.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = VerifyUserFactorResponse)]
#[allow(dead_code)]
pub(crate) struct VerifyResultDoc {
    #[schema(example = "SUCCESS")]
    factor_result: String,
}
